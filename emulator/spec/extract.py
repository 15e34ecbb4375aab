"""Write the trimmed copies of Tencent's official API specs that the emulator validates against.

The source is the machine-readable spec shipped in the `tccli` package (`services/<svc>/v20170312/api.json`).
We keep exactly the actions the emulator serves and every object they reference, and drop the prose
(`document`, `example`), which is large and never read by code. `tests/emulator/test_spec_copy.py` re-runs
`trim()` against the installed tccli and fails when the committed copy drifts.

Run from the repository root: `.venv/bin/python -m emulator.spec.extract`.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).resolve().parent

# The actions the emulator implements, per service.
ACTIONS: dict[str, tuple[str, ...]] = {
    "cvm": (
        "RunInstances",
        "TerminateInstances",
        "ModifyInstancesAttribute",
        "ResetInstance",
        "DescribeInstances",
        "DescribeInstancesStatus",
        "StartInstances",
        "StopInstances",
        "RebootInstances",
        "DescribeInstanceFamilyConfigs",
        "DescribeInstanceTypeConfigs",
        "DescribeImages",
        "DescribeZones",
    ),
    "vpc": ("DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups"),
}

# Member fields that carry meaning for validation; everything else is prose.
_MEMBER_KEYS = ("name", "type", "member", "required", "output_required", "value_allowed_null", "disabled")
_OBJECT_KEYS = ("type", "usage")
_ACTION_KEYS = ("name", "input", "output", "status")


def source_path(service: str) -> Path:
    """The official api.json inside the installed tccli package."""
    found = importlib.util.find_spec("tccli")
    if found is None or found.origin is None:
        raise RuntimeError("tccli is not installed (it is in the dev dependencies)")
    return Path(found.origin).resolve().parent / "services" / service / "v20170312" / "api.json"


def copy_path(service: str) -> Path:
    return SPEC_DIR / f"{service}.json"


def trim(source: dict[str, Any], actions: tuple[str, ...]) -> dict[str, Any]:
    """The subset of `source` needed for `actions`: their request/response objects and everything nested."""
    objects: dict[str, Any] = source["objects"]
    kept: list[str] = []

    def visit(name: str) -> None:
        if name in kept or name not in objects:
            return  # primitives ("string", "int64", ...) are not objects
        kept.append(name)
        for member in objects[name]["members"]:
            visit(member["member"])

    for action in actions:
        visit(source["actions"][action]["input"])
        visit(source["actions"][action]["output"])

    return {
        "version": source["version"],
        "metadata": {key: source["metadata"][key] for key in ("apiVersion", "serviceShortName")},
        "actions": {
            action: {
                key: source["actions"][action][key]
                for key in _ACTION_KEYS
                if key in source["actions"][action]
            }
            for action in actions
        },
        "objects": {
            name: {
                **{key: objects[name][key] for key in _OBJECT_KEYS if key in objects[name]},
                "members": [
                    {key: member[key] for key in _MEMBER_KEYS if key in member}
                    for member in objects[name]["members"]
                ],
            }
            for name in kept
        },
    }


def render(trimmed: dict[str, Any]) -> str:
    return json.dumps(trimmed, ensure_ascii=False, indent=1) + "\n"


def expected_copy(service: str) -> str:
    source = json.loads(source_path(service).read_text(encoding="utf-8"))
    return render(trim(source, ACTIONS[service]))


def main() -> None:
    for service in ACTIONS:
        text = expected_copy(service)
        copy_path(service).write_text(text, encoding="utf-8")
        print(f"wrote {copy_path(service)} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
