"""Issue 5's targets, read off one run's figures. Reported, never asserted: a miss is a finding."""

from __future__ import annotations

import math
from typing import Any

from bench.report import Section, ms, ratio
from bench.scenarios.overhead import GRPC, JSON, SDK

TARGET_ADDED_P50_MS = 2.0
TARGET_THROUGHPUT_SHARE = 0.60
TARGET_LISTING_FLOOR_RATIO = 1.3
LISTING_TARGET_SIZE = 5000
TARGET_PAGING_CALLS = 55


def _data(sections: list[Section], key: str) -> dict[str, Any] | None:
    for section in sections:
        if section.key == key and section.data:
            return section.data
    return None


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "missed")


def evaluate(sections: list[Section]) -> Section:
    section = Section("targets", "Issue 5 targets in this run", ["target", "observed", "verdict"])
    latency = (_data(sections, "a.1") or {}).get("latency", {})
    if SDK in latency and JSON in latency:
        added = latency[JSON]["p50_ms"] - latency[SDK]["p50_ms"]
        section.rows.append(
            [
                f"JSON via Envoy p50 minus direct SDK p50 < {TARGET_ADDED_P50_MS:.0f} ms (concurrency 1)",
                f"+{ms(added)} ({ms(latency[JSON]['p50_ms'])} vs {ms(latency[SDK]['p50_ms'])})",
                _verdict(added < TARGET_ADDED_P50_MS),
            ]
        )
    rows = (_data(sections, "a.2") or {}).get("throughput", [])
    for setting in dict.fromkeys(r["setting"] for r in rows):
        rates = {r["path"]: r["ok_per_second"] for r in rows if r["setting"] == setting}
        concurrency = next(r["concurrency"] for r in rows if r["setting"] == setting)
        base = rates.get(SDK)
        shares = {path: rates[path] / base for path in (GRPC, JSON) if path in rates and base}
        if shares:
            observed = ", ".join(f"{path.split(' ')[0]} {ratio(share)}" for path, share in shares.items())
            section.rows.append(
                [
                    f"throughput, {concurrency} callers: >= {TARGET_THROUGHPUT_SHARE:.0%} of SDK ({setting})",
                    observed,
                    _verdict(min(shares.values()) >= TARGET_THROUGHPUT_SHARE),
                ]
            )
    listing = (_data(sections, "b") or {}).get(str(LISTING_TARGET_SIZE))
    if listing:
        for label, case in listing.items():
            if not isinstance(case, dict) or label.endswith("again at once"):
                continue
            share = case["wall_s"] / listing["floor_s"] if case.get("error") is None else math.nan
            section.rows.append(
                [
                    f"listing {LISTING_TARGET_SIZE:,} instances ({label}) within "
                    f"{TARGET_LISTING_FLOOR_RATIO}x the rate-limit floor",
                    f"{case['wall_s']:.2f} s vs floor {listing['floor_s']:.2f} s = {ratio(share)}",
                    _verdict(None if math.isnan(share) else share <= TARGET_LISTING_FLOOR_RATIO),
                ]
            )
    paging = _data(sections, "c") or {}
    for label in ("successive", "concurrent"):
        case = paging.get(label)
        if isinstance(case, dict):
            calls = case["calls"].get("DescribeInstances", 0)
            section.rows.append(
                [
                    f"10 Fuzzy pages, 5,000 instances ({label}): <= {TARGET_PAGING_CALLS} DescribeInstances",
                    f"{calls} calls",
                    _verdict(calls <= TARGET_PAGING_CALLS if case.get("error") is None else None),
                ]
            )
    section.notes.append(
        "Targets are reported, never asserted; the sections below have the figures behind each."
    )
    return section
