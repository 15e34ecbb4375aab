"""One benchmark run: start everything, seed, run the scenarios in order, report, stop everything."""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import time
import tomllib
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench import cpu_share, machine, targets
from bench import plan as p
from bench.context import RunContext, ServiceStack
from bench.emulator_control import EmulatorControl
from bench.processes import StartupError, start_emulator, start_envoy, start_server
from bench.report import Section, render_report, update_benchmarks_md, write_results
from bench.scenarios import batch, listing, overhead, paging
from bench.server_metrics import find_metrics_port

SEED_CHUNK = 5000

# The server's own limiter is switched off for the "unlimited" stack, so only the stack itself limits the
# throughput figures measured with the emulator's throttling off.
UNLIMITED_LIMITS: Mapping[str, Any] = {"enabled": False}

SCENARIOS: list[tuple[str, str, Callable[[RunContext], list[Section]]]] = [
    ("a", "Per-call overhead", overhead.run),
    ("b", "Fleet listing", listing.run),
    ("c", "Paging a Fuzzy-filtered list", paging.run),
    ("d", "Batch operations", batch.run),
]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def seed(control: EmulatorControl, plan: p.Plan) -> dict[str, list[str]]:
    """Fresh accounts with RUNNING fleets; one instance in FUZZY_SHARE is named for the Fuzzy term."""
    seeded: dict[str, list[str]] = {}
    for account in plan.seeded_accounts():
        control.add_account(account.secret_id, account.secret_key)
        ids: list[str] = []
        matching = account.fleet_size // p.FUZZY_SHARE
        for prefix, count in ((p.FUZZY_TERM, matching), ("bench-web", account.fleet_size - matching)):
            for start in range(0, count, SEED_CHUNK):
                n = min(SEED_CHUNK, count - start)
                ids += control.seed(account.secret_id, p.REGION, n, zone=p.ZONE, name_prefix=prefix)
        seeded[account.secret_id] = ids
    return seeded


def start_service(
    stack: contextlib.ExitStack,
    label: str,
    plan: p.Plan,
    emulator_endpoint: str,
    work_dir: Path,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> ServiceStack:
    """A server (config rendered from config/demo.toml) and an Envoy in front of it. Failures are recorded,
    not raised, so the run still measures what exists (the direct SDK at least)."""
    service = ServiceStack(label, None, None)
    store_dir = work_dir / f"{label}-store"
    store_dir.mkdir(parents=True, exist_ok=True)
    config = p.render_server_config(
        plan, emulator_endpoint, work_dir / f"server-{label}.toml", store_dir=store_dir, overrides=overrides
    )
    try:
        service.server = start_server(stack, work_dir, config, name=f"server-{label}")
    except (StartupError, OSError) as exc:
        service.problem = f"server did not start: {str(exc).splitlines()[0]}"
        return service
    service.metrics_port = find_metrics_port(service.server)
    try:
        service.envoy = start_envoy(stack, work_dir, service.server.port, name=f"envoy-{label}")
    except (StartupError, OSError) as exc:
        service.problem = f"envoy did not start: {str(exc).splitlines()[0]}"
    return service


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def server_settings_summary(config: Path) -> dict[str, Any]:
    """The tables of the rendered server config that shape the figures (never clusters: they hold keys)."""
    data = tomllib.loads(config.read_text())
    return {table: data[table] for table in ("server", "limits", "retry", "cache") if table in data}


def run(
    settings: p.Settings, out_dir: Path, only: set[str] | None = None, update_benchmarks: bool = False
) -> int:
    plan = p.Plan(settings)
    work_dir = out_dir / "run"
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    started = datetime.datetime.now(datetime.UTC)
    t0 = time.monotonic()
    sections: list[Section] = []
    emulator_config: dict[str, Any] = {}
    server_config: dict[str, Any] = {}
    load_at_start = os.getloadavg()[0]
    others: float | None = None
    with contextlib.ExitStack() as stack:
        log("starting the emulator")
        # The emulator stands in for Tencent: its own request logging is not part of what is measured.
        emulator = start_emulator(stack, work_dir, extra_args=["--log-level", "WARNING"])
        control = EmulatorControl(f"http://127.0.0.1:{emulator.port}")
        log(f"emulator on 127.0.0.1:{emulator.port}; seeding {len(plan.seeded_accounts())} accounts")
        seeded = seed(control, plan)
        log(f"seeded {sum(len(v) for v in seeded.values()):,} instances")
        endpoint = f"127.0.0.1:{emulator.port}"
        limited = start_service(stack, "limited", plan, endpoint, work_dir)
        server_config = server_settings_summary(work_dir / "server-limited.toml")
        unlimited = start_service(stack, "unlimited", plan, endpoint, work_dir, {"limits": UNLIMITED_LIMITS})
        for service in (limited, unlimited):
            where = (
                f"server :{service.server.port}" if service.server else "no server",
                f"envoy :{service.envoy.port}" if service.envoy else "no envoy",
            )
            log(f"{service.label}: {', '.join(where)} {service.problem}")
        # Tencent's real limits on, and the per-call latency of a real API round trip, for everything below.
        emulator_config = control.set_config(Throttle=True)
        control.clear_faults()
        control.add_fault({"Action": "*", "LatencyMs": settings.latency_ms})
        ctx = RunContext(plan, emulator, control, limited, unlimited, seeded)
        children = [emulator.pid] + [
            proc.pid for svc in (limited, unlimited) for proc in (svc.server, svc.envoy) if proc is not None
        ]
        cpu_start, measured_from = cpu_share.sample(children), time.monotonic()
        for key, title, scenario in SCENARIOS:
            if only and key not in only:
                continue
            log(f"({key}) {title}")
            try:
                sections += scenario(ctx)
            except Exception as exc:
                traceback.print_exc()
                sections.append(Section(key, title, [], error=f"{type(exc).__name__}: {exc}"))
        others = cpu_share.others_share(
            cpu_start, cpu_share.sample(children), time.monotonic() - measured_from
        )
        log("stopping processes")
    elapsed = time.monotonic() - t0
    info = machine.describe()
    header = [
        f"Benchmark run {started:%Y-%m-%d %H:%M} UTC, {elapsed:.0f} s, "
        f"{'--quick' if settings.quick else 'full'} run, emulator latency {settings.latency_ms} ms per "
        "Tencent call, Tencent rate limits on "
        "unless a row says otherwise. Loopback only.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
        "",
        f"Quiet machine? Load average {load_at_start:.2f} before the run started; while it measured, other "
        f"processes used {_percent(others)} of the machine's CPU (a busy neighbour competes with every "
        "process measured: compare runs only when this is low).",
        "",
        "Server config (config/demo.toml, clusters added; the 'throttling off' rows use a copy with "
        "[limits] enabled = false): "
        + "; ".join(
            f"[{table}] " + ", ".join(f"{k} = {v}" for k, v in values.items())
            for table, values in server_config.items()
        ),
    ]
    markdown = render_report(header, [targets.evaluate(sections), *sections])
    print()
    print(markdown)
    payload = {
        "started_utc": started.isoformat(),
        "elapsed_s": elapsed,
        "settings": settings.__dict__,
        "machine": info,
        "emulator_config": emulator_config,
        "server_config": server_config,
        "load_average_before": load_at_start,
        "cpu_share_of_other_processes": others,
    }
    path = write_results(out_dir, markdown, payload, sections)
    log(f"wrote {path} and {path.with_suffix('.json')}")
    if update_benchmarks:
        target = p.REPO_ROOT / "BENCHMARKS.md"
        updated = update_benchmarks_md(target, markdown)
        log(f"updated the figures in {target}" if updated else f"{target} has no figures block to update")
    return 0 if all(s.error is None for s in sections) else 1
