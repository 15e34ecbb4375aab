"""The legacy JSON API document, parsed: the contract the proto and Envoy must keep.

`data/tencent-compute-api.md` is a verbatim copy of the legacy document (../shared/seed/). Its tables and its
examples are the contract, slips included. This module reads them so tests never retype them:

    endpoints()["list"].request_example      # the example body, byte for byte (bytes)
    endpoints()["list"].response_example     # the example reply, parsed (dict, key order kept)
    endpoints()["create"].request_table      # [Param(name, type, required, default, description), ...]
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).resolve().parent / "data" / "tencent-compute-api.md"
PATH_PREFIX = "/v1/tencent/compute/"
# Each legacy verb (its path under PATH_PREFIX) and the gRPC method serving it; the method's messages are
# `<Method>Request` and `<Method>Response`.
RPC_BY_VERB = {
    "create": "Create",
    "delete": "Delete",
    "update": "Update",
    "reset": "Reset",
    "list": "List",
    "inspect": "Inspect",
    "turn_on": "TurnOn",
    "turn_off": "TurnOff",
}
VERBS = tuple(RPC_BY_VERB)
# The keys of every legacy reply, success or error, in the legacy order.
ENVELOPE_KEYS = ("scode", "desc", "message", "message_cn", "stack", "data")


@dataclass(frozen=True)
class Param:
    """One row of a legacy table."""

    name: str
    type: str
    required: str
    default: str
    description: str


@dataclass
class Endpoint:
    """One legacy endpoint: its tables and examples as the document shows them."""

    verb: str
    title: str
    request_table: list[Param] = field(default_factory=list)
    response_table: list[Param] = field(default_factory=list)
    list_object_table: list[Param] = field(default_factory=list)
    request_example: bytes = b""
    response_example: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return PATH_PREFIX + self.verb

    @property
    def request_example_json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.request_example)
        return parsed


def _table_rows(lines: list[str]) -> list[Param]:
    """Rows of a markdown table (header and separator rows skipped; the List table has neither)."""
    rows = []
    for line in lines:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or set(cells[0]) <= {"-", " "} or cells[0] in ("名称", ""):
            continue
        if all(set(cell) <= {"-", " "} for cell in cells):
            continue
        if len(cells) == 3:  # returned fields: name | type | description
            rows.append(Param(cells[0], cells[1], "", "", cells[2]))
        else:
            rows.append(Param(cells[0], cells[1], cells[2], cells[3], cells[4]))
    return rows


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```\n(.*?)```", text, flags=re.DOTALL)


def _parse_section(verb: str, section: str) -> Endpoint:
    title = re.search(r"#### 功能：(.*)", section)
    endpoint = Endpoint(verb=verb, title=title.group(1).strip() if title else "")
    parts = re.split(r"^(###+ .*)$", section, flags=re.MULTILINE)
    # parts: [preamble, heading, body, heading, body, ...]
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        table_lines = [line for line in body.splitlines() if "|" in line]
        name = heading.lstrip("#").strip()
        if name == "请求参数":
            endpoint.request_table = _table_rows(table_lines)
        elif name == "返回参数":
            endpoint.response_table = _table_rows(table_lines)
        elif name == "List 对象":
            endpoint.list_object_table = _table_rows(table_lines)
        elif name == "请求示例":
            blocks = _code_blocks(body)
            # First block: the URL; second: the body, kept byte for byte (without the fence's newline).
            endpoint.request_example = blocks[1].rstrip("\n").encode("utf-8")
        elif name == "正常返回示例":
            endpoint.response_example = json.loads(_code_blocks(body)[0])
    return endpoint


@functools.cache
def endpoints() -> dict[str, Endpoint]:
    """Every legacy endpoint by verb, in document order."""
    text = DOCUMENT.read_text(encoding="utf-8")
    sections = re.split(r"^## " + re.escape(PATH_PREFIX) + r"(\w+)\s*$", text, flags=re.MULTILINE)
    result = {}
    for verb, section in zip(sections[1::2], sections[2::2], strict=True):
        result[verb] = _parse_section(verb, section)
    return result
