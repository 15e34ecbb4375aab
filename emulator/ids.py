"""Tencent resource IDs: a prefix plus 8 characters of [0-9a-z] (`ins-2n9bmcww`), and instance UUIDs."""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Container
from functools import cache

_ALPHABET = string.digits + string.ascii_lowercase

INSTANCE = "ins"
IMAGE = "img"
VPC = "vpc"
SUBNET = "subnet"
SECURITY_GROUP = "sg"
DISK = "disk"
KEY_PAIR = "skey"
ROUTE_TABLE = "rtb"


@cache
def _pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(prefix)}-[0-9a-z]{{8}}")


def is_well_formed(prefix: str, value: str) -> bool:
    return _pattern(prefix).fullmatch(value) is not None


def new_id(prefix: str, rng: random.Random, taken: Container[str] = ()) -> str:
    """A fresh ID not in `taken` (collisions are astronomically rare, but seeding makes many)."""
    while True:
        candidate = f"{prefix}-{''.join(rng.choices(_ALPHABET, k=8))}"
        if candidate not in taken:
            return candidate


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
