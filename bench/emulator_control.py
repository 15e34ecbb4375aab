"""A small client for the emulator's control API (`/_emulator/...`, JSON in and out; see TEAM.md)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from typing import Any, cast


class EmulatorControl:
    def __init__(self, base_url: str, timeout_s: float = 120.0) -> None:
        self._base = base_url.rstrip("/")
        self._timeout_s = timeout_s

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self._base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        # An explicit opener without proxy handlers: the emulator is on loopback, never behind a proxy.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=self._timeout_s) as reply:
            raw = reply.read()
        return json.loads(raw) if raw else None

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset", {})

    def add_account(self, secret_id: str, secret_key: str) -> None:
        self._call("POST", "/_emulator/accounts", {"SecretId": secret_id, "SecretKey": secret_key})

    def seed(
        self,
        secret_id: str,
        region: str,
        count: int,
        *,
        zone: str | None = None,
        name_prefix: str | None = None,
    ) -> list[str]:
        body: dict[str, Any] = {"SecretId": secret_id, "Region": region, "Count": count}
        if zone is not None:
            body["Zone"] = zone
        if name_prefix is not None:
            body["NamePrefix"] = name_prefix
        reply = self._call("POST", "/_emulator/seed", body)
        return list(reply["InstanceIds"])

    def add_fault(self, rule: Mapping[str, Any]) -> None:
        self._call("POST", "/_emulator/faults", rule)

    def clear_faults(self) -> None:
        self._call("DELETE", "/_emulator/faults")

    def set_config(self, **settings: Any) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("POST", "/_emulator/config", settings))

    def counters(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("GET", "/_emulator/counters"))

    def calls_by_action(self, secret_id: str) -> dict[str, int]:
        """Tencent API calls this account has made so far, per action (throttled calls included)."""
        calls = self.counters().get("Calls", {})
        return {str(k): int(v) for k, v in calls.get(secret_id, {}).items()}


def calls_between(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """Per-action call counts made between two `calls_by_action` readings (zero entries dropped)."""
    actions = set(before) | set(after)
    delta = {a: after.get(a, 0) - before.get(a, 0) for a in sorted(actions)}
    return {a: n for a, n in delta.items() if n}
