"""What the end-to-end tests share: the legacy examples, envelope and JSON-shape checks, leak checks, a
private emulator/server/Envoy trio, and waiting on the emulator's view of an instance (through the SDK).

Waiting polls the emulator until a condition holds (tests/service/helpers.py `eventually`, bounded by a
generous timeout); no test asserts how long anything took.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from tests.contract.legacy_api import ENVELOPE_KEYS, RPC_BY_VERB, Endpoint, endpoints
from tests.service.helpers import describe, eventually
from tests.support.emulator import EmulatorProcess, start_emulator
from tests.support.envoy import EnvoyProcess, HttpReply, start_envoy
from tests.support.server import DEMO_SECRET_KEY, OTHER_SECRET_KEY, ServerProcess, start_server

FIXTURE_INSTANCE = "ins-2n9bmcww"  # the instance every legacy example but create acts on
EXAMPLE_PASSWORD = "964322396.cda"  # LoginSettings.Password of the create and reset examples
# Never in a reply, an error or a log line: the demo accounts' SecretKeys and the examples' password.
SECRETS = (DEMO_SECRET_KEY, OTHER_SECRET_KEY, EXAMPLE_PASSWORD)
# What a Python traceback looks like in text.
TRACEBACK = re.compile(r'Traceback \(most recent call last\)|File "[^"]+", line \d+')
# States an instance passes through on its way somewhere else.
TRANSITIONAL = frozenset({"PENDING", "STARTING", "STOPPING", "REBOOTING", "TERMINATING"})


def example(verb: str) -> Endpoint:
    """The legacy document's endpoint for `verb` (request example as exact bytes, reply example parsed)."""
    return endpoints()[verb]


def example_as_grpc_request(verb: str, pb: Any) -> Message:
    """The legacy request example as a native gRPC request message. Unknown keys are dropped, as Envoy
    drops them: the stray `cluster_uuid` names no field."""
    message: Message = getattr(pb, f"{RPC_BY_VERB[verb]}Request")()
    json_format.Parse(example(verb).request_example, message, ignore_unknown_fields=True)
    return message


# --- JSON replies -------------------------------------------------------------------------------------


def assert_success_reply(verb: str, reply: HttpReply) -> dict[str, Any]:
    """HTTP 200, the envelope keys in legacy order, and the envelope values the document's example shows
    (scode 0, desc "", success/成功, stack null); `data` has at least the example's keys. Returns data."""
    body = reply.body
    assert reply.status == 200, f"{verb}: HTTP {reply.status} {body!r}"
    assert reply.headers["content-type"] == "application/json", reply.headers
    assert isinstance(body, dict), f"{verb}: not a JSON object: {body!r}"
    assert tuple(body) == ENVELOPE_KEYS, f"{verb}: envelope keys {list(body)}"
    documented = example(verb).response_example
    assert {k: body[k] for k in ENVELOPE_KEYS[:-1]} == {k: documented[k] for k in ENVELOPE_KEYS[:-1]}
    assert isinstance(body["data"], dict)
    assert_same_shape(documented["data"], body["data"], f"{verb}.data")
    data: dict[str, Any] = body["data"]
    return data


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def assert_same_shape(expected: Any, actual: Any, path: str = "$", *, ordered: bool = True) -> None:
    """`actual` has every key of `expected` at every depth, with the same JSON type (numbers as numbers,
    never strings), and in the same relative order unless `ordered` is False. Keys `expected` lacks are
    allowed (the service prints every SDK member; the document shows a subset). Every element of an array
    must look like every element the example shows."""
    kind = _json_kind(expected)
    assert _json_kind(actual) == kind, f"{path}: expected a JSON {kind}, got {actual!r}"
    if isinstance(expected, dict):
        missing = [key for key in expected if key not in actual]
        assert not missing, f"{path}: keys missing from the reply: {missing}"
        positions = [list(actual).index(key) for key in expected]
        assert not ordered or positions == sorted(positions), f"{path}: keys out of the document's order"
        for key, value in expected.items():
            assert_same_shape(value, actual[key], f"{path}.{key}", ordered=ordered)
    elif isinstance(expected, list) and expected:
        assert actual, f"{path}: the example shows elements, the reply has none"
        for index, element in enumerate(actual):
            for model in expected:
                assert_same_shape(model, element, f"{path}[{index}]", ordered=ordered)


def documented_part(actual: Any, documented: Any) -> Any:
    """`actual` cut down to the keys `documented` shows, at every depth (arrays element by element), so
    it can be compared with the document's example by value."""
    if isinstance(documented, dict) and isinstance(actual, dict):
        return {key: documented_part(actual.get(key), value) for key, value in documented.items()}
    if isinstance(documented, list) and documented and isinstance(actual, list):
        return [documented_part(element, documented[0]) for element in actual]
    return actual


def assert_no_leak(text: str, *extra_secrets: str) -> None:
    """No traceback and no secret in `text` (a reply body, an error message, a log)."""
    assert not TRACEBACK.search(text), f"a traceback reached the caller: {text[:500]}"
    for secret in (*SECRETS, *extra_secrets):
        assert secret not in text, "a secret reached the caller"


def reply_text(reply: HttpReply) -> str:
    """Everything a JSON caller receives apart from the status line: headers and body."""
    body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body, ensure_ascii=False)
    return json.dumps(reply.headers) + body


# --- the emulator's view (SDK) ------------------------------------------------------------------------


def instance(cloud: EmulatorProcess, instance_id: str) -> dict[str, Any] | None:
    """One instance as DescribeInstances shows it through the SDK, or None when it is gone."""
    return describe(cloud, [instance_id]).get(instance_id)


def wait_settled(cloud: EmulatorProcess, ids: Iterable[str], state: str | None = None) -> dict[str, Any]:
    """Until every instance exists, is in no transitional state (in `state` if given) and has no
    operation still OPERATING, so the next mutating call may start. Returns them by ID."""
    wanted = list(ids)

    def probe() -> dict[str, Any] | None:
        found = describe(cloud, wanted)
        ready = len(found) == len(wanted) and all(
            i["InstanceState"] not in TRANSITIONAL
            and (state is None or i["InstanceState"] == state)
            and i.get("LatestOperationState") != "OPERATING"
            for i in found.values()
        )
        return found if ready else None

    return eventually(probe, f"{wanted} to settle" + (f" in {state}" if state else ""))


def wait_gone(cloud: EmulatorProcess, instance_id: str) -> None:
    eventually(lambda: instance(cloud, instance_id) is None, f"{instance_id} to be gone")


# --- a private trio -----------------------------------------------------------------------------------


@dataclass
class Stack:
    """A private emulator, a server on it, and Envoy (envoy.yaml) in front of the server."""

    cloud: EmulatorProcess
    server: ServerProcess
    envoy: EnvoyProcess

    def post(self, verb: str, body: bytes | object, headers: dict[str, str] | None = None) -> HttpReply:
        return self.envoy.post(example(verb).path, body, headers)


@contextlib.contextmanager
def start_stack(
    *emulator_args: str, server_config: str | None = None, envoy_config: str | None = None
) -> Iterator[Stack]:
    """Start emulator -> server -> Envoy on free ports; `server_config` (the whole TOML, "{endpoint}"
    standing for the emulator's host:port) replaces the demo config."""
    with start_emulator(*emulator_args) as cloud:
        config_text = None if server_config is None else server_config.replace("{endpoint}", cloud.endpoint)
        with (
            start_server(cloud.endpoint, config_text=config_text) as server,
            start_envoy(server.port, envoy_config) as envoy,
        ):
            yield Stack(cloud, server, envoy)
