"""The durable store behind idempotent writes and the audit trail: its interface and record types.

Any backend (SQLite today, a shared PostgreSQL tomorrow) implements `Store`. Records carry only named,
validated fields: there is no free-form blob, so a password or SecretKey has nowhere to go, and text fields
refuse control characters (no forged lines in a printed audit) and oversized values.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


class ClaimStatus(enum.StrEnum):
    NEW = "new"  # first time this key is seen: proceed, using Claim.client_token
    IN_PROGRESS = "in_progress"  # same key, same request, not completed: proceed with the SAME client_token
    DONE = "done"  # same key, same request, completed: answer Claim.instance_ids, call nothing
    CONFLICT = "conflict"  # same key, different request: reject


@dataclass(frozen=True)
class Claim:
    status: ClaimStatus
    client_token: str  # the RunInstances ClientToken for this key (deterministic: same key -> same token)
    instance_ids: tuple[str, ...] = ()  # DONE only
    attempts: int = 1  # how many requests have claimed this key (1 for NEW)
    first_seen: datetime | None = None  # when the key was first claimed (UTC)


class AuditOutcome(enum.StrEnum):
    STARTED = "started"  # written before the cloud call; still "started" later = the process died mid-call
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class AuditValueError(ValueError):
    """A field of an audit record is malformed. Names the field, never echoes the value."""


@dataclass(frozen=True)
class AuditRecord:
    """What is known before a mutating cloud call. Validated on construction."""

    subject: str  # authenticated caller ("anonymous" in auth mode none)
    tenant: str
    cluster: str
    region: str
    action: str  # the Tencent action, e.g. "RunInstances", "TerminateInstances"
    instance_ids: tuple[str, ...] = ()  # the instances acted on (empty for RunInstances until it returns)
    client_token: str | None = None  # RunInstances ClientToken
    request_id: str | None = None  # the service's request id (x-request-id)

    def __post_init__(self) -> None:
        object.__setattr__(self, "instance_ids", tuple(self.instance_ids))
        check_text("subject", self.subject, 256)
        check_pattern("tenant", self.tenant, _NAME)
        check_pattern("cluster", self.cluster, _NAME)
        check_pattern("region", self.region, _REGION)
        check_pattern("action", self.action, _ACTION)
        check_instance_ids(self.instance_ids)
        if self.client_token is not None:
            check_pattern("client_token", self.client_token, _CLIENT_TOKEN)
        if self.request_id is not None:
            check_text("request_id", self.request_id, 128)


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit trail as read back."""

    audit_id: str
    started_at: datetime
    finished_at: datetime | None
    subject: str
    tenant: str
    cluster: str
    region: str
    action: str
    instance_ids: tuple[str, ...]
    client_token: str | None
    request_id: str | None
    outcome: AuditOutcome
    error_code: str | None
    tencent_request_id: str | None

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape (docs/security.md), keys in this order."""
        return {
            "audit_id": self.audit_id,
            "started_at": format_time(self.started_at),
            "finished_at": format_time(self.finished_at) if self.finished_at else None,
            "subject": self.subject,
            "tenant": self.tenant,
            "cluster": self.cluster,
            "region": self.region,
            "action": self.action,
            "instance_ids": list(self.instance_ids),
            "client_token": self.client_token,
            "request_id": self.request_id,
            "outcome": str(self.outcome),
            "error_code": self.error_code,
            "tencent_request_id": self.tencent_request_id,
        }


class Store(Protocol):
    # --- idempotency keys ---
    def claim(self, scope: str, key: str, fingerprint: str) -> Claim:
        """Record (scope, key) for a request with this fingerprint, atomically across threads, processes and
        replicas sharing the database; say what the caller must do (see ClaimStatus)."""
        ...

    def complete(self, scope: str, key: str, instance_ids: Sequence[str]) -> tuple[str, ...]:
        """Mark the claimed key done with its InstanceIds; returns the stored ids (the first completion wins
        if two requests raced with the same key). LookupError if the key was never claimed."""
        ...

    def purge_expired(self) -> int:
        """Delete idempotency records past their TTL; returns how many. Also done automatically."""
        ...

    # --- audit trail ---
    def audit_begin(self, record: AuditRecord) -> str:
        """Append a "started" record, durably committed before returning; returns its audit_id."""
        ...

    def audit_end(
        self,
        audit_id: str,
        outcome: AuditOutcome,
        error_code: str | None = None,
        tencent_request_id: str | None = None,
        instance_ids: Sequence[str] = (),
    ) -> None:
        """Finish a started record (SUCCEEDED or FAILED); instance_ids join those recorded at begin."""
        ...

    def read_audit(
        self, limit: int = 100, since: datetime | None = None, tenant: str | None = None
    ) -> list[AuditEntry]:
        """The newest `limit` records (started at or after `since`, of `tenant`), oldest first."""
        ...

    def get_audit(self, audit_id: str) -> AuditEntry | None: ...

    def close(self) -> None: ...


# --- field rules (shared by every backend) ---------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")  # tenant and cluster ids
_REGION = re.compile(r"[a-z]{2,4}-[a-z0-9-]{1,40}")  # ap-guangzhou, na-siliconvalley
_ACTION = re.compile(r"[A-Z][A-Za-z0-9]{0,63}")  # Tencent action names
_RESOURCE_ID = re.compile(r"[a-z]{2,8}-[0-9a-z]{4,32}")  # ins-2n9bmcww
_CLIENT_TOKEN = re.compile(r"[\x21-\x7e]{1,64}")  # Tencent: up to 64 ASCII characters
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,127}")  # InvalidZone.MismatchRegion, DEADLINE_EXCEEDED
_TENCENT_REQUEST_ID = re.compile(r"[0-9A-Za-z-]{1,128}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_INSTANCE_IDS = 1000


def check_pattern(name: str, value: object, pattern: re.Pattern[str]) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise AuditValueError(f"audit field {name!r} is missing or malformed")


def check_text(name: str, value: object, max_length: int) -> None:
    if not isinstance(value, str) or not value or len(value) > max_length or _CONTROL.search(value):
        raise AuditValueError(
            f"audit field {name!r} must be 1-{max_length} characters without control characters"
        )


def check_instance_ids(ids: Sequence[str]) -> None:
    if len(ids) > MAX_INSTANCE_IDS:
        raise AuditValueError(f"audit field 'instance_ids' holds more than {MAX_INSTANCE_IDS} ids")
    for value in ids:
        check_pattern("instance_ids", value, _RESOURCE_ID)


def check_outcome_fields(error_code: str | None, tencent_request_id: str | None) -> None:
    if error_code is not None:
        check_pattern("error_code", error_code, _ERROR_CODE)
    if tencent_request_id is not None:
        check_pattern("tencent_request_id", tencent_request_id, _TENCENT_REQUEST_ID)


# --- time: UTC, one fixed-width text form, so text order is time order in any SQL database ---------------


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the store only takes timezone-aware (UTC) times")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)  # Python 3.11 reads the trailing "Z" as UTC
