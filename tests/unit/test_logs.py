"""Structured logs: one JSON object per line, request ID from the context, secrets redacted."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from server.observability.logs import (
    REDACTED,
    JsonFormatter,
    RedactingFilter,
    TextFormatter,
    bind_request_id,
    configure_logging,
    current_request_id,
    redact,
    register_secret,
    with_current_context,
)


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing JSON lines to a buffer; not propagating, so the suite's logging is untouched."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.obs.logs")
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.handlers = []
    logger.propagate = True


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers = handlers
    root.setLevel(level)


def test_line_has_fixed_fields_then_extras(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    with bind_request_id("req-42"):
        logger.info("listed %d instances", 7, extra={"region": "ap-guangzhou", "count": 7})
    (line,) = lines(stream)
    assert list(line)[:5] == ["time", "level", "logger", "message", "request_id"]
    assert line["level"] == "INFO"
    assert line["logger"] == "test.obs.logs"
    assert line["message"] == "listed 7 instances"
    assert line["request_id"] == "req-42"
    assert line["region"] == "ap-guangzhou" and line["count"] == 7
    assert line["time"].endswith("Z") and "T" in line["time"]


def test_request_id_is_null_outside_a_request_and_explicit_one_wins(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    logger.info("startup")
    with bind_request_id("from-context"):
        logger.info("explicit", extra={"request_id": "from-extra"})
    assert current_request_id() is None
    first, second = lines(stream)
    assert first["request_id"] is None
    assert second["request_id"] == "from-extra"


def test_one_line_per_record_even_with_newlines_and_exceptions(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    try:
        raise RuntimeError("line one\nline two")
    except RuntimeError:
        logger.exception("failed\ntwice")
    (line,) = lines(stream)  # exactly one physical line
    assert line["level"] == "ERROR"
    assert line["message"] == "failed\ntwice"
    assert "RuntimeError: line one" in line["exception"]


def test_extras_that_are_not_json_become_strings(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info("odd", extra={"ids": ("ins-1", "ins-2"), "obj": object()})
    (line,) = lines(stream)
    assert line["ids"] == ["ins-1", "ins-2"]
    assert line["obj"].startswith("<object object")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"SecretKey": "s3cr3t value", "SecretId": "AKIDPUBLIC"}', "s3cr3t value"),
        ("SecretKey=abc123xyz next", "abc123xyz"),
        ("TENCENTCLOUD_SECRET_KEY=abcdef123", "abcdef123"),
        ("{'Password': 'hunter2!', 'InstanceName': 'web'}", "hunter2!"),
        ("LoginSettings.Password=Abc123!x&Foo=bar", "Abc123!x"),
        ('password: "with \\" quote inside" tail', "quote inside"),
        ("[('authorization', 'Bearer abc.def.ghi'), ('x-request-id', 'r1')]", "abc.def.ghi"),
        ("Authorization: Bearer tok_123456", "tok_123456"),
        (
            "Authorization: TC3-HMAC-SHA256 Credential=AKID/2024/cvm/tc3_request,"
            " SignedHeaders=content-type;host, Signature=0123456789abcdef0123456789abcdef",
            "0123456789abcdef",
        ),
        ("X-TC-Token: session-token-value", "session-token-value"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl here", "eyJzdWIiOiJ4In0"),
        (json.dumps({"body": json.dumps({"Password": 'p@ss"w\\x'})}), "p@ss"),
    ],
)
def test_redact_removes_secret_looking_values(text: str, secret: str) -> None:
    redacted = redact(text)
    assert secret not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    "text",
    [
        "ClientToken=2f9c-idempotency kept",
        "token bucket refilled",
        'secret_key_env = "TENCENT_SECRET_KEY"',
        "SecretId=AKIDPUBLIC InstanceName=web",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def test_redaction_keeps_surrounding_json_valid() -> None:
    original = {"SecretKey": "abc", "Password": "x y z", "InstanceIds": ["ins-1"]}
    assert json.loads(redact(json.dumps(original))) == {
        "SecretKey": REDACTED,
        "Password": REDACTED,
        "InstanceIds": ["ins-1"],
    }


def test_registered_secret_is_redacted_wherever_it_appears() -> None:
    register_secret("registered-secret-value-1")
    assert redact("oops registered-secret-value-1!") == f"oops {REDACTED}!"
    register_secret("abc")  # too short to redact safely: ignored
    assert redact("abc") == "abc"


def test_formatter_redacts_message_extras_and_exception(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    try:
        raise ValueError("bad SecretKey=exc-secret-1")
    except ValueError:
        logger.exception(
            "calling with Password=%s",
            "msg-secret-2",
            extra={"password": "extra-secret-3", "params": {"SecretKey": "nested-secret-4", "Limit": 100}},
        )
    output = stream.getvalue()
    for secret in ("exc-secret-1", "msg-secret-2", "extra-secret-3", "nested-secret-4"):
        assert secret not in output
    (line,) = lines(stream)
    assert line["password"] == REDACTED
    assert line["params"] == {"SecretKey": REDACTED, "Limit": 100}


def test_text_formatter_and_filter_redact() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "Password=%s", ("text-secret",), None)
    assert "text-secret" not in TextFormatter().format(record)
    RedactingFilter().filter(record)
    assert record.getMessage() == f"Password={REDACTED}"


def test_configure_logging_installs_one_handler(restore_root_logger: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("DEBUG", json=True, stream=first)
    configure_logging("INFO", json=True, stream=second)  # replaces, does not add
    logging.getLogger("test.obs.configured").debug("hidden")
    logging.getLogger("test.obs.configured").info("shown", extra={"k": 1})
    assert first.getvalue() == ""
    (line,) = lines(second)
    assert line["message"] == "shown" and line["k"] == 1

    plain = io.StringIO()
    configure_logging(logging.INFO, json=False, stream=plain)
    with bind_request_id("rid-9"):
        logging.getLogger("test.obs.configured").info("plain text")
    assert "[rid-9] plain text" in plain.getvalue()


def test_request_id_follows_work_into_worker_threads() -> None:
    seen: list[str | None] = []
    lock = threading.Lock()

    def page(_offset: int) -> None:
        with lock:
            seen.append(current_request_id())

    with ThreadPoolExecutor(max_workers=4) as pool:
        with bind_request_id("rid-a"):
            wrapped = with_current_context(page)
            list(pool.map(wrapped, range(8)))  # one wrapper, run in several threads at once
        list(pool.map(page, range(2)))  # without the wrapper the workers see nothing
    assert seen == ["rid-a"] * 8 + [None, None]
