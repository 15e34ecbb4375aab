"""The official API specs (trimmed copies of tccli's api.json) as typed, read-only objects.

`cvm.json` and `vpc.json` next to this file are produced by `extract.py`; never edit them by hand.
Request validation (`emulator.params`) and the conformance tests read member names, types, nesting and
required flags from here, so the emulator has one source of truth for shapes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).resolve().parent
SERVICES = ("cvm", "vpc")

# Member types that are not objects: the `member` field of a spec member names one of these or an object.
PRIMITIVES = frozenset({"string", "int64", "uint64", "bool", "float", "datetime_iso", "datetime", "date"})


@dataclass(frozen=True)
class Member:
    name: str
    type: str  # "string" | "int" | "bool" | "float" | "list" | "object"
    member: str  # element type: a primitive name or an object name
    required: bool  # required in requests
    output_required: bool  # always present in replies
    nullable: bool  # `value_allowed_null`: replies may carry null
    disabled: bool  # deprecated; still accepted


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    members: tuple[Member, ...]
    by_name: dict[str, Member]

    def member(self, name: str) -> Member | None:
        return self.by_name.get(name)


@dataclass(frozen=True)
class ActionSpec:
    name: str
    input: str
    output: str


@dataclass(frozen=True)
class ServiceSpec:
    service: str
    version: str  # the API version, "2017-03-12"
    actions: dict[str, ActionSpec]
    objects: dict[str, ObjectSpec]

    def request(self, action: str) -> ObjectSpec:
        return self.objects[self.actions[action].input]

    def response(self, action: str) -> ObjectSpec:
        return self.objects[self.actions[action].output]


def _member(raw: dict[str, Any]) -> Member:
    return Member(
        name=raw["name"],
        type=raw["type"],
        member=raw["member"],
        required=bool(raw.get("required", False)),
        output_required=bool(raw.get("output_required", False)),
        nullable=bool(raw.get("value_allowed_null", False)),
        disabled=bool(raw.get("disabled", False)),
    )


def parse(service: str, raw: dict[str, Any]) -> ServiceSpec:
    return ServiceSpec(
        service=service,
        version=raw["metadata"]["apiVersion"],
        actions={
            name: ActionSpec(name=name, input=action["input"], output=action["output"])
            for name, action in raw["actions"].items()
        },
        objects={name: _object(name, obj) for name, obj in raw["objects"].items()},
    )


def _object(name: str, raw: dict[str, Any]) -> ObjectSpec:
    members = tuple(_member(member) for member in raw["members"])
    return ObjectSpec(name=name, members=members, by_name={member.name: member for member in members})


@cache
def load(service: str) -> ServiceSpec:
    """The spec of `service` ("cvm" or "vpc"), parsed once per process."""
    raw = json.loads((SPEC_DIR / f"{service}.json").read_text(encoding="utf-8"))
    return parse(service, raw)
