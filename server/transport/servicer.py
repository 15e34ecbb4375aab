"""ComputeService over gRPC: proto -> use-case arguments, result -> proto reply in the legacy envelope.

Nothing here decides anything about instances: each RPC resolves the request's scope (tenant, cluster,
region, deadline, request id), calls one use case and wraps its result. Errors leave through
`abort_with_error` (rich status + legacy envelope trailer); anything unexpected becomes INTERNAL with a
generic message, never a traceback.

Order of checks for every RPC (server/validation.py has the rules):
1. everything the request alone shows (formats, ranges, the Idempotency-Key header): INVALID_ARGUMENT,
   before any lookup or cloud call;
2. the caller may act for the tenant (PERMISSION_DENIED), the tenant owns the cluster (NOT_FOUND);
3. what only Tencent knows, from a cache (server/compute/catalog.py): the Region exists for the cluster,
   the Placement.Zone is one of its zones, the image's platform picks the Linux or Windows password rule:
   INVALID_ARGUMENT again. Checked after 2, so nobody learns anything about a cluster they may not use and
   no lookup is made with its credentials on their behalf.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import grpc
from google.protobuf import struct_pb2
from tencent.compute.v1 import compute_pb2 as pb
from tencent.compute.v1 import compute_pb2_grpc

from server.compute.catalog import PlacementCatalog
from server.compute.create import create_instances
from server.compute.delete import delete_instances
from server.compute.enrichment import NameSource
from server.compute.errors import Internal, ServiceError
from server.compute.inspect import inspect_instance
from server.compute.listing import InstanceLister, ListQuery
from server.compute.ports import Cloud, Scope
from server.compute.power import turn_off, turn_on
from server.compute.reset import reset_instance
from server.compute.update import update_instances
from server.observability.interceptor import request_id_for_context
from server.registry import ClusterRegistry
from server.store.base import Store
from server.store.idempotency import idempotency_key_problem
from server.transport.convert import dict_to_message, message_to_params
from server.transport.errors import abort_with_error
from server.validation import ValidationContext, Violation, invalid_argument, validate_request

log = logging.getLogger(__name__)

R = TypeVar("R")

# Request fields that select the scope; everything else of a request is the operation's own input.
SCOPE_FIELDS = ("TenantUuid", "ClusterUuid", "Region")
IDEMPOTENCY_HEADER = "idempotency-key"
CALLER_ERROR_CODES = frozenset(
    {"INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "ALREADY_EXISTS", "PERMISSION_DENIED"}
)
# grpcio reports "no deadline" as a huge remaining time; beyond this many seconds we treat it as none.
NO_DEADLINE_THRESHOLD_SECONDS = 10 * 365 * 24 * 3600.0
# The service stops working this long before the caller's deadline, so that its own answer (with details
# and the legacy envelope) reaches the caller before the caller's bare DEADLINE_EXCEEDED fires.
DEADLINE_MARGIN_SECONDS = 0.2

# What validation may know beyond the request, for a request in a resolved scope (may call Tencent, cached).
ValidationContextSource = Callable[[Any, Scope], ValidationContext]


class TenantAccess(Protocol):
    def authorize(self, tenant: str) -> str:
        """Raise PERMISSION_DENIED unless the current caller may act for `tenant`; return the caller's
        subject (for the audit trail). server/transport/access.py implements it."""
        ...


def metadata_value(context: grpc.ServicerContext, key: str) -> str | None:
    for name, value in context.invocation_metadata() or ():
        if name == key and isinstance(value, str):
            return value
    return None


def catalog_validation_context(catalog: PlacementCatalog) -> ValidationContextSource:
    """The validation context of each request from the catalog: the Region's existence for every RPC,
    the zones for create (Placement.Zone), the image's platform when a password or key pair is set
    (create, reset), since only the login rules depend on it."""

    def context_for(request: Any, scope: Scope) -> ValidationContext:
        image_id: str | None = None
        if isinstance(request, pb.CreateRequest | pb.ResetRequest) and request.HasField("LoginSettings"):
            login = request.LoginSettings
            if login.Password or login.KeyIds:
                image_id = request.ImageId
        return catalog.validation_context(
            scope, zones=isinstance(request, pb.CreateRequest), image_id=image_id
        )

    return context_for


def idempotency_violations(
    request: pb.CreateRequest, context: grpc.ServicerContext, found: list[Violation]
) -> list[Violation]:
    """The caller's idempotency key, field or header (server/store/idempotency.py decides what is a key).
    Rejected here, as INVALID_ARGUMENT, rather than by the store later (which would be INTERNAL)."""
    violations: list[Violation] = []
    token: str = request.ClientToken
    already = any(v.field == "ClientToken" for v in found)  # check_client_token said it already
    if token and not already and idempotency_key_problem(token) is not None:
        violations.append(
            Violation(
                "ClientToken",
                "INVALID_FORMAT",
                "must be 1-64 printable ASCII characters, not only spaces",
                "必须为 1 到 64 个可打印 ASCII 字符，且不能只有空格",
            )
        )
    headers = {
        value
        for name, value in context.invocation_metadata() or ()
        if name == IDEMPOTENCY_HEADER and isinstance(value, str)
    }
    if len(headers) > 1:
        violations.append(
            Violation(
                "Idempotency-Key",
                "DUPLICATE",
                "the Idempotency-Key header was given more than once with different values",
                "Idempotency-Key 请求头出现多次且取值不同",
            )
        )
    elif headers:
        problem = idempotency_key_problem(next(iter(headers)))
        if problem is not None:
            violations.append(
                Violation(
                    "Idempotency-Key",
                    "INVALID_FORMAT",
                    f"header: {problem}",
                    "请求头：幂等键必须为 1 到 255 个可打印 ASCII 字符，且不能只有空格",
                )
            )
    return violations


def _success(response: R) -> R:
    """Fill the legacy envelope of a reply whose `data` is already set."""
    reply: Any = response
    reply.scode = 0
    reply.desc = ""
    reply.message = "success"
    reply.message_cn = "成功"
    reply.stack.null_value = struct_pb2.NULL_VALUE
    reply.data.SetInParent()  # `"data": {}` even when it has nothing in it
    return response


class ComputeServicer(compute_pb2_grpc.ComputeServiceServicer):
    def __init__(
        self,
        *,
        cloud: Cloud,
        registry: ClusterRegistry,
        names: NameSource,
        lister: InstanceLister,
        default_deadline_seconds: float,
        tenant_access: TenantAccess,
        store: Store,
        validation_context: ValidationContextSource,
    ) -> None:
        self._cloud = cloud
        self._registry = registry
        self._names = names
        self._lister = lister
        self._default_deadline = default_deadline_seconds
        self._tenant_access = tenant_access
        self._store = store
        # What validation may know beyond the request (region, zones, image platform).
        self._validation_context = validation_context

    # --- RPCs ---

    def Create(self, request: pb.CreateRequest, context: grpc.ServicerContext) -> pb.CreateResponse:
        def run(scope: Scope) -> pb.CreateResponse:
            params = message_to_params(request, exclude=SCOPE_FIELDS)
            key = request.ClientToken or metadata_value(context, IDEMPOTENCY_HEADER) or None
            ids = create_instances(self._cloud, scope, params, idempotency_key=key, store=self._store)
            return _success(pb.CreateResponse(data=pb.CreateData(InstanceIds=ids)))

        return self._serve("Create", request, context, run)

    def Delete(self, request: pb.DeleteRequest, context: grpc.ServicerContext) -> pb.DeleteResponse:
        def run(scope: Scope) -> pb.DeleteResponse:
            delete_instances(self._cloud, scope, list(request.InstanceIds))
            return _success(pb.DeleteResponse())

        return self._serve("Delete", request, context, run)

    def Update(self, request: pb.UpdateRequest, context: grpc.ServicerContext) -> pb.UpdateResponse:
        def run(scope: Scope) -> pb.UpdateResponse:
            update_instances(
                self._cloud,
                scope,
                list(request.InstanceIds),
                instance_name=request.InstanceName,
                security_groups=list(request.SecurityGroups),
            )
            return _success(pb.UpdateResponse())

        return self._serve("Update", request, context, run)

    def Reset(self, request: pb.ResetRequest, context: grpc.ServicerContext) -> pb.ResetResponse:
        def run(scope: Scope) -> pb.ResetResponse:
            params = message_to_params(request, exclude=(*SCOPE_FIELDS, "InstanceId"))
            reset_instance(self._cloud, scope, request.InstanceId, params)
            return _success(pb.ResetResponse())

        return self._serve("Reset", request, context, run)

    def List(self, request: pb.ListRequest, context: grpc.ServicerContext) -> pb.ListResponse:
        def run(scope: Scope) -> pb.ListResponse:
            query = ListQuery(offset=request.PageNum, page_size=request.PageSize, fuzzy=request.Fuzzy)
            result = self._lister.list_page(scope, query)
            data = pb.ListData(TotalCount=result.total_count, VpcName=result.vpc_names)
            for instance in result.instances:
                dict_to_message(instance, data.List.add())
            return _success(pb.ListResponse(data=data))

        return self._serve("List", request, context, run)

    def Inspect(self, request: pb.InspectRequest, context: grpc.ServicerContext) -> pb.InspectResponse:
        def run(scope: Scope) -> pb.InspectResponse:
            instance = inspect_instance(self._cloud, self._names, scope, request.InstanceId)
            return _success(pb.InspectResponse(data=dict_to_message(instance, pb.Instance())))

        return self._serve("Inspect", request, context, run)

    def TurnOn(self, request: pb.TurnOnRequest, context: grpc.ServicerContext) -> pb.TurnOnResponse:
        def run(scope: Scope) -> pb.TurnOnResponse:
            turn_on(self._cloud, scope, [*request.InstanceId, *request.InstanceIds])
            return _success(pb.TurnOnResponse())

        return self._serve("TurnOn", request, context, run)

    def TurnOff(self, request: pb.TurnOffRequest, context: grpc.ServicerContext) -> pb.TurnOffResponse:
        def run(scope: Scope) -> pb.TurnOffResponse:
            ids = [*request.InstanceId, *request.InstanceIds]
            turn_off(self._cloud, scope, ids, force_stop=request.ForceStop)
            return _success(pb.TurnOffResponse())

        return self._serve("TurnOff", request, context, run)

    # --- shared plumbing ---

    def _serve(
        self, method: str, request: Any, context: grpc.ServicerContext, run: Callable[[Scope], R]
    ) -> R:
        # The id the observability interceptor chose (Envoy's x-request-id when well formed): the one in
        # the logs, in the error metadata and in Tencent's trace header.
        request_id = request_id_for_context(context)
        try:
            return run(self._scope(request, context, request_id))
        except ServiceError as error:
            # The caller's mistakes are routine; trouble on our side or Tencent's deserves attention.
            level = logging.INFO if error.code in CALLER_ERROR_CODES else logging.WARNING
            log.log(
                level,
                "%s failed: %s %s: %s",
                method,
                error.code,
                error.reason,
                error.message,
                extra={"request_id": request_id},
            )
            abort_with_error(context, error)
        except Exception:
            log.exception("%s failed unexpectedly", method, extra={"request_id": request_id})
            abort_with_error(
                context,
                Internal(
                    "internal error; the service logged the details under this request id",
                    "服务内部错误，详情已按请求 ID 记录在服务日志中",
                    reason="INTERNAL",
                ),
            )

    def _scope(self, request: Any, context: grpc.ServicerContext, request_id: str) -> Scope:
        # 1. Every problem the request alone shows, at once, before any lookup or cloud call.
        violations = validate_request(request)
        if isinstance(request, pb.CreateRequest):
            violations += idempotency_violations(request, context, violations)
        if violations:
            raise invalid_argument(violations)
        # 2. Who may act where: PERMISSION_DENIED, then NOT_FOUND for a cluster the tenant does not own.
        tenant: str = request.TenantUuid
        caller = self._tenant_access.authorize(tenant)
        cluster = self._registry.resolve(tenant, request.ClusterUuid)
        remaining = context.time_remaining()
        if remaining is None or remaining > NO_DEADLINE_THRESHOLD_SECONDS:
            remaining = self._default_deadline
        else:
            remaining = max(0.0, remaining - DEADLINE_MARGIN_SECONDS)
        scope = Scope(
            cluster=cluster,
            region=request.Region,
            tenant=tenant,
            deadline=time.monotonic() + remaining,
            request_id=request_id,
            caller=caller,
        )
        # 3. What only Tencent knows (region and zone existence, the image's platform), cached.
        violations = validate_request(request, self._validation_context(request, scope))
        if violations:
            raise invalid_argument(violations)
        return scope
