"""The trimmed spec copies in emulator/spec/ still match the official api.json shipped in tccli."""

from __future__ import annotations

import json

import pytest

from emulator import spec
from emulator.spec import extract


@pytest.mark.parametrize("service", sorted(extract.ACTIONS))
def test_committed_copy_matches_the_installed_tccli_spec(service: str) -> None:
    committed = extract.copy_path(service).read_text(encoding="utf-8")
    assert committed == extract.expected_copy(service), (
        f"emulator/spec/{service}.json is stale: run `.venv/bin/python -m emulator.spec.extract`"
    )


@pytest.mark.parametrize("service", sorted(extract.ACTIONS))
def test_copy_covers_exactly_the_served_actions_and_their_objects(service: str) -> None:
    loaded = spec.load(service)
    assert sorted(loaded.actions) == sorted(extract.ACTIONS[service])
    source = json.loads(extract.source_path(service).read_text(encoding="utf-8"))
    for name, obj in loaded.objects.items():
        official = [member["name"] for member in source["objects"][name]["members"]]
        assert [member.name for member in obj.members] == official, name
        for member in obj.members:
            assert member.member in spec.PRIMITIVES or member.member in loaded.objects, (name, member.name)


def test_every_served_action_has_a_handler() -> None:
    from emulator.actions import HANDLERS

    for service, actions in extract.ACTIONS.items():
        assert sorted(HANDLERS[service]) == sorted(actions)
