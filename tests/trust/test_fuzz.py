"""Fuzzing the legacy JSON surface through Envoy (issue 4 point 8), with hypothesis.

Each example takes one of the 8 legacy requests (the legacy document's own examples) and breaks it: wrong
JSON types, huge strings (up to ~1 MiB and over Envoy's 1 MiB cap), empty and unicode strings, nested junk,
missing fields, arrays where objects go, unknown keys, or a body that is not a JSON object at all
(sometimes not JSON, not UTF-8, or sent with the wrong method); some carry an odd Idempotency-Key header.

Every reply must be a JSON object with the legacy envelope, never 5xx except a documented UNAVAILABLE
(503, scode 14), with no traceback text; and the server must still be alive and healthy afterwards.
Bounded and reproducible: a fixed number of examples, derandomized, no example database.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contract.legacy_api import ENVELOPE_KEYS, PATH_PREFIX, VERBS, endpoints
from tests.service.helpers import demo_scope
from tests.support.envoy import http_request
from tests.trust.capture import add_figure, record
from tests.trust.stack import Stack, running_stack

EXAMPLES = 600
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', '.py", line ', "Exception:")
ENVELOPE_SCODES_5XX_ALLOWED = {14}  # UNAVAILABLE (503): the documented exception

# --- strategies -------------------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([float("nan"), float("inf")]),  # json.dumps writes NaN / Infinity: not JSON
    st.text(max_size=40),
    st.sampled_from(["", " ", "\u0000", "ins-", "字" * 20, "\U0001f600" * 10, "null", "[]", "{}", "\\"]),
)
huge_strings = st.sampled_from([256, 4096, 65_536, 1_000_000, 1_048_577, 1_600_000]).flatmap(
    lambda size: st.sampled_from(["x" * size, "字" * (size // 3), "ins-" + "a" * size, "ap-" + "a" * size])
)
nested = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
junk = st.one_of(scalars, huge_strings, nested)


@st.composite
def broken_request(draw: st.DrawFn) -> tuple[str, str, bytes, dict[str, str]]:
    """(method, path, body bytes, headers) for one broken legacy request."""
    verb = draw(st.sampled_from(VERBS))
    body: Any = dict(endpoints()[verb].request_example_json)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        key = draw(st.sampled_from(sorted(body))) if body else "Region"
        mutation = draw(st.sampled_from(["junk", "drop", "add", "listify", "nest_junk"]))
        if mutation == "junk":
            body[key] = draw(junk)
        elif mutation == "drop":
            body.pop(key, None)
        elif mutation == "add":
            body[draw(st.text(min_size=1, max_size=12))] = draw(junk)
        elif mutation == "listify":  # an array where an object (or scalar) goes
            body[key] = [body.get(key)]
        elif isinstance(body.get(key), dict) and body[key]:
            inner = draw(st.sampled_from(sorted(body[key])))
            body[key] = {**body[key], inner: draw(junk)}
        else:
            body[key] = {draw(st.text(max_size=8)): draw(junk)}
    whole = draw(st.sampled_from(["object"] * 8 + ["array", "scalar", "truncated", "not utf-8", "empty"]))
    if whole == "array":
        body = [body]
    elif whole == "scalar":
        body = draw(scalars)
    payload = json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8", errors="surrogatepass")
    if whole == "truncated":
        payload = payload[: draw(st.integers(min_value=0, max_value=max(0, len(payload) - 1)))]
    elif whole == "not utf-8":
        payload = b'{"Region": "\xff\xfe", "TenantUuid": "system"}'
    elif whole == "empty":
        payload = b""
    method = draw(st.sampled_from(["POST"] * 12 + ["GET", "PUT"]))
    headers: dict[str, str] = {}
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        headers["Idempotency-Key"] = draw(
            st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=300)
        )
    return method, PATH_PREFIX + verb, payload, headers


# --- the test ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_stack(emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    store = tmp_path_factory.mktemp("fuzz") / "compute.db"
    with running_stack(emulator, store_path=store) as stack:
        yield stack


def test_fuzzing_the_json_surface(fuzz_stack: Stack, cloud: Any) -> None:
    cloud.set_throttle(False)
    envoy = fuzz_stack.envoy
    assert envoy is not None
    statuses: Counter[int] = Counter()
    descs: Counter[str] = Counter()
    paths: Counter[str] = Counter()
    problems: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(broken_request())
    def one_request(request: tuple[str, str, bytes, dict[str, str]]) -> None:
        method, path, payload, headers = request
        reply = http_request("127.0.0.1", envoy.http_port, method, path, payload, headers, timeout=60)
        statuses[reply.status] += 1
        paths[path.removeprefix(PATH_PREFIX)] += 1
        if isinstance(reply.body, dict):
            descs[str(reply.body.get("desc") or "success")] += 1
        text = reply.body if isinstance(reply.body, str) else json.dumps(reply.body, ensure_ascii=False)
        record(f"fuzz {reply.status}", text)
        try:
            check_reply(reply.status, reply.body, text)
        except AssertionError as problem:
            problems.append(f"{method} {path} ({len(payload)} bytes): {problem}")
            raise

    try:
        one_request()
    finally:
        tried = sum(statuses.values())
        add_figure("fuzz_requests", tried)
        add_figure("fuzz_failures", len(problems))
        add_figure("fuzz_statuses", dict(sorted(statuses.items())))
        add_figure("fuzz_replies_by_desc", dict(descs.most_common()))
        add_figure("fuzz_requests_by_path", dict(sorted(paths.items())))
        print(f"\nfuzz: {tried} requests, {len(problems)} failures, HTTP statuses {dict(statuses)}")

    assert set(paths) == set(VERBS)  # every legacy path was fuzzed
    assert fuzz_stack.server.process.poll() is None, "the server died"
    assert_healthy(fuzz_stack)


def check_reply(status: int, body: Any, text: str) -> None:
    assert isinstance(body, dict), f"not a JSON object: {text[:200]!r}"
    assert set(ENVELOPE_KEYS) <= set(body), f"no envelope: {text[:200]!r}"
    assert body["stack"] is None
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"traceback text in the reply: {text[:300]!r}"
    if status == 200:
        assert body["scode"] == 0
        return
    assert body["scode"] != 0 and body["desc"], text[:200]
    if status >= 500:
        assert status == 503 and body["scode"] in ENVELOPE_SCODES_5XX_ALLOWED, (
            f"HTTP {status}: {text[:300]!r}"
        )


def assert_healthy(stack: Stack) -> None:
    from grpc_health.v1 import health_pb2

    with stack.server.channel() as channel:
        check = stack.server.health_stub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert check.status == health_pb2.HealthCheckResponse.SERVING
    assert stack.envoy is not None
    reply = stack.envoy.post(PATH_PREFIX + "list", demo_scope())
    assert reply.status == 200 and reply.body["scode"] == 0
