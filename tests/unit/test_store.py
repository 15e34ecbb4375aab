"""Idempotency records on real SQLite files: claim outcomes, restarts, replicas (threads and processes on one
file), TTL and the fingerprint helper."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.store import (
    ClaimStatus,
    SqliteStore,
    StoreConfigError,
    StoreSettings,
    client_token_for_key,
    fingerprint,
    idempotency_key_problem,
    idempotency_scope,
    open_store,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCOPE = idempotency_scope(tenant="tenant-a", cluster="cluster-1", region="ap-guangzhou", operation="create")
FP1 = fingerprint({"InstanceType": "S5.MEDIUM2", "InstanceCount": 2})
FP2 = fingerprint({"InstanceType": "S5.LARGE8", "InstanceCount": 2})
IDS = ("ins-aaaa1111", "ins-bbbb2222")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "compute.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(db_path) as s:
        yield s


# --- settings ------------------------------------------------------------------------------------------


def test_store_settings() -> None:
    assert StoreSettings.from_mapping({}) == StoreSettings(Path("var/compute.db"), 24.0, 5000)
    custom = StoreSettings.from_mapping(
        {"path": "/tmp/x.db", "idempotency_ttl_hours": 2, "busy_timeout_ms": 100}
    )
    assert custom == StoreSettings(Path("/tmp/x.db"), 2.0, 100)
    for bad in (
        {"idempotency_ttl_hours": 0},
        {"idempotency_ttl_hours": "1"},
        {"busy_timeout_ms": -1},
        {"path": ""},
        {"pth": "x"},
    ):
        with pytest.raises(StoreConfigError):
            StoreSettings.from_mapping(bad)


def test_open_store_creates_the_file_owner_only_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "var" / "compute.db"
    store = open_store(StoreSettings(path=path))
    try:
        assert path.is_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with sqlite3.connect(path) as other:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        store.close()


# --- claim / complete ----------------------------------------------------------------------------------


def test_new_then_in_progress_then_done(store: SqliteStore) -> None:
    first = store.claim(SCOPE, "key-1", FP1)
    assert first.status is ClaimStatus.NEW and first.attempts == 1
    assert first.client_token == client_token_for_key(SCOPE, "key-1")
    assert len(first.client_token) == 64 and first.client_token.isascii()

    again = store.claim(SCOPE, "key-1", FP1)
    assert again.status is ClaimStatus.IN_PROGRESS
    assert again.client_token == first.client_token  # same token: Tencent dedupes the repeat
    assert again.attempts == 2

    assert store.complete(SCOPE, "key-1", IDS) == IDS
    done = store.claim(SCOPE, "key-1", FP1)
    assert done.status is ClaimStatus.DONE and done.instance_ids == IDS
    assert done.client_token == first.client_token and done.attempts == 3


def test_same_key_different_request_is_a_conflict(store: SqliteStore) -> None:
    store.claim(SCOPE, "key-1", FP1)
    assert store.claim(SCOPE, "key-1", FP2).status is ClaimStatus.CONFLICT
    store.complete(SCOPE, "key-1", IDS)
    conflict = store.claim(SCOPE, "key-1", FP2)
    assert conflict.status is ClaimStatus.CONFLICT and conflict.instance_ids == ()


def test_keys_are_scoped(store: SqliteStore) -> None:
    other = idempotency_scope(
        tenant="tenant-b", cluster="cluster-1", region="ap-guangzhou", operation="create"
    )
    a = store.claim(SCOPE, "shared-key", FP1)
    b = store.claim(other, "shared-key", FP2)
    assert a.status is b.status is ClaimStatus.NEW
    assert a.client_token != b.client_token
    # JSON scopes: no choice of ids makes two scopes collide.
    assert idempotency_scope(tenant="a", cluster="b|c", region="r", operation="o") != idempotency_scope(
        tenant="a|b", cluster="c", region="r", operation="o"
    )


def test_complete_rules(store: SqliteStore) -> None:
    with pytest.raises(LookupError):
        store.complete(SCOPE, "never-claimed", IDS)
    store.claim(SCOPE, "key-1", FP1)
    assert store.complete(SCOPE, "key-1", IDS) == IDS
    # A racing second completion does not overwrite the first.
    assert store.complete(SCOPE, "key-1", ("ins-cccc3333",)) == IDS


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "ключ", "tab\there", "new\nline"])
def test_bad_keys_are_refused(store: SqliteStore, key: str) -> None:
    assert idempotency_key_problem(key) is not None
    with pytest.raises(ValueError, match="idempotency key"):
        store.claim(SCOPE, key, FP1)


def test_records_survive_a_restart(db_path: Path) -> None:
    with SqliteStore(db_path) as first:
        token = first.claim(SCOPE, "key-1", FP1).client_token
        first.claim(SCOPE, "key-2", FP1)
        first.complete(SCOPE, "key-1", IDS)
    with SqliteStore(db_path) as second:
        done = second.claim(SCOPE, "key-1", FP1)
        assert done.status is ClaimStatus.DONE and done.instance_ids == IDS and done.client_token == token
        assert second.claim(SCOPE, "key-2", FP1).status is ClaimStatus.IN_PROGRESS
        assert second.claim(SCOPE, "key-2", FP2).status is ClaimStatus.CONFLICT


def test_replicas_on_one_file_agree_under_contention(db_path: Path) -> None:
    replicas = [SqliteStore(db_path) for _ in range(3)]
    results: list[ClaimStatus] = []
    lock = threading.Lock()
    barrier = threading.Barrier(12)

    def worker(store: SqliteStore) -> None:
        barrier.wait()
        status = store.claim(SCOPE, "raced-key", FP1).status
        with lock:
            results.append(status)

    threads = [threading.Thread(target=worker, args=(replicas[i % 3],)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in replicas:
        r.close()
    assert results.count(ClaimStatus.NEW) == 1
    assert results.count(ClaimStatus.IN_PROGRESS) == 11


_CLAIM_IN_CHILD = """
import sys
from server.store import SqliteStore
with SqliteStore(sys.argv[1]) as store:
    print(store.claim(sys.argv[2], "process-key", sys.argv[3]).status.value, flush=True)
"""


def test_replica_processes_on_one_file_claim_once(db_path: Path) -> None:
    SqliteStore(db_path).close()  # schema in place, so the children race on the claim only
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CLAIM_IN_CHILD, str(db_path), SCOPE, FP1],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    statuses = sorted(child.communicate(timeout=60)[0].strip() for child in children)
    assert all(child.returncode == 0 for child in children)
    assert statuses == ["in_progress", "in_progress", "in_progress", "new"]


def test_keys_expire_after_the_ttl(db_path: Path) -> None:
    clock = Clock()
    with SqliteStore(db_path, idempotency_ttl=timedelta(hours=24), clock=clock) as store:
        store.claim(SCOPE, "old-key", FP1)
        store.complete(SCOPE, "old-key", IDS)
        store.claim(SCOPE, "fresh-key", FP1)
        clock.now += timedelta(hours=23)
        assert store.claim(SCOPE, "old-key", FP1).status is ClaimStatus.DONE  # a use refreshes the TTL
        clock.now += timedelta(hours=23)
        assert store.claim(SCOPE, "old-key", FP2).status is ClaimStatus.CONFLICT
        clock.now += timedelta(hours=25)
        assert store.claim(SCOPE, "old-key", FP2).status is ClaimStatus.NEW  # forgotten: starts afresh
        assert store.purge_expired() == 1  # fresh-key, untouched for 71 hours
        with sqlite3.connect(db_path) as other:
            keys = [row[0] for row in other.execute("SELECT idem_key FROM idempotency_keys")]
        assert keys == ["old-key"]


# --- fingerprint ---------------------------------------------------------------------------------------


def test_fingerprint_is_canonical() -> None:
    a = {"InstanceType": "S5.MEDIUM2", "Placement": {"Zone": "ap-guangzhou-3", "ProjectId": 0}, "Ids": [1, 2]}
    b = {"Ids": [1, 2], "Placement": {"ProjectId": 0, "Zone": "ap-guangzhou-3"}, "InstanceType": "S5.MEDIUM2"}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) == fingerprint({**a, "ClientToken": "the-key-itself"})
    assert fingerprint(a) != fingerprint({**a, "Ids": [2, 1]})
    assert fingerprint(a) != fingerprint({**a, "Placement": {"Zone": "ap-guangzhou-4", "ProjectId": 0}})
    assert fingerprint(a).startswith("v1:")
    with pytest.raises(TypeError):
        fingerprint({"when": datetime.now(UTC)})


def test_fingerprint_never_depends_on_secret_values() -> None:
    base = {"InstanceType": "S5.MEDIUM2", "LoginSettings": {"Password": "Hunter2-Hunter2"}}
    changed = {"InstanceType": "S5.MEDIUM2", "LoginSettings": {"Password": "Other-Passw0rd!"}}
    without = {"InstanceType": "S5.MEDIUM2", "LoginSettings": {"KeyIds": ["skey-12345678"]}}
    assert fingerprint(base) == fingerprint(changed)
    assert fingerprint(base) != fingerprint(without)


def test_no_secret_reaches_the_database_file(db_path: Path) -> None:
    password = "Sup3r-Secret-Pass!"
    params = {"InstanceType": "S5.MEDIUM2", "LoginSettings": {"Password": password}}
    with SqliteStore(db_path) as store:
        store.claim(SCOPE, "key-1", fingerprint(params))
        store.complete(SCOPE, "key-1", IDS)
    blob = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    assert password.encode() not in blob
    assert IDS[0].encode() in blob  # the records themselves are there
