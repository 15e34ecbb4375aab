"""What an action handler receives: the validated request plus the state it may read and change."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.backend import CallContext
from emulator.lifecycle import Timings
from emulator.model import Account, Catalog, Region, RegionState


@dataclass
class Call:
    ctx: CallContext
    params: dict[str, Any]  # validated and coerced against the spec
    catalog: Catalog
    account: Account
    region: Region
    state: RegionState  # the account's resources in ctx.region (already settled to `now`)
    now: float  # monotonic seconds, for lifecycle deadlines
    wall: float  # epoch seconds, for CreatedTime
    timings: Timings
    rng: random.Random
    launch_failure_probability: float

    @property
    def language(self) -> str:
        return self.ctx.language


Handler = Callable[[Call], dict[str, Any]]
