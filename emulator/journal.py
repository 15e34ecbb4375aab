"""A bounded record of the cloud calls that reached the model, readable through the control API.

Tests and demos sometimes must see what a client actually sent, not only its effect: the StopType a
service chose, or that every retry of a RunInstances carried the same ClientToken. Passwords are redacted
before anything is kept, so the journal can never hand one back.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from emulator.backend import CallContext

DEFAULT_CAPACITY = 2000
REDACTED = "***"


def redact(value: Any) -> Any:
    """A copy of `value` with every member whose name mentions a password replaced by ***."""
    if isinstance(value, dict):
        return {
            name: REDACTED if "password" in name.lower() else redact(member) for name, member in value.items()
        }
    if isinstance(value, list):
        return [redact(member) for member in value]
    return value


class Journal:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(self, ctx: CallContext, params: dict[str, Any]) -> None:
        entry = {
            "Time": time.time(),
            "SecretId": ctx.account,
            "Service": ctx.service,
            "Action": ctx.action,
            "Region": ctx.region,
            "RequestId": ctx.request_id,
            "Params": redact(params),
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """Oldest first; at most the capacity's worth of the latest calls."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
