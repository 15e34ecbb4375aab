"""Every request example of the legacy document, sent byte for byte (stray `cluster_uuid` keys included) as
HTTP POST through the real Envoy to the real server over the real emulator, and each effect checked in the
emulator through the Tencent SDK; the list and inspect replies have the document's keys at every depth
with the document's JSON types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.helpers import (
    FIXTURE_INSTANCE,
    Stack,
    assert_no_leak,
    assert_same_shape,
    assert_success_reply,
    documented_part,
    example,
    instance,
    reply_text,
    start_stack,
    wait_gone,
    wait_settled,
)
from tests.support.envoy import EnvoyProcess

# The inspect example shows the instance after update and reset; these of its values depend on when the
# call was made, not on the state the examples leave behind.
INSPECT_VOLATILE = {"LatestOperationRequestId"}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """A private trio, so the walk below owns the emulator's state from start to end. Throttling is off:
    the walk polls the emulator between steps and must not be slowed by its own polling."""
    with start_stack("--no-throttle") as running:
        yield running


def test_every_example_in_order_has_its_effect(stack: Stack) -> None:
    """create, list, inspect, update, reset, turn_off, turn_on, delete: each example as the document writes
    it; between steps the emulator is polled until the instance has settled."""
    cloud = stack.cloud
    seed_before = wait_settled(cloud, [FIXTURE_INSTANCE], "RUNNING")[FIXTURE_INSTANCE]
    assert seed_before["InstanceName"] == "123"

    # create: one new instance named as the example says, beside the seed instance.
    created = assert_success_reply("create", send(stack, "create"))
    new_ids = created["InstanceIds"]
    assert len(new_ids) == 1 and new_ids[0] != FIXTURE_INSTANCE
    new = wait_settled(cloud, new_ids, "RUNNING")[new_ids[0]]
    assert (new["InstanceName"], new["InstanceType"], new["ImageId"]) == ("123", "MA2.SMALL8", "img-9id7emv7")
    assert new["SecurityGroupIds"] == ["sg-n5ihii7d"]  # sent as the example's `securityGroupId`
    assert new["InstanceChargeType"] == "POSTPAID_BY_HOUR"  # the example omits it: Tencent's default

    # list: both instances, counted.
    listed = assert_success_reply("list", send(stack, "list"))
    assert listed["TotalCount"] == 2
    assert {i["InstanceId"] for i in listed["List"]} == {FIXTURE_INSTANCE, new_ids[0]}
    assert len(listed["VpcName"]) == len(listed["List"])

    # inspect: the seed instance, as the emulator has it.
    inspected = assert_success_reply("inspect", send(stack, "inspect"))
    assert inspected["InstanceId"] == FIXTURE_INSTANCE
    assert inspected["InstanceName"] == "123"
    assert inspected["Uuid"] == seed_before["Uuid"]

    # update: the name changes to the example's "1234".
    assert_success_reply("update", send(stack, "update"))
    assert wait_settled(cloud, [FIXTURE_INSTANCE])[FIXTURE_INSTANCE]["InstanceName"] == "1234"

    # reset: the OS is reinstalled from img-n7nyt2d7, and the instance comes back RUNNING.
    assert_success_reply("reset", send(stack, "reset"))
    reset = wait_settled(cloud, [FIXTURE_INSTANCE], "RUNNING")[FIXTURE_INSTANCE]
    assert (reset["ImageId"], reset["OsName"]) == ("img-n7nyt2d7", "CentOS 8.2 64位")
    # The document's inspect reply shows exactly this moment (after update and reset).
    after_reset = assert_success_reply("inspect", send(stack, "inspect"))
    documented = example("inspect").response_example["data"]
    shown = documented_part(after_reset, documented)
    assert {k: v for k, v in shown.items() if k not in INSPECT_VOLATILE} == {
        k: v for k, v in documented.items() if k not in INSPECT_VOLATILE
    }

    # turn_off: STOPPED.
    assert_success_reply("turn_off", send(stack, "turn_off"))
    assert wait_settled(cloud, [FIXTURE_INSTANCE], "STOPPED")

    # turn_on: RUNNING again.
    assert_success_reply("turn_on", send(stack, "turn_on"))
    assert wait_settled(cloud, [FIXTURE_INSTANCE], "RUNNING")

    # delete: terminating at once, then gone; the instance created above is untouched.
    assert_success_reply("delete", send(stack, "delete"))
    right_after = instance(cloud, FIXTURE_INSTANCE)
    assert right_after is None or right_after["InstanceState"] == "TERMINATING"
    wait_gone(cloud, FIXTURE_INSTANCE)
    assert wait_settled(cloud, new_ids, "RUNNING")

    assert_no_leak(stack.server.log_text())


def send(stack: Stack, verb: str) -> Any:
    """POST the document's request example, byte for byte, to its legacy path."""
    reply = stack.post(verb, example(verb).request_example)
    assert_no_leak(reply_text(reply))
    return reply


# --- the replies' shape, key for key ------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["list", "inspect"])
def test_reply_has_every_documented_key_with_its_json_type(
    envoy: EnvoyProcess, fresh_emulator: Any, verb: str
) -> None:
    reply = envoy.post(example(verb).path, example(verb).request_example)

    assert reply.status == 200, reply.body
    assert_same_shape(example(verb).response_example, reply.body)
    assert list(reply.body) == list(example(verb).response_example)


def test_list_reply_on_the_fixtures_is_the_documented_one(envoy: EnvoyProcess, fresh_emulator: Any) -> None:
    """On the emulator's fixtures the list example's reply differs from the document's only where the
    document shows a moment in time (the seed's latest operation was still OPERATING then)."""
    reply = envoy.post(example("list").path, example("list").request_example)

    documented = example("list").response_example["data"]
    shown = documented_part(reply.body["data"], documented)
    assert (shown["TotalCount"], shown["VpcName"]) == (documented["TotalCount"], documented["VpcName"])
    (row,) = shown["List"]
    (documented_row,) = documented["List"]
    differing = {key for key, value in documented_row.items() if row[key] != value}
    assert differing <= {"LatestOperationState"}, differing


def test_reply_login_settings_show_no_password_key(envoy: EnvoyProcess, fresh_emulator: Any) -> None:
    """The document prints `"LoginSettings": {}`; the service prints the key IDs and never a Password key,
    not even an empty one."""
    listed = envoy.post(example("list").path, example("list").request_example).body
    inspected = envoy.post(example("inspect").path, example("inspect").request_example).body

    for login in (listed["data"]["List"][0]["LoginSettings"], inspected["data"]["LoginSettings"]):
        assert login == {"KeyIds": [], "KeepImageLogin": ""}
