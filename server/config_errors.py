"""What every table of the configuration shares: the one error type and the unknown-key rule.

Its own module, importing nothing from the rest of server/, so each subsystem's settings module can use it
without an import cycle through server/config.py (which imports the log redaction of server/observability/).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


class ConfigError(ValueError):
    """The configuration file is missing, malformed or inconsistent. The message names the offending table
    or key and never contains a secret. Subsystems subclass it (AuthConfigError, StoreConfigError)."""


def reject_unknown_keys(
    data: Mapping[str, Any], known: Collection[str], where: str, error: type[ConfigError] = ConfigError
) -> None:
    """A typo must fail the start, not silently fall back to a default."""
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise error(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
