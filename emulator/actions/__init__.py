"""Action handlers by service and action name; the World looks them up here."""

from __future__ import annotations

from emulator.actions import catalog, describe, operations, run, vpc
from emulator.call import Handler

HANDLERS: dict[str, dict[str, Handler]] = {
    "cvm": {**run.HANDLERS, **operations.HANDLERS, **describe.HANDLERS, **catalog.HANDLERS},
    "vpc": dict(vpc.HANDLERS),
}
