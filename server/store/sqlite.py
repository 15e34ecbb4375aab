"""`Store` on a SQLite file: idempotency records and the audit trail, durable and shared by replicas.

- WAL journal + `synchronous=FULL`: every commit is fsync'd before it returns, so an audit "started" record
  exists on disk before the cloud call it announces, and a crash or power loss cannot undo a commit.
- One connection per store guarded by a lock (SQLite runs one writer at a time anyway); other processes
  (replicas) on the same file are serialized by SQLite's file locks, waiting up to `busy_timeout_ms`.
- Writes take the write lock up front (`BEGIN IMMEDIATE`) so a read-then-write never deadlocks or loses to
  another writer halfway.
- The SQL is kept portable so a shared PostgreSQL can take this file's place: plain types (TEXT, INTEGER),
  times as fixed-width UTC text, ids made here rather than by the database, `INSERT ... ON CONFLICT DO
  NOTHING`. A PostgreSQL backend would change the placeholders (`?` -> `%s`), open its transactions with
  `BEGIN` plus `SELECT ... FOR UPDATE` where this file relies on `BEGIN IMMEDIATE`, and keep the rest.
- The file must live on a local filesystem (WAL needs shared memory; no NFS).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

from server.store.base import (
    AuditEntry,
    AuditOutcome,
    AuditRecord,
    Claim,
    ClaimStatus,
    check_instance_ids,
    check_outcome_fields,
    format_time,
    parse_time,
)
from server.store.idempotency import client_token_for_key, idempotency_key_problem
from server.store.settings import StoreSettings

SCHEMA_VERSION = 1
PURGE_INTERVAL_SECONDS = 600.0  # how often claim() opportunistically deletes expired keys
MAX_READ_LIMIT = 100_000

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS store_schema (
        version INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS idempotency_keys (
        scope        TEXT NOT NULL,
        idem_key     TEXT NOT NULL,
        fingerprint  TEXT NOT NULL,
        client_token TEXT NOT NULL,
        status       TEXT NOT NULL,          -- 'in_progress' | 'done'
        instance_ids TEXT NOT NULL,          -- JSON array of strings
        attempts     INTEGER NOT NULL,
        created_at   TEXT NOT NULL,          -- UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ
        updated_at   TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        PRIMARY KEY (scope, idem_key)
    )""",
    "CREATE INDEX IF NOT EXISTS idempotency_keys_expires ON idempotency_keys (expires_at)",
    """CREATE TABLE IF NOT EXISTS audit_log (
        audit_id           TEXT PRIMARY KEY,
        started_at         TEXT NOT NULL,
        finished_at        TEXT,
        subject            TEXT NOT NULL,
        tenant             TEXT NOT NULL,
        cluster            TEXT NOT NULL,
        region             TEXT NOT NULL,
        action             TEXT NOT NULL,
        instance_ids       TEXT NOT NULL,    -- JSON array of strings
        client_token       TEXT,
        request_id         TEXT,
        outcome            TEXT NOT NULL,    -- 'started' | 'succeeded' | 'failed'
        error_code         TEXT,
        tencent_request_id TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS audit_log_started ON audit_log (started_at)",
    "CREATE INDEX IF NOT EXISTS audit_log_tenant_started ON audit_log (tenant, started_at)",
)

_AUDIT_COLUMNS = (
    "audit_id, started_at, finished_at, subject, tenant, cluster, region, action, instance_ids, "
    "client_token, request_id, outcome, error_code, tencent_request_id"
)


class StoreSchemaError(RuntimeError):
    """The database was written by a newer version of the service."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqliteStore:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        idempotency_ttl: timedelta = timedelta(hours=24),
        busy_timeout_ms: int = 5000,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.path = Path(path)
        self._ttl = idempotency_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._last_purge = float("-inf")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Create the file owner-only before SQLite does (its -wal/-shm files copy these permissions).
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(
            self.path,
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,  # transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
            check_same_thread=False,  # shared by grpc's worker threads, serialized by self._lock
        )
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"cannot switch {self.path} to WAL mode (got {mode})")
            self._db.execute("PRAGMA synchronous = FULL")
            self._create_schema()
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> Self:
        return cls(
            settings.path,
            idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours),
            busy_timeout_ms=settings.busy_timeout_ms,
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock from the start; committed (fsync'd) on exit."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _create_schema(self) -> None:
        with self._transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)
            row = db.execute("SELECT MAX(version) FROM store_schema").fetchone()
            if row[0] is None:
                db.execute("INSERT INTO store_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise StoreSchemaError(
                    f"{self.path} has store schema {row[0]}; this service knows up to {SCHEMA_VERSION}"
                )

    # --- idempotency keys -------------------------------------------------------------------------------

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim:
        problem = idempotency_key_problem(key)
        if problem is not None:
            raise ValueError(problem)
        if not scope or not fingerprint:
            raise ValueError("claim needs a scope and a fingerprint")
        self._purge_now_and_then()
        now = self._clock()
        token = client_token_for_key(scope, key)
        now_text, expires_text = format_time(now), format_time(now + self._ttl)
        with self._transaction() as db:
            inserted = db.execute(
                "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, client_token, status, "
                "instance_ids, attempts, created_at, updated_at, expires_at) "
                "VALUES (?, ?, ?, ?, 'in_progress', '[]', 1, ?, ?, ?) "
                "ON CONFLICT (scope, idem_key) DO NOTHING",
                (scope, key, fingerprint, token, now_text, now_text, expires_text),
            ).rowcount
            if inserted:
                return Claim(ClaimStatus.NEW, token, first_seen=now)
            stored_fingerprint, status, ids_json, attempts, created_at, expires_at = db.execute(
                "SELECT fingerprint, status, instance_ids, attempts, created_at, expires_at "
                "FROM idempotency_keys WHERE scope = ? AND idem_key = ?",
                (scope, key),
            ).fetchone()
            if parse_time(expires_at) <= now:
                # Forgotten: the key starts afresh (same token, as it derives from the key).
                db.execute(
                    "UPDATE idempotency_keys SET fingerprint = ?, client_token = ?, status = 'in_progress', "
                    "instance_ids = '[]', attempts = 1, created_at = ?, updated_at = ?, expires_at = ? "
                    "WHERE scope = ? AND idem_key = ?",
                    (fingerprint, token, now_text, now_text, expires_text, scope, key),
                )
                return Claim(ClaimStatus.NEW, token, first_seen=now)
            first_seen = parse_time(created_at)
            if stored_fingerprint != fingerprint:
                return Claim(ClaimStatus.CONFLICT, token, attempts=attempts, first_seen=first_seen)
            db.execute(
                "UPDATE idempotency_keys SET attempts = attempts + 1, updated_at = ?, expires_at = ? "
                "WHERE scope = ? AND idem_key = ?",
                (now_text, expires_text, scope, key),
            )
            if status == "done":
                ids = tuple(json.loads(ids_json))
                return Claim(ClaimStatus.DONE, token, ids, attempts + 1, first_seen)
            return Claim(ClaimStatus.IN_PROGRESS, token, (), attempts + 1, first_seen)

    def complete(self, scope: str, key: str, instance_ids: Sequence[str]) -> tuple[str, ...]:
        ids = tuple(instance_ids)
        check_instance_ids(ids)
        now = self._clock()
        with self._transaction() as db:
            row = db.execute(
                "SELECT status, instance_ids FROM idempotency_keys WHERE scope = ? AND idem_key = ?",
                (scope, key),
            ).fetchone()
            if row is None:
                raise LookupError("complete() for an idempotency key that was never claimed")
            if row[0] == "done":
                return tuple(json.loads(row[1]))
            db.execute(
                "UPDATE idempotency_keys SET status = 'done', instance_ids = ?, updated_at = ?, "
                "expires_at = ? WHERE scope = ? AND idem_key = ?",
                (json.dumps(ids), format_time(now), format_time(now + self._ttl), scope, key),
            )
            return ids

    def purge_expired(self) -> int:
        now_text = format_time(self._clock())
        with self._transaction() as db:
            deleted: int = db.execute(
                "DELETE FROM idempotency_keys WHERE expires_at <= ?", (now_text,)
            ).rowcount
        self._last_purge = time.monotonic()
        return deleted

    def _purge_now_and_then(self) -> None:
        if time.monotonic() - self._last_purge >= PURGE_INTERVAL_SECONDS:
            self.purge_expired()

    # --- audit trail ------------------------------------------------------------------------------------

    def audit_begin(self, record: AuditRecord) -> str:
        audit_id = uuid.uuid4().hex
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) "
                "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, 'started', NULL, NULL)",
                (
                    audit_id,
                    format_time(self._clock()),
                    record.subject,
                    record.tenant,
                    record.cluster,
                    record.region,
                    record.action,
                    json.dumps(list(record.instance_ids)),
                    record.client_token,
                    record.request_id,
                ),
            )
        return audit_id

    def audit_end(
        self,
        audit_id: str,
        outcome: AuditOutcome,
        error_code: str | None = None,
        tencent_request_id: str | None = None,
        instance_ids: Sequence[str] = (),
    ) -> None:
        outcome = AuditOutcome(outcome)
        if outcome is AuditOutcome.STARTED:
            raise ValueError("audit_end takes the final outcome: succeeded or failed")
        check_outcome_fields(error_code, tencent_request_id)
        check_instance_ids(tuple(instance_ids))
        with self._transaction() as db:
            row = db.execute(
                "SELECT outcome, instance_ids FROM audit_log WHERE audit_id = ?", (audit_id,)
            ).fetchone()
            if row is None:
                raise LookupError("audit_end() for an unknown audit_id")
            if row[0] != AuditOutcome.STARTED:
                raise ValueError("audit_end() for a record that is already finished")
            merged = list(dict.fromkeys([*json.loads(row[1]), *instance_ids]))
            db.execute(
                "UPDATE audit_log SET finished_at = ?, outcome = ?, error_code = ?, tencent_request_id = ?, "
                "instance_ids = ? WHERE audit_id = ?",
                (
                    format_time(self._clock()),
                    str(outcome),
                    error_code,
                    tencent_request_id,
                    json.dumps(merged),
                    audit_id,
                ),
            )

    def read_audit(
        self, limit: int = 100, since: datetime | None = None, tenant: str | None = None
    ) -> list[AuditEntry]:
        if not 1 <= limit <= MAX_READ_LIMIT:
            raise ValueError(f"limit must be from 1 to {MAX_READ_LIMIT}")
        conditions: list[str] = []
        params: list[Any] = []
        if since is not None:
            conditions.append("started_at >= ?")
            params.append(format_time(since))
        if tenant is not None:
            conditions.append("tenant = ?")
            params.append(tenant)
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_AUDIT_COLUMNS} FROM audit_log {where}"
                "ORDER BY started_at DESC, audit_id DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [_audit_entry(row) for row in reversed(rows)]

    def get_audit(self, audit_id: str) -> AuditEntry | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE audit_id = ?", (audit_id,)
            ).fetchone()
        return _audit_entry(row) if row is not None else None


def _audit_entry(row: tuple[Any, ...]) -> AuditEntry:
    (
        audit_id,
        started_at,
        finished_at,
        subject,
        tenant,
        cluster,
        region,
        action,
        instance_ids,
        client_token,
        request_id,
        outcome,
        error_code,
        tencent_request_id,
    ) = row
    return AuditEntry(
        audit_id=audit_id,
        started_at=parse_time(started_at),
        finished_at=parse_time(finished_at) if finished_at else None,
        subject=subject,
        tenant=tenant,
        cluster=cluster,
        region=region,
        action=action,
        instance_ids=tuple(json.loads(instance_ids)),
        client_token=client_token,
        request_id=request_id,
        outcome=AuditOutcome(outcome),
        error_code=error_code,
        tencent_request_id=tencent_request_id,
    )
