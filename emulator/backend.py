"""The seam between the emulator's HTTP layer (wire protocol, auth, throttling, faults, control API)
and its cloud model (accounts, catalog, instances, lifecycle, actions).

The HTTP layer authenticates and parses a request into plain parameters, then hands it to a `Backend`.
The backend validates parameters against the official spec and runs the action. Neither side knows the
other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class CallContext:
    account: str  # the SecretId that signed the request; state is kept per account
    service: str  # "cvm" or "vpc", from the credential scope
    action: str  # X-TC-Action
    version: str  # X-TC-Version
    region: str  # X-TC-Region ("" when absent)
    language: str  # "zh-CN" or "en-US"
    request_id: str  # the RequestId this reply will carry


class Backend(Protocol):
    def secret_key_for(self, secret_id: str) -> str | None:
        """The SecretKey of an account, or None when the SecretId is unknown."""

    def dispatch(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        """Run one action. Returns the Response body without RequestId; raises ApiError."""

    # --- control API hooks (used by /_emulator/...) ---
    def reset(self) -> None:
        """Back to the fixtures: accounts, catalog and instances as loaded at start."""

    def add_account(self, secret_id: str, secret_key: str) -> None: ...

    def seed_instances(self, account: str, region: str, count: int, **options: Any) -> list[str]:
        """Create `count` RUNNING instances at once (no lifecycle delay); returns their IDs."""

    def set_timings(self, **seconds: float) -> dict[str, float]:
        """Change lifecycle transition times; returns the timings now in force."""

    def set_launch_failure(self, probability: float) -> None:
        """Make RunInstances end in LAUNCH_FAILED with this probability."""

    def instance_counts(self) -> dict[str, dict[str, int]]:
        """Instances that exist, per account and region (for counters)."""
