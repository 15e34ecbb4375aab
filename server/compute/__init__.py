"""Use cases of the compute service. They know nothing of gRPC: plain arguments in, plain dicts out,
`ServiceError` on failure. Every Tencent call goes through a `Cloud` (server/compute/ports.py)."""
