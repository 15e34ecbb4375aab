"""Instance names (and host names) for a batch, by RunInstances' documented rules.

- `{R:x}` numbers the instances from x; `{R:x,F:y}` zero-pads to width y (0..8; wider numbers keep their
  digits). Several patterns may appear; anything else in braces is plain text.
- Without a pattern, a batch of n > 1 gets the suffixes 1..n appended (`server_` -> `server_1`, ...);
  a single instance keeps the name as given.
- Host names also accept `{IP}`, replaced by the instance's private IP.
"""

from __future__ import annotations

import re

DEFAULT_INSTANCE_NAME = "未命名"

_SEQUENCE = re.compile(r"\{R:(\d+)(?:,F:([0-8]))?\}")
_IP = "{IP}"


def has_sequence(template: str) -> bool:
    return _SEQUENCE.search(template) is not None


def batch_names(template: str, count: int) -> list[str]:
    """The `count` names `template` expands to."""
    if has_sequence(template):
        return [_expand(template, index) for index in range(count)]
    if count == 1:
        return [template]
    return [f"{template}{index + 1}" for index in range(count)]


def host_name(template: str, index: int, count: int, private_ip: str) -> str:
    """One instance's host name from a HostName template (sequence rules as for names, plus `{IP}`)."""
    with_ip = template.replace(_IP, private_ip)
    if has_sequence(with_ip):
        return _expand(with_ip, index)
    return with_ip if count == 1 else f"{with_ip}{index + 1}"


def _expand(template: str, index: int) -> str:
    def number(match: re.Match[str]) -> str:
        start = int(match.group(1))
        width = int(match.group(2) or 0)
        return str(start + index).zfill(width)

    return _SEQUENCE.sub(number, template)
