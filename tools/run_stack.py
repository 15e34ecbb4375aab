"""`make run`: the whole system on the built-in emulator, in one terminal.

Starts the Tencent API emulator, the compute gRPC server and Envoy, waits until each is ready, prints where
each listens, and streams all three logs with a prefix. Ctrl-C or SIGTERM stops all three; if one of them
dies, the others are stopped too, so a half-running stack never lingers.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def _pump(name: str, stream: IO[bytes], ready: threading.Event, marker: str) -> None:
    """Copy one child's output to ours, line by line, and flag readiness when its marker shows up."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if marker and marker in line:
            ready.set()
        sys.stdout.write(f"[{name}] {line}\n")
        sys.stdout.flush()


class Child:
    def __init__(self, name: str, argv: Sequence[str], marker: str, env: dict[str, str]) -> None:
        self.name = name
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            list(argv), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert self.proc.stdout is not None  # stdout=PIPE
        threading.Thread(target=_pump, args=(name, self.proc.stdout, self.ready, marker), daemon=True).start()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _wait_http_ok(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=os.environ.get("COMPUTE_CONFIG", "config/demo.toml"))
    parser.add_argument(
        "--transition-seconds", help="emulator lifecycle transition time (default: the emulator's, 3 s)"
    )
    args = parser.parse_args(argv)

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY", ""), "127.0.0.1,localhost"]))
    python = str(VENV_BIN / "python")
    children: list[Child] = []
    stopping = threading.Event()

    def stop_all(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)

    def start(child: Child, wait_for: str) -> bool:
        children.append(child)
        deadline = time.monotonic() + 60
        while not child.ready.is_set():
            if child.proc.poll() is not None or stopping.is_set() or time.monotonic() > deadline:
                print(f"[run] {child.name} did not start ({wait_for})", flush=True)
                return False
            time.sleep(0.05)
        return True

    emulator_argv = [python, "-m", "emulator", "--port", "9000"]
    if args.transition_seconds is not None:
        emulator_argv += ["--transition-seconds", args.transition_seconds]
    ok = start(
        Child("emulator", emulator_argv, "emulator listening on", env),
        "127.0.0.1:9000",
    ) and start(
        Child(
            "server", [python, "-m", "server", "--config", args.config], "compute server listening on", env
        ),
        "127.0.0.1:50051",
    )
    if ok:
        envoy = Child("envoy", [str(VENV_BIN / "envoy"), "-c", "envoy.yaml", "--log-level", "warn"], "", env)
        children.append(envoy)
        ok = _wait_http_ok("http://127.0.0.1:9901/ready", time.monotonic() + 60)
        if not ok:
            print("[run] envoy did not become ready on 127.0.0.1:9901", flush=True)
    if ok:
        print(
            "\n[run] ready:\n"
            "[run]   Tencent API emulator  http://127.0.0.1:9000  (control API under /_emulator/)\n"
            "[run]   compute gRPC server   127.0.0.1:50051        (health, reflection)\n"
            "[run]   Envoy JSON + gRPC     http://127.0.0.1:8080  (POST /v1/tencent/compute/...)\n"
            "[run]   Envoy admin           http://127.0.0.1:9901\n"
            "[run] Ctrl-C stops all three.\n",
            flush=True,
        )
        while not stopping.is_set() and all(c.proc.poll() is None for c in children):
            time.sleep(0.2)
        for child in children:
            if child.proc.poll() is not None and not stopping.is_set():
                print(
                    f"[run] {child.name} exited with {child.proc.returncode}; stopping the rest", flush=True
                )
                ok = False
    for child in reversed(children):
        child.stop()
    for child in reversed(children):
        child.wait(timeout=15)
    print("[run] stopped", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
