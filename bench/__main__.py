"""`python -m bench [--quick]`: the benchmark of issue 5 point 1 (see BENCHMARKS.md)."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
from pathlib import Path
from types import FrameType

from bench import plan
from bench.processes import REPO_ROOT, StartupError
from bench.runner import run


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smaller run: fleets 1,000 and 5,000, shorter phases"
    )
    parser.add_argument("--latency-ms", type=int, default=30, help="emulator latency per Tencent call (30)")
    parser.add_argument("--concurrency", type=int, default=32, help="threads for the throughput rows (32)")
    parser.add_argument("--sizes", type=str, default="", help="fleet sizes for (b), e.g. 1000,5000,20000")
    parser.add_argument("--only", type=str, default="", help="scenarios to run, e.g. a,c (default all)")
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "bench" / "results")
    parser.add_argument(
        "--update-benchmarks",
        action="store_true",
        help="also rewrite the figures block of BENCHMARKS.md with this run's report",
    )
    return parser.parse_args(argv)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds through the ExitStack, which stops every child process.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    factory = plan.Settings.small if args.quick else plan.Settings.full
    settings = factory(latency_ms=args.latency_ms, concurrency=args.concurrency)
    if args.sizes:
        settings = dataclasses.replace(settings, fleet_sizes=tuple(int(n) for n in args.sizes.split(",")))
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    only = {k.strip() for k in args.only.split(",") if k.strip()} or None
    try:
        return run(settings, args.out_dir, only, update_benchmarks=args.update_benchmarks)
    except StartupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
