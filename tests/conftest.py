"""Fixtures shared by the whole suite live in tests/support/: one module per real process we start."""

pytest_plugins = [
    "tests.support.emulator",
    "tests.support.server",
    "tests.support.envoy",
]
