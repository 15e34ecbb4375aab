"""Benchmark harness (issue 5, point 1): starts the emulator, the server and Envoy on free loopback ports and
measures the service side by side with the Tencent SDK called directly. Run it with `python -m bench`."""
