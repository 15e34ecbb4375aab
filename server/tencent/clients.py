"""SDK clients, built once per (cluster, region, service) and reused.

Reuse matters: each SDK client owns a `requests.Session`, so reusing it keeps HTTP connections alive instead
of opening a TCP (and TLS) connection per call. Two SDK behaviours are adjusted here, in one place:
- the request timeout is fixed per client in the SDK; we need one per call (the caller's remaining gRPC
  deadline), so the connection reads it from a context variable set around the call (`call_timeout`);
- the Session's pool keeps 10 connections per host by default; under concurrency the extras are closed after
  each call, so the pool is sized to the server's concurrency.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from requests.adapters import HTTPAdapter
from tencentcloud.common.abstract_client import AbstractClient
from tencentcloud.common.credential import Credential
from tencentcloud.common.http.request import ProxyConnection
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312.cvm_client import CvmClient
from tencentcloud.vpc.v20170312.vpc_client import VpcClient

from server.compute.ports import TencentService
from server.config import ClusterConfig

DEFAULT_TIMEOUT_SECONDS = 60.0  # the SDK's own default, used when a call carries no timeout

_call_timeout: ContextVar[float | None] = ContextVar("tencent_call_timeout", default=None)

_CLIENT_CLASSES: dict[str, type[AbstractClient]] = {"cvm": CvmClient, "vpc": VpcClient}


@contextmanager
def call_timeout(seconds: float | None) -> Iterator[None]:
    """Every SDK request made inside this block (in this thread) times out after `seconds`."""
    token = _call_timeout.set(seconds)
    try:
        yield
    finally:
        _call_timeout.reset(token)


def _is_loopback(endpoint: str) -> bool:
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _PerCallTimeoutConnection(ProxyConnection):
    """The SDK's connection, with a per-call timeout and a connection pool sized for our concurrency."""

    def __init__(self, host: str, *, pool_size: int, bypass_proxy: bool, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        if bypass_proxy:
            # An emulator on loopback must never be reached through an HTTP(S)_PROXY from the environment.
            self.proxy = None
            self._session.trust_env = False

    @property
    def timeout(self) -> float:
        per_call = _call_timeout.get()
        return per_call if per_call is not None else self._default_timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self._default_timeout = value


class ClientPool:
    """Hands out the one SDK client for a (cluster, region, service); thread-safe, built on first use."""

    def __init__(self, pool_size: int = 32) -> None:
        self._pool_size = pool_size
        self._clients: dict[tuple[str, str, str], AbstractClient] = {}
        self._lock = threading.Lock()

    def get(self, cluster: ClusterConfig, region: str, service: TencentService) -> AbstractClient:
        key = (cluster.uuid, region, service)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self._build(cluster, region, service)
                    self._clients[key] = client
        return client

    def _build(self, cluster: ClusterConfig, region: str, service: TencentService) -> AbstractClient:
        http_profile = HttpProfile(keepAlive=True, reqTimeout=DEFAULT_TIMEOUT_SECONDS)
        if cluster.endpoint:
            # Bare host:port (the SDK signs it as the Host header); the emulator speaks plain HTTP.
            http_profile = HttpProfile(
                protocol="http",
                endpoint=cluster.endpoint,
                keepAlive=True,
                reqTimeout=DEFAULT_TIMEOUT_SECONDS,
            )
        profile = ClientProfile(httpProfile=http_profile, language=cluster.language)
        credential = Credential(cluster.credentials.secret_id, cluster.credentials.secret_key)
        client = _CLIENT_CLASSES[service](credential, region, profile)
        request = client.request
        request.conn = _PerCallTimeoutConnection(
            request.host,
            pool_size=self._pool_size,
            bypass_proxy=bool(cluster.endpoint) and _is_loopback(cluster.endpoint or ""),
            timeout=DEFAULT_TIMEOUT_SECONDS,
            proxy=http_profile.proxy,
            is_http=request.is_http,
            certification=http_profile.certification,
        )
        return client
