"""The audit trail on real SQLite files: begin/end, a real crash between them, reading back (API and CLI),
field validation, and the adapter the Tencent gateway plugs in."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.compute.errors import InvalidArgument, Unavailable
from server.compute.ports import Scope
from server.config import ClusterConfig, Credentials
from server.store import AuditOutcome, AuditRecord, AuditValueError, SqliteStore
from server.store.audit import StoreCallAudit
from server.store.audit_cli import main as audit_cli

REPO_ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "72db4b34-1473-418f-ade4-de00b956f16b"


def record(**overrides: object) -> AuditRecord:
    fields: dict[str, object] = {
        "subject": "svc-billing",
        "tenant": "tenant-a",
        "cluster": CLUSTER,
        "region": "ap-guangzhou",
        "action": "RunInstances",
        "client_token": "a" * 64,
        "request_id": "req-123",
    }
    fields.update(overrides)
    return AuditRecord(**fields)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)  # every read is a later instant: a deterministic order
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "compute.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(db_path, clock=Clock()) as s:
        yield s


def test_begin_then_end(store: SqliteStore) -> None:
    audit_id = store.audit_begin(record())
    started = store.get_audit(audit_id)
    assert started is not None
    assert started.outcome is AuditOutcome.STARTED and started.finished_at is None
    assert started.instance_ids == () and started.client_token == "a" * 64

    store.audit_end(
        audit_id,
        AuditOutcome.SUCCEEDED,
        tencent_request_id="6ef60bec-0242-43af-bb20-270359fb54a7",
        instance_ids=["ins-aaaa1111", "ins-bbbb2222"],
    )
    done = store.get_audit(audit_id)
    assert done is not None
    assert done.outcome is AuditOutcome.SUCCEEDED
    assert done.finished_at is not None and done.finished_at > done.started_at
    assert done.instance_ids == ("ins-aaaa1111", "ins-bbbb2222")
    assert done.tencent_request_id == "6ef60bec-0242-43af-bb20-270359fb54a7"
    assert (done.subject, done.tenant, done.cluster, done.region, done.action, done.request_id) == (
        "svc-billing",
        "tenant-a",
        CLUSTER,
        "ap-guangzhou",
        "RunInstances",
        "req-123",
    )


def test_failed_call_keeps_its_ids_and_error(store: SqliteStore) -> None:
    audit_id = store.audit_begin(
        record(action="TerminateInstances", client_token=None, instance_ids=("ins-aaaa1111",))
    )
    store.audit_end(
        audit_id,
        AuditOutcome.FAILED,
        error_code="InvalidInstanceId.NotFound",
        tencent_request_id="req-tc-1",
        instance_ids=["ins-aaaa1111"],
    )
    entry = store.get_audit(audit_id)
    assert entry is not None
    assert entry.outcome is AuditOutcome.FAILED and entry.error_code == "InvalidInstanceId.NotFound"
    assert entry.instance_ids == ("ins-aaaa1111",)


def test_end_rules(store: SqliteStore) -> None:
    audit_id = store.audit_begin(record())
    with pytest.raises(ValueError, match="final outcome"):
        store.audit_end(audit_id, AuditOutcome.STARTED)
    store.audit_end(audit_id, AuditOutcome.SUCCEEDED)
    with pytest.raises(ValueError, match="already finished"):
        store.audit_end(audit_id, AuditOutcome.FAILED)
    with pytest.raises(LookupError):
        store.audit_end("no-such-id", AuditOutcome.FAILED)
    with pytest.raises(AuditValueError, match="error_code"):
        store.audit_end(store.audit_begin(record()), AuditOutcome.FAILED, error_code="bad code\n")


def test_begin_without_end_is_visible_after_reopening(db_path: Path) -> None:
    with SqliteStore(db_path) as store:
        audit_id = store.audit_begin(record())
    with SqliteStore(db_path) as reopened:
        entry = reopened.get_audit(audit_id)
        assert entry is not None and entry.outcome is AuditOutcome.STARTED


_BEGIN_THEN_DIE = """
import os, sys
from server.store import AuditRecord, SqliteStore
store = SqliteStore(sys.argv[1])
audit_id = store.audit_begin(AuditRecord(subject="svc-billing", tenant="tenant-a", cluster="c-1",
                                         region="ap-guangzhou", action="RunInstances", client_token="tok-1"))
print(audit_id, flush=True)
os._exit(9)  # killed mid-call: no close, no audit_end, no cleanup of any kind
"""


def test_a_crash_between_begin_and_end_leaves_a_started_record(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    child = subprocess.run(
        [sys.executable, "-c", _BEGIN_THEN_DIE, str(db_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == 9, child.stderr
    audit_id = child.stdout.strip()
    with SqliteStore(db_path) as store:
        entry = store.get_audit(audit_id)
    assert entry is not None and entry.outcome is AuditOutcome.STARTED and entry.client_token == "tok-1"

    assert audit_cli(["--db", str(db_path), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["outcome"] for line in lines] == ["started"]


def test_read_audit_filters_and_order(store: SqliteStore) -> None:
    ids = [store.audit_begin(record(tenant=f"tenant-{i % 2}", request_id=f"req-{i}")) for i in range(6)]
    everything = store.read_audit()
    assert [e.audit_id for e in everything] == ids  # oldest first
    newest_two = store.read_audit(limit=2)
    assert [e.audit_id for e in newest_two] == ids[-2:]
    assert [e.request_id for e in store.read_audit(tenant="tenant-1")] == ["req-1", "req-3", "req-5"]
    since = everything[3].started_at
    assert [e.audit_id for e in store.read_audit(since=since)] == ids[3:]
    with pytest.raises(ValueError):
        store.read_audit(limit=0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", ""),
        ("subject", "svc\nforged line"),
        ("subject", "x" * 257),
        ("tenant", "tenant a"),
        ("cluster", ""),
        ("region", "Guangzhou"),
        ("action", "run instances"),
        ("instance_ids", ("ins-aaaa1111", "not an id")),
        ("client_token", "x" * 65),
        ("request_id", "req\x00"),
    ],
)
def test_record_fields_are_validated_without_echoing_values(field: str, value: object) -> None:
    with pytest.raises(AuditValueError) as info:
        record(**{field: value})
    assert repr(field) in str(info.value)
    if isinstance(value, str) and len(value) > 3:
        assert value not in str(info.value)


def test_there_is_no_place_for_free_form_data() -> None:
    with pytest.raises(TypeError):
        record(params={"Password": "x"})


def test_cli_table_json_and_filters(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SqliteStore(db_path, clock=Clock()) as store:
        first = store.audit_begin(record(tenant="tenant-a"))
        store.audit_end(
            first, AuditOutcome.SUCCEEDED, tencent_request_id="tc-1", instance_ids=["ins-aaaa1111"]
        )
        store.audit_begin(
            record(
                tenant="tenant-b", action="StopInstances", client_token=None, instance_ids=("ins-cccc3333",)
            )
        )

    assert audit_cli(["--db", str(db_path), "--json", "--tenant", "tenant-a"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    data = json.loads(line)
    assert list(data) == [
        "audit_id",
        "started_at",
        "finished_at",
        "subject",
        "tenant",
        "cluster",
        "region",
        "action",
        "instance_ids",
        "client_token",
        "request_id",
        "outcome",
        "error_code",
        "tencent_request_id",
    ]
    assert data["outcome"] == "succeeded" and data["instance_ids"] == ["ins-aaaa1111"]
    assert data["started_at"].endswith("Z")

    assert audit_cli(["--db", str(db_path), "--limit", "1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("started_at") and len(table) == 2
    assert "StopInstances" in table[1] and "started" in table[1]

    assert audit_cli(["--db", str(db_path / "missing.db")]) == 2


def test_cli_runs_as_a_module(db_path: Path) -> None:
    with SqliteStore(db_path) as store:
        store.audit_begin(record())
    result = subprocess.run(
        [sys.executable, "-m", "server.store.audit_cli", "--db", str(db_path), "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout)["action"] == "RunInstances"


# --- the adapter for server.tencent.gateway -------------------------------------------------------------


def scope() -> Scope:
    cluster = ClusterConfig(
        uuid=CLUSTER,
        tenants=frozenset({"tenant-a"}),
        credentials=Credentials("AKIDEMULATORDEMO", "emulator-demo-secret"),
    )
    return Scope(
        cluster=cluster, region="ap-guangzhou", tenant="tenant-a", caller="svc-a", request_id="req-9"
    )


def test_gateway_adapter_success_and_no_secrets(db_path: Path) -> None:
    password = "Sup3r-Secret-Pass!"
    with SqliteStore(db_path) as store:
        audit = StoreCallAudit(store)
        params = {
            "InstanceType": "S5.MEDIUM2",
            "ClientToken": "b" * 64,
            "LoginSettings": {"Password": password},
            "InstanceCount": 2,
        }
        handle = audit.started(scope(), "RunInstances", params)
        assert store.read_audit()[0].outcome is AuditOutcome.STARTED  # committed before the call
        audit.finished(
            handle, {"InstanceIdSet": ["ins-aaaa1111", "ins-bbbb2222"], "RequestId": "tc-req-1"}, None
        )
        (entry,) = store.read_audit()
    assert entry.outcome is AuditOutcome.SUCCEEDED
    assert (entry.subject, entry.tenant, entry.cluster, entry.request_id) == (
        "svc-a",
        "tenant-a",
        CLUSTER,
        "req-9",
    )
    assert entry.client_token == "b" * 64 and entry.tencent_request_id == "tc-req-1"
    assert entry.instance_ids == ("ins-aaaa1111", "ins-bbbb2222")
    blob = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    assert password.encode() not in blob and b"emulator-demo-secret" not in blob


def test_gateway_adapter_failure(store: SqliteStore) -> None:
    audit = StoreCallAudit(store)
    handle = audit.started(scope(), "ResetInstance", {"InstanceId": "ins-aaaa1111", "Password": "x"})
    error = InvalidArgument(
        "bad image", "镜像无效", reason="InvalidImageId.NotFound", metadata={"tencent_request_id": "tc-req-2"}
    )
    audit.finished(handle, None, error)
    (entry,) = store.read_audit()
    assert entry.outcome is AuditOutcome.FAILED and entry.error_code == "InvalidImageId.NotFound"
    assert entry.tencent_request_id == "tc-req-2" and entry.instance_ids == ("ins-aaaa1111",)


def test_gateway_adapter_refuses_the_call_when_the_audit_cannot_be_written(db_path: Path) -> None:
    store = SqliteStore(db_path)
    store.close()  # any write now fails, as with a full or broken disk
    with pytest.raises(Unavailable) as info:
        StoreCallAudit(store).started(scope(), "TerminateInstances", {"InstanceIds": ["ins-aaaa1111"]})
    assert info.value.reason == "AUDIT_UNAVAILABLE"
