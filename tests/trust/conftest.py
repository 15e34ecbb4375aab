"""Trust tests (issue 4): auth on both surfaces, idempotent writes, retries and throttling, fault injection,
secrets, fuzzing the JSON surface. Real server, real Envoy, real emulator; private stacks where a test needs
its own configuration (auth mode, store file, retry timings).

At the end of the run, every file the suite captured (tests/support/captured.py: process logs, stores,
the replies trust tests received) is grepped for every secret the suite used; a hit fails the run. The
figures the tests collected (fault test, fuzz) are printed in the terminal summary.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.captured import capture_dir, keep_after_run
from tests.trust.capture import Finding, captured_files, figures, scan, secrets

_findings: list[Finding] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Session fixtures (the shared emulator, server, Envoy) have stopped by now, so their logs are in.
    _findings.extend(scan(captured_files(), secrets()))
    if _findings:
        keep_after_run()  # the evidence stays for a human
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    files = captured_files()
    if _findings:
        terminalreporter.section("SECRETS FOUND IN CAPTURED OUTPUT", red=True)
        for finding in _findings:
            terminalreporter.write_line(f"{finding.secret_hint} in {finding.path}")
        terminalreporter.write_line(f"(kept: {capture_dir()})")
    elif files:
        terminalreporter.write_line(
            f"secrets check: {len(secrets())} secret(s), {len(files)} captured file(s): none found"
        )
    shown = figures()
    if shown:
        listed = ", ".join(f"{name}={value}" for name, value in sorted(shown.items()))
        terminalreporter.write_line(f"trust figures: {listed}")
