"""Structured logs: one JSON object per line, carrying the request ID, with secrets redacted.

- `request_id_var` holds the ID of the RPC being handled (set by the observability interceptor in the
  handler's thread); every line logged while it is set carries it. `with_current_context(fn)` carries it into
  worker threads (a ThreadPoolExecutor does not copy context variables by itself).
- `configure_logging(level, json=True)` installs one stderr handler on the root logger.
- Redaction is the last line of defence, not the first: code must still not log secrets. Every string that
  reaches a line (message, exception text, extra fields) is scrubbed of secret-looking values: values of keys
  such as SecretKey / Password / Token / Authorization, Bearer tokens, JWTs, TC3 signatures, and any value
  registered with `register_secret` (the configuration loader registers every SecretKey it resolves).

A line looks like this (wrapped here):

    {"time": "2025-01-02T03:04:05.678Z", "level": "INFO", "logger": "compute.access", "message": "rpc",
     "request_id": "4f1c...", "method": "/tencent.compute.v1.ComputeService/List", "code": "OK",
     "duration_ms": 12.3, "peer": "ipv4:127.0.0.1:53122"}
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import functools
import json as _json
import logging
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

REDACTED = "[REDACTED]"

# --- request id ---------------------------------------------------------------------------------------------

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The ID of the request being handled in this context, or None outside a request."""
    return request_id_var.get()


def new_request_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def bind_request_id(request_id: str | None) -> Iterator[str | None]:
    """Set the request ID for the duration of the block (and restore the previous one after)."""
    token = request_id_var.set(request_id)
    try:
        yield request_id
    finally:
        request_id_var.reset(token)


def with_current_context(fn: Callable[P, T]) -> Callable[P, T]:
    """Wrap `fn` so that it runs with the context variables (request ID, caller) of the thread that wrapped
    it, e.g. `executor.submit(with_current_context(fetch_page), offset)`. Each call runs in its own copy,
    so one wrapper may run in several threads at once."""
    captured = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return captured.copy().run(fn, *args, **kwargs)

    return run


# --- redaction ----------------------------------------------------------------------------------------------

# Key names whose values are secret. Matched case-insensitively, as a whole key: not preceded by a letter or
# digit (so "ClientToken", the idempotency token, is not a "token"), directly followed by a separator.
_SECRET_KEY_NAMES = (
    r"secret[_-]?(?:access[_-]?)?key|client[_-]?secret|password|passwd|pwd|api[_-]?key|private[_-]?key"
    r"|secret|token|authorization|cookie"
)
_SECRET_KEY_RE = re.compile(rf"(?i)(?<![a-z0-9])(?:{_SECRET_KEY_NAMES})$")

_KEY_VALUE_RE = re.compile(
    rf"(?i)(?P<key>(?<![a-z0-9])(?:{_SECRET_KEY_NAMES}))"
    # `key: v`, `key=v`, `"key": "v"`, `\"key\": \"v\"` (JSON inside JSON), `('key', 'v')` (metadata tuples)
    r"(?P<sep>\\?[\"']?\s*[:=]\s*|[\"']\s*,\s*)"
    r"(?P<value>"
    r'\\"(?:\\\\\\"|\\\\|(?!\\").)*\\"'  # \"...\" (an escaped \\\" inside does not end it)
    r"|\"(?:[^\"\\]|\\.)*\""  # "..."
    r"|'(?:[^'\\]|\\.)*'"  # '...'
    r"|(?!\[REDACTED\])[^\s\"'\\,;&}\])]+"  # bare word (not one already redacted)
    r")"
)
# Header values run to the end of the line: "Authorization: TC3-HMAC-SHA256 Credential=..., Signature=...".
_HEADER_LINE_RE = re.compile(
    r"(?i)(?<![a-z0-9-])((?:proxy-)?authorization|cookie)(\s*:\s*)(?![\"'\\])([^\r\n]+)"
)
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)(\s+)[a-z0-9\-._~+/]+=*")
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_SIGNATURE_RE = re.compile(r"(?i)\b(signature=)[0-9a-f]{16,}")

# Every pattern above needs one of these words to match, in any case (the registered secrets are checked on
# their own). Most strings that reach a line (method names, codes, peers, IDs) contain none of them, and
# finding that out is ten times cheaper than running the patterns. This holds for ASCII text only: with
# IGNORECASE, re also matches some non-ASCII letters to ASCII ones (the Kelvin sign to "k", "ſ" to "s"), so
# other text always runs the patterns. Keep this list in step with the patterns.
_TRIGGER_WORDS = (
    "secret",  # secret, secret_key, secret-access-key, client_secret
    "passw",  # password, passwd
    "pwd",
    "api",  # api_key
    "private",  # private_key
    "token",
    "authorization",  # also the header lines
    "cookie",
    "bearer",
    "basic",
    "eyj",  # JWTs
    "signature=",
)

_MIN_REGISTERED_SECRET = 6  # shorter values would redact ordinary words
_registered_lock = threading.Lock()
_registered_secrets: set[str] = set()
_registered_snapshot: tuple[str, ...] = ()  # replaced whole, so readers never see a set being changed
_registered_re: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Redact this exact value wherever it appears in a log line (e.g. every configured SecretKey)."""
    global _registered_re, _registered_snapshot
    if not value or len(value) < _MIN_REGISTERED_SECRET:
        return
    with _registered_lock:
        _registered_secrets.add(value)
        alternatives = sorted(_registered_secrets, key=len, reverse=True)
        _registered_re = re.compile("|".join(re.escape(s) for s in alternatives))
        _registered_snapshot = tuple(alternatives)


@functools.lru_cache(maxsize=1024)  # field names repeat on every line
def is_secret_key(name: str) -> bool:
    """Whether a field of this name holds a secret (its whole value is then redacted)."""
    return bool(_SECRET_KEY_RE.search(name))


def _redact_key_value(match: re.Match[str]) -> str:
    value = match.group("value")
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return f"{match.group('key')}{match.group('sep')}{quote}{REDACTED}{quote}"
    return f"{match.group('key')}{match.group('sep')}{REDACTED}"


def _may_hold_secret(text: str) -> bool:
    """False only when no pattern of `redact` can match `text` (then it is returned as it is)."""
    for secret in _registered_snapshot:
        if secret in text:
            return True
    if not text.isascii():
        return True
    lowered = text.lower()
    for word in _TRIGGER_WORDS:  # noqa: SIM110 - twice as fast as any() over a generator, on every line
        if word in lowered:
            return True
    return False


def redact(text: str) -> str:
    """`text` with every secret-looking value replaced by [REDACTED]."""
    if not _may_hold_secret(text):
        return text
    pattern = _registered_re
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _HEADER_LINE_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _BEARER_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _JWT_RE.sub(REDACTED, text)
    text = _SIGNATURE_RE.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _KEY_VALUE_RE.sub(_redact_key_value, text)


def scrub(value: Any) -> Any:
    """A JSON-ready copy of `value` with secret fields and secret-looking strings redacted."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {
            str(k): (REDACTED if is_secret_key(str(k)) and v is not None else scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v) for v in value]
    return redact(str(value))


class RedactingFilter(logging.Filter):
    """For handlers with foreign formatters: redacts the message (and its arguments) in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


# --- formatters ---------------------------------------------------------------------------------------------

# Attributes every LogRecord has; anything else on a record came from `extra=` and is emitted as a field.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
}


# What json.dumps(line, ensure_ascii=False, default=str) builds for every call, built once.
_LINE_ENCODER = _json.JSONEncoder(ensure_ascii=False, default=str)


def _utc_time(created: float) -> str:
    moment = _dt.datetime.fromtimestamp(created, tz=_dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _request_id_of(record: logging.LogRecord) -> str | None:
    explicit = getattr(record, "request_id", None)
    return explicit if isinstance(explicit, str) else current_request_id()


def _extras_of(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    if record.exc_info and record.exc_info[0] is not None:
        return formatter.formatException(record.exc_info)
    return record.exc_text or None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then the `extra=` fields
    (after the fixed ones, never overriding them), then `exception`/`stack` when present. Redacted."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": _request_id_of(record),
        }
        for key, value in record.__dict__.items():  # the extras (_extras_of, without the copy)
            if key in _STANDARD_ATTRS or key in line or key.startswith("_"):
                continue
            line[key] = REDACTED if is_secret_key(key) and value is not None else scrub(value)
        exception = _exception_text(self, record)
        if exception:
            line["exception"] = redact(exception)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return _LINE_ENCODER.encode(line)


class TextFormatter(logging.Formatter):
    """Human-readable single lines for a terminal (`json_logs = false`), redacted the same way:
    `2025-01-02T03:04:05.678Z INFO compute.access [request-id] rpc method=... code=OK`."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_utc_time(record.created), record.levelname, record.name]
        parts.append(f"[{_request_id_of(record) or '-'}]")
        parts.append(record.getMessage())
        for key, value in _extras_of(record).items():
            shown = REDACTED if is_secret_key(key) else value
            parts.append(f"{key}={shown}")
        text = " ".join(str(p) for p in parts)
        exception = _exception_text(self, record)
        if exception:
            text = f"{text}\n{exception}"
        if record.stack_info:
            text = f"{text}\n{self.formatStack(record.stack_info)}"
        return redact(text)


_HANDLER_MARK = "_compute_observability_handler"


def configure_logging(
    level: int | str = "INFO", json: bool = True, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log record at `level` or above to `stream` (default stderr), one line each, JSON or text.
    Replaces the handler a previous call installed (safe to call again, e.g. in tests); leaves other
    handlers alone. Returns the handler."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
            existing.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler
