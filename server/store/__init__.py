"""Durable records: callers' idempotency keys and the audit trail of mutating calls (SQLite by default).

Wiring (server/app.py):
    store = open_store(store_settings)             # StoreSettings.from_mapping(the [store] table)
    audit = StoreCallAudit(store)                  # TencentGateway(..., audit=audit)
    create_instances(..., store=store)             # claim / complete around RunInstances
    store.close()                                  # at shutdown
"""

from server.store.audit import StoreCallAudit
from server.store.base import (
    AuditEntry,
    AuditOutcome,
    AuditRecord,
    AuditValueError,
    Claim,
    ClaimStatus,
    Store,
)
from server.store.idempotency import (
    client_token_for_key,
    fingerprint,
    idempotency_key_problem,
    idempotency_scope,
)
from server.store.settings import StoreConfigError, StoreSettings
from server.store.sqlite import SqliteStore


def open_store(settings: StoreSettings) -> Store:
    """The configured store (SQLite today; the place to choose another backend later)."""
    return SqliteStore.from_settings(settings)


__all__ = [
    "AuditEntry",
    "AuditOutcome",
    "AuditRecord",
    "AuditValueError",
    "Claim",
    "ClaimStatus",
    "SqliteStore",
    "Store",
    "StoreCallAudit",
    "StoreConfigError",
    "StoreSettings",
    "client_token_for_key",
    "fingerprint",
    "idempotency_key_problem",
    "idempotency_scope",
    "open_store",
]
