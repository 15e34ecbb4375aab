"""`python -m emulator`: serve the Tencent Cloud CVM/VPC emulator until SIGTERM or SIGINT.

Prints exactly one line to stdout once it accepts connections (`emulator listening on http://HOST:PORT`);
everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from emulator.http_server import create_server
from emulator.throttle import Throttle

log = logging.getLogger("emulator")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Offline emulator of the Tencent Cloud CVM and VPC APIs (TC3-signed, SDK-compatible).",
    )
    parser.add_argument(
        "--host", default=os.environ.get("EMULATOR_HOST", DEFAULT_HOST), help="bind address (EMULATOR_HOST)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=os.environ.get("EMULATOR_PORT", str(DEFAULT_PORT)),  # argparse applies `type` to it
        help="port, 0 picks a free one (EMULATOR_PORT; default 9000)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=_path_from_env("EMULATOR_CONFIG"),
        help="fixture/config file replacing the built-in fixtures (EMULATOR_CONFIG)",
    )
    parser.add_argument(
        "--transition-seconds",
        type=float,
        default=None,
        help="lifecycle transition time in seconds (default: the fixture file's TransitionSeconds, 3)",
    )
    parser.add_argument(
        "--no-throttle", action="store_true", help="start with Tencent's per-action rate limits switched off"
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("EMULATOR_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="stderr log level (EMULATOR_LOG_LEVEL)",
    )
    return parser.parse_args(argv)


def _path_from_env(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from emulator.world import build_world  # the cloud model; imported late so --help works without it

    try:
        world = build_world(args.config, args.transition_seconds)
    except (OSError, ValueError) as error:
        log.error("cannot load the emulator configuration: %s", error)
        return 2
    try:
        server = create_server(world, args.host, args.port, throttle=Throttle(enabled=not args.no_throttle))
    except OSError as error:
        log.error("cannot listen on %s:%s: %s", args.host, args.port, error)
        return 2

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    print(f"emulator listening on http://{args.host}:{server.port}", flush=True)
    log.info("throttling %s; control API under /_emulator/", "off" if args.no_throttle else "on")
    while not stop.wait(0.5):  # a timed wait, so the signal handler always gets to run promptly
        pass
    log.info("stopping")
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
