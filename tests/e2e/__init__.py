"""End-to-end tests: JSON and native gRPC callers -> real Envoy -> real server -> real emulator (issue 3)."""
