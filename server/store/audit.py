"""The audit trail plugged into the Tencent gateway: `TencentGateway(..., audit=StoreCallAudit(store))`.

The gateway (server/tencent/gateway.py, protocol `CallAudit`) calls `started` before every mutating call and
`finished` after it, around all of that call's retries. This adapter turns the service's `Scope` into the
store's plain fields and takes from the Tencent parameters and reply only the named fields the audit keeps
(InstanceIds, ClientToken, RequestId, error code): never the parameters as a whole, which may hold a
password.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from server.compute.errors import ServiceError, Unavailable
from server.compute.ports import Scope
from server.store.base import AuditOutcome, AuditRecord, Store

log = logging.getLogger(__name__)


class StoreCallAudit:
    """Audit trail of every mutating Tencent call: a committed "started" record before, the outcome after."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def started(self, scope: Scope, action: str, params: Mapping[str, Any]) -> object:
        record = AuditRecord(
            subject=scope.caller or "unknown",
            tenant=scope.tenant,
            cluster=scope.cluster.uuid,
            region=scope.region,
            action=action,
            instance_ids=_instance_ids(params.get("InstanceIds"), params.get("InstanceId")),
            client_token=_text(params.get("ClientToken")),
            request_id=scope.request_id,
        )
        try:
            return self._store.audit_begin(record)
        except Exception:
            # No audit record, no cloud call: refuse rather than act untracked.
            log.exception("cannot write the audit record for %s; the call is refused", action)
            raise Unavailable(
                f"the audit trail cannot be written, so {action} was not sent; retry later",
                f"无法写入审计记录，{action} 未执行；请稍后重试",
                reason="AUDIT_UNAVAILABLE",
            ) from None

    def finished(
        self, handle: object, response: Mapping[str, Any] | None, error: ServiceError | None
    ) -> None:
        audit_id = str(handle)
        try:
            if error is not None:
                self._store.audit_end(
                    audit_id,
                    AuditOutcome.FAILED,
                    error_code=error.reason,
                    tencent_request_id=error.metadata.get("tencent_request_id") or None,
                )
            else:
                reply = response or {}
                self._store.audit_end(
                    audit_id,
                    AuditOutcome.SUCCEEDED,
                    tencent_request_id=_text(reply.get("RequestId")),
                    instance_ids=_instance_ids(reply.get("InstanceIdSet"), None),
                )
        except Exception:
            # The call has happened; failing the reply now would hide its result. The record stays
            # "started", which is exactly what an operator must then investigate.
            log.exception("cannot finish audit record %s", audit_id)


def _instance_ids(many: object, one: object) -> tuple[str, ...]:
    ids: list[str] = []
    if isinstance(many, Sequence) and not isinstance(many, str):
        ids.extend(str(i) for i in many)
    if isinstance(one, str) and one:
        ids.append(one)
    return tuple(dict.fromkeys(ids))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
