"""turn_on/turn_off idempotency and state checks; batches over 100 IDs; partial failures are reported."""

from __future__ import annotations

from typing import Any

import grpc

from tests.service.helpers import (
    FIXTURE_INSTANCE,
    calls,
    demo_scope,
    describe,
    failure_of,
    wait_for_states,
    wait_until_gone,
)


def test_turn_on_a_running_instance_calls_nothing(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    cloud.reset_counters()

    reply = grpc_stub.TurnOn(pb.TurnOnRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE]), timeout=30)

    assert reply.scode == 0
    assert calls(cloud, "StartInstances") == 0
    assert calls(cloud, "DescribeInstances") >= 1


def test_turn_off_a_stopped_instance_calls_nothing(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    off = pb.TurnOffRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE])
    grpc_stub.TurnOff(off, timeout=30)
    wait_for_states(cloud, [FIXTURE_INSTANCE], "STOPPED")
    cloud.reset_counters()

    assert grpc_stub.TurnOff(off, timeout=30).scode == 0

    assert calls(cloud, "StopInstances") == 0


def test_instance_in_transition_is_failed_precondition(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    cloud.configure(TransitionSeconds=30)  # STOPPING lasts long enough to be seen; reset by the next test
    grpc_stub.TurnOff(pb.TurnOffRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE]), timeout=30)
    assert describe(cloud, [FIXTURE_INSTANCE])[FIXTURE_INSTANCE]["InstanceState"] == "STOPPING"
    cloud.reset_counters()

    failure = failure_of(
        lambda: grpc_stub.TurnOn(pb.TurnOnRequest(**demo_scope(), InstanceIds=[FIXTURE_INSTANCE]), timeout=30)
    )

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reason == "INSTANCE_STATE_TRANSITIONAL"
    assert FIXTURE_INSTANCE in failure.details
    assert "STOPPING" in failure.details
    assert failure.metadata["instance_ids"] == FIXTURE_INSTANCE
    assert failure.envelope["scode"] == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert calls(cloud, "StartInstances") == 0


def test_instance_id_and_instance_ids_are_united(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    first, second = cloud.seed(2)["InstanceIds"]

    reply = grpc_stub.TurnOff(
        pb.TurnOffRequest(**demo_scope(), InstanceId=[first], InstanceIds=[second, first]), timeout=30
    )

    assert reply.scode == 0
    wait_for_states(cloud, [first, second], "STOPPED")


def test_batches_over_100_are_split(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    seeded = cloud.seed(250)["InstanceIds"]
    cloud.reset_counters()

    grpc_stub.TurnOff(pb.TurnOffRequest(**demo_scope(), InstanceIds=seeded), timeout=60)
    assert calls(cloud, "StopInstances") == 3
    wait_for_states(cloud, seeded, "STOPPED")

    grpc_stub.TurnOn(pb.TurnOnRequest(**demo_scope(), InstanceIds=seeded), timeout=60)
    assert calls(cloud, "StartInstances") == 3
    wait_for_states(cloud, seeded, "RUNNING")

    grpc_stub.Delete(pb.DeleteRequest(**demo_scope(), InstanceIds=seeded), timeout=60)
    assert calls(cloud, "TerminateInstances") == 3
    wait_until_gone(cloud, seeded)


def test_a_failing_batch_names_what_failed_and_what_succeeded(grpc_stub: Any, cloud: Any, pb: Any) -> None:
    seeded = cloud.seed(120)["InstanceIds"]
    unknown = "ins-zzzzzzzz"  # well-formed, not in the account: Tencent fails the chunk holding it
    requested = [*seeded[:100], unknown, *seeded[100:]]

    failure = failure_of(
        lambda: grpc_stub.Delete(pb.DeleteRequest(**demo_scope(), InstanceIds=requested), timeout=60)
    )

    assert failure.code == grpc.StatusCode.NOT_FOUND
    failed = failure.metadata["failed_instance_ids"].split(",")
    succeeded = failure.metadata["succeeded_instance_ids"].split(",")
    assert succeeded == seeded[:100]
    assert failed == [unknown, *seeded[100:]]
    assert "failed for 21 of 121" in failure.details
    assert failure.envelope["desc"] == failure.reason
    wait_until_gone(cloud, seeded[:100])
    assert set(describe(cloud, seeded[100:])) == set(seeded[100:])


def test_update_reports_what_was_applied_when_the_second_attribute_fails(
    grpc_stub: Any, cloud: Any, pb: Any
) -> None:
    request = pb.UpdateRequest(
        **demo_scope(),
        InstanceIds=[FIXTURE_INSTANCE],
        InstanceName="renamed-first",
        SecurityGroups=["sg-zzzzzzzz"],  # well-formed, does not exist
    )

    failure = failure_of(lambda: grpc_stub.Update(request, timeout=30))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert "InstanceName was applied" in failure.details
    assert failure.metadata["applied_attributes"] == "InstanceName"
    assert failure.metadata["failed_attribute"] == "SecurityGroups"
    assert describe(cloud, [FIXTURE_INSTANCE])[FIXTURE_INSTANCE]["InstanceName"] == "renamed-first"
