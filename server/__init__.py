"""The compute service: a gRPC server over Tencent Cloud CVM, reached natively or through Envoy as JSON."""
