"""Idempotent creates: the caller's key (the Idempotency-Key header through Envoy, or the ClientToken field)
with the same request returns the same InstanceIds and creates nothing; with another request it is
rejected with an explanation. The record lives in the store, so this holds across a restart and across two
replicas sharing one SQLite file. Machines are counted in the emulator.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.service.helpers import calls, create_body, machines, other_scope
from tests.support.server import OTHER_SECRET_ID
from tests.trust.capture import add_figure
from tests.trust.stack import GrpcSurface, JsonSurface, Outcome, Surface, running_stack


def new_key() -> str:
    return f"order-{uuid.uuid4()}"


def assert_created(outcome: Outcome, count: int) -> list[str]:
    assert outcome.code == "OK", (outcome.code, outcome.desc, outcome.envelope.get("message"))
    ids = list(outcome.data["InstanceIds"])
    assert len(ids) == count and len(set(ids)) == count
    return ids


def assert_key_reused(outcome: Outcome) -> None:
    assert outcome.code == "ALREADY_EXISTS"
    assert outcome.desc == "IDEMPOTENCY_KEY_REUSED"
    assert "already used for a different create request" in outcome.envelope["message"]
    if outcome.http_status is not None:
        assert outcome.http_status == 409


def test_the_same_header_key_through_envoy_creates_once(envoy: Any, cloud: Any) -> None:
    json_api = JsonSurface(envoy)
    headers = {"Idempotency-Key": new_key()}
    before = machines(cloud)

    first = assert_created(json_api.call("create", create_body(3), headers=headers), 3)
    again = assert_created(json_api.call("create", create_body(3), headers=headers), 3)

    assert again == first
    assert machines(cloud) == before + 3
    assert calls(cloud, "RunInstances") == 1  # the repeat was answered from the store


def test_the_same_client_token_creates_once_on_both_surfaces(
    grpc_server: Any, envoy: Any, cloud: Any
) -> None:
    ways: list[Surface] = [GrpcSurface(grpc_server.target, "grpc"), JsonSurface(envoy)]
    body = create_body(2, ClientToken=new_key())
    before = machines(cloud)

    answers = [assert_created(way.call("create", body), 2) for way in ways for _ in range(2)]

    assert all(ids == answers[0] for ids in answers)
    assert machines(cloud) == before + 2
    assert calls(cloud, "RunInstances") == 1
    for way in ways:
        way.close()


def test_the_same_key_with_another_request_is_rejected(grpc_server: Any, envoy: Any, cloud: Any) -> None:
    key = new_key()
    json_api, grpc_api = JsonSurface(envoy), GrpcSurface(grpc_server.target, "grpc")
    assert_created(json_api.call("create", create_body(1), headers={"Idempotency-Key": key}), 1)
    before = machines(cloud)

    for way in (json_api, grpc_api):
        assert_key_reused(way.call("create", create_body(2), headers={"Idempotency-Key": key}))
        assert_key_reused(
            way.call("create", create_body(1, name="renamed"), headers={"Idempotency-Key": key})
        )

    assert machines(cloud) == before
    assert calls(cloud, "RunInstances") == 1
    grpc_api.close()


def test_keys_of_different_tenants_never_meet(grpc_server: Any, cloud: Any) -> None:
    grpc_api = GrpcSurface(grpc_server.target, "grpc")
    key = {"Idempotency-Key": new_key()}
    demo = assert_created(grpc_api.call("create", create_body(1), headers=key), 1)
    other = assert_created(grpc_api.call("create", {**create_body(1), **other_scope()}, headers=key), 1)

    assert demo != other
    assert calls(cloud, "RunInstances", OTHER_SECRET_ID) == 1
    grpc_api.close()


def test_a_key_survives_a_restart(cloud: Any, tmp_path: Path) -> None:
    store = tmp_path / "compute.db"
    key = {"Idempotency-Key": new_key()}
    with running_stack(cloud, store_path=store) as first_life:
        way = GrpcSurface(first_life.server.target, "grpc")
        ids = assert_created(way.call("create", create_body(2), headers=key), 2)
        way.close()
    before, run_calls = machines(cloud), calls(cloud, "RunInstances")

    with running_stack(cloud, store_path=store) as second_life:
        json_api = JsonSurface(second_life.envoy)  # type: ignore[arg-type]
        assert assert_created(json_api.call("create", create_body(2), headers=key), 2) == ids
        assert_key_reused(json_api.call("create", create_body(3), headers=key))

    assert machines(cloud) == before
    assert calls(cloud, "RunInstances") == run_calls


def test_two_replicas_on_one_store_create_once(cloud: Any, tmp_path: Path) -> None:
    """The same request with the same key sent to two replicas at once, many times: one set of machines."""
    store = tmp_path / "compute.db"
    cloud.set_throttle(False)
    count, attempts = 3, 16
    body, key = create_body(count, name="replicated"), {"Idempotency-Key": new_key()}
    before = machines(cloud)
    with (
        running_stack(cloud, store_path=store, with_envoy=False) as replica_a,
        running_stack(cloud, store_path=store, with_envoy=False) as replica_b,
    ):
        ways = [GrpcSurface(replica_a.server.target, "a"), GrpcSurface(replica_b.server.target, "b")]
        start = threading.Barrier(attempts)

        def attempt(index: int) -> list[str]:
            start.wait(timeout=30)
            return assert_created(ways[index % 2].call("create", body, headers=key), count)

        with ThreadPoolExecutor(max_workers=attempts) as pool:
            answers = list(pool.map(attempt, range(attempts)))
        later = assert_created(ways[1].call("create", body, headers=key), count)
        for way in ways:
            way.close()

    assert all(ids == answers[0] for ids in answers) and later == answers[0]
    assert machines(cloud) == before + count
    # Concurrent first attempts may each reach Tencent, always with the same ClientToken: Tencent (the
    # emulator) answers every repeat with the same instances.
    run_calls = calls(cloud, "RunInstances")
    assert 1 <= run_calls <= attempts
    add_figure("replicas_same_key_requests", attempts + 1)
    add_figure("replicas_runinstances_calls", run_calls)
    add_figure("replicas_duplicate_machines", machines(cloud) - before - count)
