"""create: RunInstances with the legacy defaults, always with a ClientToken.

The ClientToken makes Tencent itself ignore a repeated RunInstances, so the service's own retries never
create machines twice (the gateway builds the parameters once and every retry resends them). With a
caller's key (the request's ClientToken field or the Idempotency-Key header) the token is derived from the
key deterministically (server/store/idempotency.py), so the caller's retries send it again too; without a
key, a fresh token is made once per request.

The store remembers each key's answer: the same key with the same request returns the same InstanceIds
without calling Tencent, and the same key with another request is rejected.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from server.compute.batching import unique_ids
from server.compute.errors import AlreadyExists
from server.compute.ports import Cloud, Scope
from server.store.base import ClaimStatus, Store
from server.store.idempotency import fingerprint, idempotency_scope

OPERATION = "Create"

DEFAULTS: Mapping[str, Any] = {
    "InstanceChargeType": "POSTPAID_BY_HOUR",  # Tencent's own default; the legacy example omits it
    "InstanceCount": 1,
    "InstanceName": "未命名",
}


def run_instances_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's create parameters (Tencent names, unset fields absent) -> RunInstances parameters,
    without the ClientToken."""
    run = {**DEFAULTS, **{k: v for k, v in params.items() if v not in (None, "", [], {})}}
    # The legacy example sends `securityGroupId`; accept it as (and together with) SecurityGroupIds.
    security_groups = unique_ids(run.pop("SecurityGroupIds", []), run.pop("securityGroupId", []))
    if security_groups:
        run["SecurityGroupIds"] = security_groups
    run.pop("ClientToken", None)  # the caller's key is never sent raw: see the module docstring
    return run


def key_scope(scope: Scope) -> str:
    return idempotency_scope(
        tenant=scope.tenant, cluster=scope.cluster.uuid, region=scope.region, operation=OPERATION
    )


def create_instances(
    cloud: Cloud,
    scope: Scope,
    params: Mapping[str, Any],
    *,
    idempotency_key: str | None,
    store: Store,
) -> list[str]:
    """Create the instances; returns their InstanceIds."""
    run = run_instances_params(params)
    if not idempotency_key:
        run["ClientToken"] = uuid.uuid4().hex
        return _run_instances(cloud, scope, run)

    claim = store.claim(key_scope(scope), idempotency_key, fingerprint(run))
    if claim.status is ClaimStatus.DONE:
        return list(claim.instance_ids)
    if claim.status is ClaimStatus.CONFLICT:
        raise AlreadyExists(
            "this idempotency key was already used for a different create request; use a new key",
            "该幂等键已用于另一个不同的创建请求，请使用新的幂等键",
            reason="IDEMPOTENCY_KEY_REUSED",
        )
    # NEW or IN_PROGRESS (an earlier identical attempt did not finish): the same token either way, so
    # Tencent answers a repeat with the instances it already made.
    run["ClientToken"] = claim.client_token
    instance_ids = _run_instances(cloud, scope, run)
    return list(store.complete(key_scope(scope), idempotency_key, instance_ids))


def _run_instances(cloud: Cloud, scope: Scope, run: dict[str, Any]) -> list[str]:
    response = cloud.call(scope, "cvm", "RunInstances", run, write=True)
    return [str(i) for i in response.get("InstanceIdSet") or []]
