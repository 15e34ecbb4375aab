"""The cloud model behind the HTTP layer: implements `emulator.backend.Backend`.

`dispatch` checks what every action shares (service and action known, API version, region), validates
the parameters against the official spec, settles the region's due lifecycle transitions, and runs the
action's handler under the account's lock. Accounts are independent, so calls for different accounts
run in parallel. The control hooks (reset, accounts, seeding, timings, launch failures, counts) live here.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

from emulator import apierrors, fixtures, fleet, lifecycle, seeding, spec
from emulator.actions import HANDLERS
from emulator.backend import CallContext
from emulator.call import Call
from emulator.clock import Clock, SystemClock
from emulator.errors import ApiError
from emulator.fixtures import Fixtures
from emulator.model import Account, Catalog, Region, RegionState
from emulator.params import validate_request

DEFAULT_TRANSITION_SECONDS = 3.0
SEED_NAME_PREFIX = "seed"
MAX_SEED = 200_000
SEED_OPTIONS = {
    "zone": "Zone",
    "nameprefix": "NamePrefix",
    "instancetype": "InstanceType",
    "imageid": "ImageId",
}


class World:
    def __init__(
        self,
        loaded: Fixtures,
        *,
        transition_seconds: float | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._fixtures = loaded
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        transition = loaded.timings.get("TransitionSeconds", DEFAULT_TRANSITION_SECONDS)
        linger = loaded.timings.get("OperatingLingerSeconds")
        if transition_seconds is not None:  # the command line wins over the file, linger follows it
            transition, linger = transition_seconds, None
        self._startup = lifecycle.Timings(
            transition, lifecycle.default_linger(transition) if linger is None else linger
        )
        self._lock = threading.Lock()  # guards the accounts map, timings and the launch failure setting
        self._timings = lifecycle.Timings(**vars(self._startup))
        self._launch_failure = 0.0
        self._accounts: dict[str, Account] = self._fresh_accounts()

    @property
    def catalog(self) -> Catalog:
        return self._fixtures.catalog

    def _fresh_accounts(self) -> dict[str, Account]:
        wall = self._clock.wall()
        built = (
            fixtures.build_account(raw, self.catalog, self._rng, wall=wall) for raw in self._fixtures.accounts
        )
        return {account.secret_id: account for account in built}

    # ------------------------------------------------------------ Backend: auth and dispatch

    def secret_key_for(self, secret_id: str) -> str | None:
        account = self._accounts.get(secret_id)
        return account.secret_key if account else None

    def dispatch(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        handlers = HANDLERS.get(ctx.service)
        if handlers is None or ctx.action not in handlers:
            raise apierrors.invalid_action(ctx.action, ctx.service)
        service_spec = spec.load(ctx.service)
        if ctx.version != service_spec.version:
            raise apierrors.no_such_version(ctx.version, ctx.action)
        region = self._region(ctx)
        validated = validate_request(service_spec, ctx.action, params)
        account = self._accounts.get(ctx.account)
        if account is None:  # the HTTP layer authenticates first; this only guards direct callers
            raise ApiError("AuthFailure.SecretIdNotFound", "The SecretId is not found.", "SecretId 不存在。")
        with self._lock:
            timings = lifecycle.Timings(**vars(self._timings))
            launch_failure = self._launch_failure
        with account.lock:
            now = self._clock.monotonic()
            state = account.regions[region.region]
            _settle(state, now)
            call = Call(
                ctx=ctx,
                params=validated,
                catalog=self.catalog,
                account=account,
                region=region,
                state=state,
                now=now,
                wall=self._clock.wall(),
                timings=timings,
                rng=self._rng,
                launch_failure_probability=launch_failure,
            )
            return handlers[ctx.action](call)

    def _region(self, ctx: CallContext) -> Region:
        if not ctx.region:
            raise apierrors.missing_parameter("Region")
        region = self.catalog.regions.get(ctx.region)
        if region is None:
            raise apierrors.region_not_found(ctx.region)
        if ctx.service not in region.services:
            raise apierrors.unsupported_region(ctx.region, ctx.service)
        return region

    # ------------------------------------------------------------ control hooks

    def reset(self) -> None:
        """Fixtures back (accounts added since are dropped), startup timings, no launch failures."""
        accounts = self._fresh_accounts()
        with self._lock:
            self._accounts = accounts
            self._timings = lifecycle.Timings(**vars(self._startup))
            self._launch_failure = 0.0

    def add_account(self, secret_id: str, secret_key: str) -> None:
        """An account with no instances (default VPC, subnets and security group in every region)."""
        if not secret_id or not secret_key:
            raise ValueError("SecretId and SecretKey must be non-empty")
        account = fixtures.empty_account(secret_id, secret_key, self.catalog, self._rng, self._clock.wall())
        with self._lock:
            if secret_id in self._accounts:
                raise ValueError(f"account {secret_id} already exists")
            # copy-on-write: lock-free readers (dispatch, secret_key_for) never see a half-updated map
            self._accounts = {**self._accounts, secret_id: account}

    def seed_instances(self, account: str, region: str, count: int, **options: Any) -> list[str]:
        """Create `count` RUNNING instances at once (see emulator.seeding).

        Options, in either spelling: Zone/zone, NamePrefix/name_prefix, InstanceType/instance_type,
        ImageId/image_id (default: the first Linux image). ValueError for anything unknown or invalid.
        """
        opts = {key.replace("_", "").lower(): value for key, value in options.items() if value is not None}
        unknown = set(opts) - set(SEED_OPTIONS)
        if unknown:
            raise ValueError(
                f"unknown seed options {sorted(unknown)}; known: {sorted(SEED_OPTIONS.values())}"
            )
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_SEED:
            raise ValueError(f"Count must be an integer between 0 and {MAX_SEED}")
        target = self._accounts.get(account)
        if target is None:
            raise ValueError(f"unknown account {account}")
        found = self.catalog.regions.get(region)
        if found is None or "cvm" not in found.services or not found.zones:
            raise ValueError(f"unknown region {region}")
        zone = opts.get("zone")
        if zone is not None and found.zone(str(zone)) is None:
            raise ValueError(f"zone {zone} is not in region {region}")
        image_id = opts.get("imageid") or next(
            (i.image_id for i in self.catalog.images.values() if not i.is_windows and i.offered_in(region)),
            "",
        )
        image = self.catalog.images.get(str(image_id))
        if image is None or not image.offered_in(region):
            raise ValueError(f"image {image_id} is not offered in {region}")
        with target.lock:
            state = target.regions[region]
            _settle(state, self._clock.monotonic())
            return seeding.seed(
                target,
                state,
                self.catalog,
                zones=[str(zone)] if zone else [z.zone for z in found.zones],
                count=count,
                image=image,
                prefix=str(opts.get("nameprefix") or SEED_NAME_PREFIX),
                instance_type=opts.get("instancetype"),
                rng=self._rng,
                wall=self._clock.wall(),
            )

    def set_timings(self, **seconds: float) -> dict[str, float]:
        """Change `transition_seconds` and/or `operating_linger_seconds` (no arguments: just read them).

        Returns all timings now in force, keyed the same way. Operations under way keep their deadlines.
        """
        known = set(vars(self._startup))
        for key, value in seconds.items():
            if key not in known:
                raise ValueError(f"unknown timing {key}; known: {sorted(known)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{key} must be a non-negative number of seconds")
        with self._lock:
            for key, value in seconds.items():
                setattr(self._timings, key, float(value))
            return self._timings.as_dict()

    def set_launch_failure(self, probability: float) -> None:
        if isinstance(probability, bool) or not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        with self._lock:
            self._launch_failure = float(probability)

    def instance_counts(self) -> dict[str, dict[str, int]]:
        """Existing instances per account and CVM region (terminations that are due are applied first)."""
        counts: dict[str, dict[str, int]] = {}
        for secret_id, account in self._accounts.items():
            with account.lock:
                now = self._clock.monotonic()
                per_region: dict[str, int] = {}
                for name, state in account.regions.items():
                    if "cvm" in self.catalog.regions[name].services:
                        _settle(state, now)
                        per_region[name] = len(state.instances)
                counts[secret_id] = per_region
        return counts


def _settle(state: RegionState, now: float) -> None:
    for gone in lifecycle.settle_region(state, now):
        fleet.release(state, gone)


def build_world(config_path: Path | None, transition_seconds: float | None) -> World:
    """The model loaded from `config_path` (the default fixtures when None).

    `transition_seconds` overrides the file's TransitionSeconds; the linger then defaults from it.
    """
    return World(fixtures.load(config_path), transition_seconds=transition_seconds)
