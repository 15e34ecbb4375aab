"""`python -m server [--config FILE] [--port N]`: run the compute service until SIGTERM or Ctrl-C.

Prints `compute server listening on <host>:<port>` on stdout (flushed) once it accepts calls; logs go to
stderr. On SIGTERM/SIGINT it stops accepting calls, lets in-flight calls finish within the configured grace
period ([server] grace_seconds), and exits 0. A bad configuration exits 2 with a one-line reason.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from server.app import create_app
from server.config import config_path, load_settings
from server.config_errors import ConfigError
from server.observability.logs import configure_logging
from server.observability.settings import ObservabilitySettings

log = logging.getLogger("server")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="TOML config file (default: $COMPUTE_CONFIG or config/demo.toml)")
    parser.add_argument("--port", type=int, help="listen port, overriding [server] listen (0 = any free)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = config_path(args.config)
    try:
        settings = load_settings(path)
    except ConfigError as error:  # every table's own error (AuthConfigError, StoreConfigError) is one too
        print(f"compute server: bad configuration {path}: {error}", file=sys.stderr, flush=True)
        return 2
    if args.port is not None:
        settings = settings.with_port(args.port)

    observability: ObservabilitySettings = settings.subsystem("observability")
    configure_logging(observability.log_level, json=observability.json_logs)

    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: shutting down", signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    try:
        app = create_app(settings)
    except Exception as error:  # a port in use, an unreadable key file, a store that cannot open, ...
        print(f"compute server: cannot start: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return 2
    app.start()
    print(f"compute server listening on {settings.server.host}:{app.port}", flush=True)
    log.info("serving %d cluster(s) from %s", len(settings.clusters), path)

    # Wake up now and then so the signal handler runs promptly on every platform.
    while not stop_requested.wait(timeout=1.0):
        pass
    log.info(
        "stopping: refusing new calls, waiting up to %.1fs for in-flight calls", settings.server.grace_seconds
    )
    app.stop(settings.server.grace_seconds)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
