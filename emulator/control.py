"""The control API under `/_emulator/`: plain JSON in and out, no signature (tests, demos, benchmarks).

    POST   /_emulator/reset            fixtures back, faults cleared, counters zeroed, timings and limits
                                       back to their startup values
    POST   /_emulator/accounts         {"SecretId", "SecretKey"}: add an empty account
    POST   /_emulator/seed             {"SecretId", "Region", "Count", "Zone"?, "NamePrefix"?}:
                                       instances RUNNING at once
    GET    /_emulator/faults           list the fault rules
    POST   /_emulator/faults           add a rule (see faults.FaultRule)
    DELETE /_emulator/faults           clear all rules (and launch failures)
    GET    /_emulator/config           what is in force
    POST   /_emulator/config           {"TransitionSeconds", "OperatingLingerSeconds", "Throttle",
                                       "RateLimits", "DefaultRateLimit"}: change it, get it back
    GET    /_emulator/counters         calls, throttling, faults, connections, concurrency, instances
    POST   /_emulator/counters/reset   zero the counters

Errors are `{"Error": {"Code", "Message"}}` with 400 (bad input), 404 (unknown path) or 405 (method).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from emulator.backend import Backend
from emulator.counters import Counters
from emulator.errors import ApiError
from emulator.faults import FaultInjector, FaultRule, InvalidFaultRuleError
from emulator.journal import Journal
from emulator.throttle import Throttle
from emulator.wire import Reply, encode_json

log = logging.getLogger(__name__)

PREFIX = "/_emulator/"
MAX_SEED_COUNT = 200_000
_SECONDS_MEMBER = re.compile(r"^[A-Z][A-Za-z]*Seconds$")


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _bad_request(message: str) -> ControlError:
    return ControlError(400, "InvalidRequest", message)


Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ControlApi:
    def __init__(
        self,
        backend: Backend,
        throttle: Throttle,
        faults: FaultInjector,
        counters: Counters,
        journal: Journal | None = None,
    ) -> None:
        self._backend = backend
        self._journal = journal if journal is not None else Journal()
        self._throttle = throttle
        self._faults = faults
        self._counters = counters
        # The timings the model started with, so that reset can bring them back.
        self._startup_timings = dict(backend.set_timings())
        self._routes: dict[str, dict[str, Handler]] = {
            "reset": {"POST": self._reset},
            "accounts": {"POST": self._add_account},
            "seed": {"POST": self._seed},
            "faults": {"GET": self._list_faults, "POST": self._add_fault, "DELETE": self._clear_faults},
            "config": {"GET": self._get_config, "POST": self._set_config},
            "counters": {"GET": self._get_counters},
            "counters/reset": {"POST": self._reset_counters},
            "requests": {"GET": self._list_requests},
        }

    @staticmethod
    def owns(path: str) -> bool:
        return path.startswith(PREFIX) or path == PREFIX.rstrip("/")

    def handle(self, method: str, path: str, body: bytes) -> Reply:
        try:
            methods = self._routes.get(path[len(PREFIX) :].strip("/")) if path.startswith(PREFIX) else None
            if methods is None:
                raise ControlError(404, "NotFound", f"no control endpoint at {path}")
            handler = methods.get(method)
            if handler is None:
                raise ControlError(405, "MethodNotAllowed", f"{path} accepts {', '.join(sorted(methods))}")
            return Reply(200, encode_json(handler(_json_object(body))))
        except ControlError as error:
            return _error_reply(error.status, error.code, error.message)
        except ApiError as error:
            return _error_reply(400, error.code, error.message_en)
        except (KeyError, TypeError, ValueError) as error:
            return _error_reply(400, "InvalidRequest", str(error))
        except Exception:
            log.exception("control %s %s failed", method, path)
            return _error_reply(500, "InternalError", "the control request failed; see the emulator log")

    # --- handlers ---

    def _reset(self, body: dict[str, Any]) -> dict[str, Any]:
        _expect_members(body, set())
        self._backend.reset()
        self._faults.clear()
        self._backend.set_launch_failure(0.0)
        self._throttle.reset()
        self._backend.set_timings(**self._startup_timings)
        self._counters.reset()
        self._journal.clear()
        return {"Reset": True, "Config": self._config()}

    def _add_account(self, body: dict[str, Any]) -> dict[str, Any]:
        _expect_members(body, {"SecretId", "SecretKey"}, required={"SecretId", "SecretKey"})
        secret_id = _non_empty_string(body, "SecretId")
        secret_key = _non_empty_string(body, "SecretKey")
        self._backend.add_account(secret_id, secret_key)
        return {"SecretId": secret_id}  # never echo the key

    def _seed(self, body: dict[str, Any]) -> dict[str, Any]:
        _expect_members(body, None, required={"SecretId", "Region", "Count"})
        secret_id = _non_empty_string(body, "SecretId")
        region = _non_empty_string(body, "Region")
        count = body["Count"]
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SEED_COUNT:
            raise _bad_request(f"Count must be an integer from 1 to {MAX_SEED_COUNT}")
        # Zone, NamePrefix and any further member go to the model as snake_case options.
        options = {
            _snake_case(member): value
            for member, value in body.items()
            if member not in ("SecretId", "Region", "Count")
        }
        instance_ids = self._backend.seed_instances(secret_id, region, count, **options)
        return {"InstanceIds": instance_ids}

    def _list_faults(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"Rules": [rule.to_json() for rule in self._faults.rules()]}

    def _add_fault(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            rule = FaultRule.from_json(body)
        except InvalidFaultRuleError as error:
            raise _bad_request(str(error)) from error
        rules = self._faults.add(rule)
        if rule.launch_failed_probability is not None:
            self._backend.set_launch_failure(rule.launch_failed_probability)
        return {"Rule": rule.to_json(), "Rules": [each.to_json() for each in rules]}

    def _clear_faults(self, body: dict[str, Any]) -> dict[str, Any]:
        self._faults.clear()
        self._backend.set_launch_failure(0.0)
        return {"Rules": []}

    def _get_config(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._config()

    def _set_config(self, body: dict[str, Any]) -> dict[str, Any]:
        # Validate everything before changing anything, so a bad request changes nothing.
        timings: dict[str, float] = {}
        enabled: bool | None = None
        rates: dict[str, float] = {}
        default_rate: float | None = None
        for member, value in body.items():
            if member == "Throttle":
                if not isinstance(value, bool):
                    raise _bad_request("Throttle must be true or false")
                enabled = value
            elif member == "RateLimits":
                if not isinstance(value, dict):
                    raise _bad_request('RateLimits must be an object like {"DescribeInstances": 40}')
                rates = {
                    str(action): _positive(f"RateLimits.{action}", rate) for action, rate in value.items()
                }
            elif member == "DefaultRateLimit":
                default_rate = _positive(member, value)
            elif _SECONDS_MEMBER.match(member):
                timings[_snake_case(member)] = _non_negative(member, value)
            else:
                raise _bad_request(
                    f"unknown member {member!r}; "
                    "allowed: Throttle, RateLimits, DefaultRateLimit, *Seconds timings"
                )
        if timings:
            self._backend.set_timings(**timings)
        self._throttle.configure(enabled=enabled, rates=rates, default_rate=default_rate)
        return self._config()

    def _get_counters(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._counters.snapshot(self._backend.instance_counts())

    def _reset_counters(self, body: dict[str, Any]) -> dict[str, Any]:
        self._counters.reset()
        self._journal.clear()
        return self._counters.snapshot(self._backend.instance_counts())

    def _list_requests(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"Requests": self._journal.entries()}

    def _config(self) -> dict[str, Any]:
        settings = self._throttle.settings
        timings = {_camel_case(name): seconds for name, seconds in self._backend.set_timings().items()}
        return {
            **timings,
            "Throttle": settings.enabled,
            "RateLimits": dict(sorted(settings.rates.items())),
            "DefaultRateLimit": settings.default_rate,
        }


def _error_reply(status: int, code: str, message: str) -> Reply:
    return Reply(status, encode_json({"Error": {"Code": code, "Message": message}}))


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise _bad_request(f"the body is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise _bad_request("the body must be a JSON object")
    return value


def _expect_members(
    body: Mapping[str, Any], allowed: set[str] | None, required: set[str] | None = None
) -> None:
    missing = sorted((required or set()) - set(body))
    if missing:
        raise _bad_request(f"missing members {missing}")
    if allowed is not None:
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise _bad_request(f"unknown members {unknown}")


def _non_empty_string(body: Mapping[str, Any], member: str) -> str:
    value = body.get(member)
    if not isinstance(value, str) or not value.strip():
        raise _bad_request(f"{member} must be a non-empty string")
    return value


def _number(member: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad_request(f"{member} must be a number")
    return value  # as given: 40 stays 40 in the config shown back


def _positive(member: str, value: Any) -> float:
    number = _number(member, value)
    if number <= 0:
        raise _bad_request(f"{member} must be above 0 (set Throttle to false to switch throttling off)")
    return number


def _non_negative(member: str, value: Any) -> float:
    number = _number(member, value)
    if number < 0:
        raise _bad_request(f"{member} must not be negative")
    return number


def _snake_case(member: str) -> str:
    """`OperatingLingerSeconds` -> `operating_linger_seconds` (the model's keyword names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", member).lower()


def _camel_case(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
