"""Accounts are fully separate: instances, networks, client tokens, seeding and operations."""

from __future__ import annotations

import pytest

from tests.emulator.model_support import DEMO, OTHER, REGION, SEED_INSTANCE, Model
from tests.support.emulator import OTHER_SECRET_KEY, EmulatorProcess


@pytest.fixture
def model() -> Model:
    return Model()


def _listed(model: Model, account: str) -> set[str]:
    reply = model.call("DescribeInstances", {"Limit": 100}, account=account)
    return {item["InstanceId"] for item in reply["InstanceSet"]}


def test_each_account_sees_only_its_own_instances(model: Model) -> None:
    assert _listed(model, DEMO) == {SEED_INSTANCE}
    assert _listed(model, OTHER) == {"ins-0th3r001", "ins-0th3r002"}
    assert model.call("DescribeInstances", {"InstanceIds": [SEED_INSTANCE]}, account=OTHER)["TotalCount"] == 0


def test_operations_cannot_reach_another_accounts_instance(model: Model) -> None:
    for action in ("StopInstances", "TerminateInstances", "RebootInstances"):
        assert model.error(action, {"InstanceIds": [SEED_INSTANCE]}, account=OTHER).code == (
            "InvalidInstanceId.NotFound"
        )
    reset = model.error("ResetInstance", {"InstanceId": "ins-0th3r001"}, account=DEMO)
    assert reset.code == "InvalidInstanceId.NotFound"
    assert model.instance(SEED_INSTANCE)["InstanceState"] == "RUNNING"


def test_networks_are_per_account(model: Model) -> None:
    error = model.error(
        "RunInstances",
        {
            "Placement": {"Zone": "ap-guangzhou-3"},
            "ImageId": "img-n7nyt2d7",
            "VirtualPrivateCloud": {"VpcId": "vpc-evvn0y6d", "SubnetId": "subnet-nv3ex0mo"},
        },
        account=OTHER,
    )
    assert error.code == "InvalidParameterValue.VpcIdNotExist"
    groups = model.call("DescribeSecurityGroups", service="vpc", account=OTHER)["SecurityGroupSet"]
    assert [group["SecurityGroupId"] for group in groups] == ["sg-0th3rgz1"]


def test_creating_and_seeding_touch_one_account(model: Model) -> None:
    model.run(3)
    model.world.seed_instances(OTHER, REGION, 10)
    counts = model.world.instance_counts()
    assert counts[DEMO][REGION] == 4
    assert counts[OTHER][REGION] == 12


def test_added_accounts_start_empty_and_reset_drops_them(model: Model) -> None:
    model.world.add_account("AKIDNEWACCOUNT", "new-secret")
    assert model.world.secret_key_for("AKIDNEWACCOUNT") == "new-secret"
    assert _listed(model, "AKIDNEWACCOUNT") == set()
    # a default VPC, subnet and security group exist, so launching works at once
    [instance_id] = model.call(
        "RunInstances",
        {"Placement": {"Zone": "ap-guangzhou-6"}, "ImageId": "img-n7nyt2d7"},
        account="AKIDNEWACCOUNT",
    )["InstanceIdSet"]
    assert _listed(model, "AKIDNEWACCOUNT") == {instance_id}
    assert _listed(model, DEMO) == {SEED_INSTANCE}
    with pytest.raises(ValueError):
        model.world.add_account("AKIDNEWACCOUNT", "again")
    model.world.reset()
    assert model.world.secret_key_for("AKIDNEWACCOUNT") is None


def test_reset_restores_the_fixtures(model: Model) -> None:
    model.call("TerminateInstances", {"InstanceIds": [SEED_INSTANCE]})
    model.settle()
    model.world.set_timings(transition_seconds=9.0)
    model.world.set_launch_failure(1.0)
    model.world.reset()
    assert _listed(model, DEMO) == {SEED_INSTANCE}
    assert model.world.set_timings()["transition_seconds"] != 9.0
    [instance_id] = model.run()
    model.clock.advance(100)
    assert model.instance(instance_id)["InstanceState"] == "RUNNING"  # launch failures were cleared


def test_isolation_through_the_sdk(fresh_emulator: EmulatorProcess) -> None:
    from tencentcloud.cvm.v20170312 import models

    demo = fresh_emulator.cvm_client()
    other = fresh_emulator.cvm_client(secret_id=OTHER, secret_key=OTHER_SECRET_KEY)
    assert [i.InstanceId for i in demo.DescribeInstances(models.DescribeInstancesRequest()).InstanceSet] == [
        SEED_INSTANCE
    ]
    theirs = {i.InstanceId for i in other.DescribeInstances(models.DescribeInstancesRequest()).InstanceSet}
    assert theirs == {"ins-0th3r001", "ins-0th3r002"}
