"""Use cases of the compute service. They know nothing of gRPC: plain arguments in, plain dicts out,
`ServiceError` on failure. Every Tencent call goes through a `Cloud` (server/compute/ports.py). Their input
has already passed server/validation.py (the one place for input rules), so they do not check it again."""
