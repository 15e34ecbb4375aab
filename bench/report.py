"""Result sections, the printed table and the files bench/results/latest.md and latest.json."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Section:
    key: str  # "a", "b", ...
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # the raw figures, for latest.json
    error: str | None = None  # the scenario failed part-way: what was measured is still shown


def ms(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.2f} ms"


def secs(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.2f} s"


def ratio(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) or math.isinf(value) else f"{value:.2f}x"


def per_s(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.1f}/s"


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} MiB"


def markdown_table(columns: list[str], rows: list[list[str]]) -> str:
    widths = [len(c) for c in columns]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(cells)) + " |"

    out = [line(columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r + [""] * (len(columns) - len(r))) for r in rows]
    return "\n".join(out)


def render_section(section: Section) -> str:
    parts = [f"### ({section.key}) {section.title}", ""]
    if section.rows:
        parts += [markdown_table(section.columns, section.rows), ""]
    if section.error:
        parts += [f"**Incomplete:** {section.error}", ""]
    parts += [f"- {note}" for note in section.notes]
    return "\n".join(parts).rstrip() + "\n"


def render_report(header: list[str], sections: list[Section]) -> str:
    body = "\n".join(render_section(s) for s in sections)
    return "\n".join(header) + "\n\n" + body


def write_results(out_dir: Path, markdown: str, payload: dict[str, Any], sections: list[Section]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path = out_dir / "latest.md"
    md_path.write_text(markdown)
    document = _strict_json({**payload, "sections": [asdict(s) for s in sections]})
    (out_dir / "latest.json").write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    return md_path


def _strict_json(value: Any) -> Any:
    """NaN and infinity (a figure that could not be measured) become null: JSON has no NaN."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(v) for v in value]
    return value


BENCHMARKS_START = "<!-- bench:latest:start (python -m bench --update-benchmarks rewrites this block) -->"
BENCHMARKS_END = "<!-- bench:latest:end -->"


def update_benchmarks_md(path: Path, markdown: str) -> bool:
    """Replace the block between the markers in BENCHMARKS.md with this run's report. False (and nothing
    written) when the file or its markers are missing: the prose around the block stays hand-written."""
    try:
        text = path.read_text()
    except OSError:
        return False
    start, end = text.find(BENCHMARKS_START), text.find(BENCHMARKS_END)
    if start < 0 or end < start:
        return False
    head = text[: start + len(BENCHMARKS_START)]
    path.write_text(head + "\n\n" + markdown.strip() + "\n\n" + text[end:])
    return True
