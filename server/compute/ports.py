"""What the use cases need from the outside world, as small interfaces.

`Scope` says on whose behalf and where a use case runs; `Cloud` is the only way a use case reaches Tencent
(implemented by server/tencent/gateway.py). Use cases pass Tencent parameters as plain dicts keyed by
Tencent's own names and get the `Response` object back as a dict, without `RequestId` handling: errors
arrive as `ServiceError`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from server.config import ClusterConfig

TencentService = Literal["cvm", "vpc"]


@dataclass(frozen=True)
class Scope:
    cluster: ClusterConfig
    region: str
    tenant: str
    deadline: float | None = None  # time.monotonic() instant after which nothing more is attempted
    request_id: str | None = None  # sent to Tencent as X-TC-TraceId, logged, put in error metadata
    caller: str | None = None  # authenticated subject, for the audit trail

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or None when unbounded."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())


class Cloud(Protocol):
    def call(
        self,
        scope: Scope,
        service: TencentService,
        action: str,
        params: dict[str, Any],
        *,
        write: bool,
    ) -> dict[str, Any]:
        """Run one Tencent API action for `scope.cluster` in `scope.region`; returns the Response dict.

        `write` tells the retry policy whether repeating the call could repeat a side effect.
        Raises ServiceError (already mapped from Tencent's error code, with tencent_request_id metadata).
        """
        ...
