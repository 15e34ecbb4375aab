"""The gRPC edge: proto <-> use-case arguments, ServiceError -> rich status + legacy envelope trailer."""
