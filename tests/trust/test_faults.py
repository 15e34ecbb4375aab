"""Fault tests (issue 4 point 7) through the emulator's fault injection (POST /_emulator/faults).

- 30% RequestLimitExceeded, 10% dropped connections and 20 ms added latency on every action: 200 concurrent
  reads (list and inspect, gRPC and JSON through Envoy, 16 threads) all succeed within their deadlines;
  creates (InstanceCount 1 to 5, with and without a caller's key) make EXACTLY the machines asked for.
- A create whose reply is lost (Tencent slower than the attempt timeout) is retried with the same
  ClientToken and still makes its machines once.
- A write that finally fails answers a clear error and leaves a `failed` audit record.
- A server killed (SIGKILL) in the middle of a create leaves a `started` audit record; after a restart the
  same key finishes the create without a second set of machines.
Machines are counted in the emulator; audit records are read back with `python -m server.store.audit_cli`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.service.helpers import (
    FIXTURE_INSTANCE,
    REGION,
    calls,
    create_body,
    demo_scope,
    eventually,
    machines,
)
from tests.support.processes import REPO_ROOT
from tests.trust.capture import add_figure, record
from tests.trust.stack import GrpcSurface, JsonSurface, Outcome, Surface, running_stack

READS, READ_THREADS = 200, 16
CREATE_COUNTS = (1, 2, 3, 5, 1, 2, 3, 5, 2, 4)  # InstanceCount of each create under faults
FAULTS: tuple[dict[str, Any], ...] = (
    {"Action": "*", "ErrorCode": "RequestLimitExceeded", "ErrorProbability": 0.3},
    {"Action": "*", "DropProbability": 0.1, "LatencyMs": 20},
)


def read_audit(store: Path) -> list[dict[str, Any]]:
    """The audit trail as an operator reads it: `python -m server.store.audit_cli --db ... --json`."""
    done = subprocess.run(
        [sys.executable, "-m", "server.store.audit_cli", "--db", str(store), "--json", "--limit", "1000"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    record("audit_cli", done.stdout + done.stderr)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def settled(cloud: Any) -> bool:
    """No cloud call in flight in the emulator (slow attempts the service gave up on have ended)."""
    return int(cloud.counters()["ActiveRequests"]) == 0


def test_reads_and_creates_under_throttling_drops_and_latency(cloud: Any, tmp_path: Path) -> None:
    with running_stack(cloud, store_path=tmp_path / "compute.db") as stack:
        assert stack.envoy is not None
        ways: list[Surface] = [GrpcSurface(stack.server.target, "grpc"), JsonSurface(stack.envoy)]
        before = machines(cloud)
        for rule in FAULTS:
            cloud.add_fault(**rule)
        cloud.reset_counters()

        def read(index: int) -> Outcome:
            way = ways[index % 2]
            if index % 4 < 2:
                return way.call("list", demo_scope(), timeout=30)
            return way.call("inspect", demo_scope(InstanceId=FIXTURE_INSTANCE), timeout=30)

        with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
            reads = list(pool.map(read, range(READS)))
        read_counters = cloud.counters()

        def create(index: int) -> Outcome:
            count = CREATE_COUNTS[index]
            keyed = {"Idempotency-Key": f"fault-{uuid.uuid4()}"} if index % 2 else None
            return ways[index % 2].call("create", create_body(count), headers=keyed, timeout=60)

        with ThreadPoolExecutor(max_workers=4) as pool:
            creates = list(pool.map(create, range(len(CREATE_COUNTS))))
        counters = cloud.counters()
        cloud.clear_faults()
        for way in ways:
            way.close()

    read_failures = [(o.code, o.desc) for o in reads if o.code != "OK"]
    create_failures = [(o.code, o.desc) for o in creates if o.code != "OK"]
    ids = [instance for o in creates if o.code == "OK" for instance in o.data["InstanceIds"]]
    expected = sum(CREATE_COUNTS)
    created = machines(cloud) - before
    add_figure("fault_reads", READS)
    add_figure("fault_read_failures", len(read_failures))
    add_figure("fault_creates", len(CREATE_COUNTS))
    add_figure("fault_create_failures", len(create_failures))
    add_figure("fault_machines_expected", expected)
    add_figure("fault_machines_created", created)
    add_figure("fault_duplicate_machines", created - expected)
    add_figure("fault_tencent_calls", sum(sum(a.values()) for a in counters["Calls"].values()))
    add_figure("fault_injected_errors_and_drops", counters["FaultsInjected"])
    add_figure("fault_reads_injected", read_counters["FaultsInjected"])
    add_figure("fault_emulator_throttled", counters["Throttled"])
    add_figure("fault_runinstances_calls", calls(cloud, "RunInstances"))

    assert read_failures == []
    assert create_failures == []
    assert read_counters["FaultsInjected"] > 0
    for outcome, count in zip(creates, CREATE_COUNTS, strict=True):
        assert len(outcome.data["InstanceIds"]) == count
    assert len(ids) == len(set(ids)) == expected
    assert created == expected  # exactly InstanceCount machines per create: none twice


def test_a_create_whose_reply_is_lost_creates_once(cloud: Any, tmp_path: Path) -> None:
    """Tencent takes 1.5 s, the service gives each attempt 0.5 s: the first attempts time out while Tencent
    goes on to create. Once the retries reach a responsive Tencent, the same ClientToken returns those
    very machines."""
    retry = "[retry]\nmax_attempts = 40\nbase_delay = 0.02\nmax_delay = 0.1\nattempt_timeout_seconds = 0.5\n"
    cloud.set_throttle(False)
    before = machines(cloud)
    with running_stack(
        cloud, store_path=tmp_path / "compute.db", extra_toml=retry, with_envoy=False
    ) as stack:
        way = GrpcSurface(stack.server.target, "grpc")
        cloud.add_fault(Action="RunInstances", LatencyMs=1500)
        result: list[Outcome] = []
        caller = threading.Thread(
            target=lambda: result.append(way.call("create", create_body(2), timeout=30))
        )
        caller.start()
        eventually(lambda: calls(cloud, "RunInstances") >= 2, "a retried RunInstances")
        cloud.clear_faults()
        caller.join(timeout=60)
        way.close()
        eventually(lambda: settled(cloud), "the slow attempts to end")
        audit = [r for r in read_audit(stack.store_path) if r["action"] == "RunInstances"]

    outcome = result[0]
    assert outcome.code == "OK", (outcome.desc, outcome.envelope.get("message"))
    assert len(outcome.data["InstanceIds"]) == 2
    assert machines(cloud) == before + 2
    assert [r["outcome"] for r in audit] == ["succeeded"]  # one call, all its retries inside it
    assert sorted(audit[0]["instance_ids"]) == sorted(outcome.data["InstanceIds"])
    # What made the retries safe, as Tencent received it: one ClientToken, on every attempt.
    tokens = {call["Params"].get("ClientToken") for call in cloud.requests("RunInstances")}
    assert len(tokens) == 1 and None not in tokens, tokens
    assert audit[0]["client_token"] in tokens
    add_figure("lost_reply_runinstances_attempts", calls(cloud, "RunInstances"))
    add_figure("lost_reply_duplicate_machines", machines(cloud) - before - 2)


def test_a_write_that_finally_fails_is_clear_and_audited(cloud: Any, tmp_path: Path) -> None:
    with running_stack(cloud, store_path=tmp_path / "compute.db") as stack:
        assert stack.envoy is not None
        json_api = JsonSurface(stack.envoy)
        cloud.add_fault(Action="RunInstances", ErrorCode="InternalError", ErrorProbability=1.0)
        cloud.add_fault(Action="TerminateInstances", DropProbability=1.0)
        create = json_api.call("create", create_body(2, name="doomed"))
        delete = json_api.call("delete", demo_scope(InstanceIds=[FIXTURE_INSTANCE]))
        cloud.clear_faults()
        audit = read_audit(stack.store_path)

    # InternalError on a write: not repeated (Tencent may have half-done it), INTERNAL with Tencent's code.
    assert (create.code, create.desc, create.http_status) == ("INTERNAL", "InternalError", 500)
    assert create.envelope["message"].startswith("Tencent Cloud RunInstances failed: InternalError")
    assert calls(cloud, "RunInstances") == 1
    # Unreachable on a write that is safe to repeat: retried, then UNAVAILABLE.
    assert (delete.code, delete.desc, delete.http_status) == ("UNAVAILABLE", "ClientNetworkError", 503)
    assert delete.envelope["message"].startswith("Tencent Cloud could not be reached for TerminateInstances")
    assert calls(cloud, "TerminateInstances") > 1

    by_action = {r["action"]: r for r in audit}
    run, terminate = by_action["RunInstances"], by_action["TerminateInstances"]
    assert (run["outcome"], run["error_code"]) == ("failed", "InternalError")
    assert run["tencent_request_id"]  # Tencent answered: its RequestId is kept
    assert run["client_token"] and len(run["client_token"]) == 32  # a fresh token per unkeyed request
    assert (terminate["outcome"], terminate["error_code"]) == ("failed", "ClientNetworkError")
    assert terminate["instance_ids"] == [FIXTURE_INSTANCE]
    for entry in (run, terminate):
        assert entry["finished_at"] and entry["subject"] == "anonymous" and entry["tenant"] == "system"
        assert entry["region"] == REGION and entry["request_id"]


def test_a_crash_mid_create_leaves_a_started_record_and_a_retry_creates_once(
    cloud: Any, tmp_path: Path
) -> None:
    store = tmp_path / "compute.db"
    body, key = create_body(2, name="crashed"), {"Idempotency-Key": f"crash-{uuid.uuid4()}"}
    cloud.set_throttle(False)
    before = machines(cloud)
    with running_stack(cloud, store_path=store, with_envoy=False) as doomed:
        way = GrpcSurface(doomed.server.target, "grpc")
        cloud.add_fault(Action="RunInstances", LatencyMs=2000)
        result: list[Outcome] = []
        caller = threading.Thread(target=lambda: result.append(way.call("create", body, headers=key)))
        caller.start()
        eventually(lambda: calls(cloud, "RunInstances") >= 1, "the RunInstances call to reach Tencent")
        os.kill(doomed.server.process.pid, signal.SIGKILL)
        doomed.server.process.wait(timeout=30)
        caller.join(timeout=60)
        way.close()
    cloud.clear_faults()
    after_crash = read_audit(store)

    assert result[0].code == "UNAVAILABLE"  # the caller saw the connection die, not a result
    (started,) = [r for r in after_crash if r["action"] == "RunInstances"]
    assert started["outcome"] == "started" and started["finished_at"] is None
    assert started["client_token"]

    with running_stack(cloud, store_path=store, with_envoy=False) as restarted:
        way = GrpcSurface(restarted.server.target, "grpc")
        retried = way.call("create", body, headers=key)
        way.close()
    eventually(lambda: settled(cloud), "the slow attempt to end")
    after_retry = [r for r in read_audit(store) if r["action"] == "RunInstances"]

    assert retried.code == "OK"
    assert len(retried.data["InstanceIds"]) == 2
    assert machines(cloud) == before + 2  # the crashed attempt and the retry made ONE set of machines
    assert [r["outcome"] for r in after_retry] == ["started", "succeeded"]
    assert after_retry[1]["client_token"] == started["client_token"]  # same key, same token
    add_figure("crash_duplicate_machines", machines(cloud) - before - 2)
