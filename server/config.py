"""Load the service configuration (TOML) into typed settings.

Layout (see config/demo.toml for a working example):

    [server]                      listen address, worker threads, shutdown grace
    [[clusters]]                  the cluster registry: uuid, tenants, credentials, endpoint, language
    [auth] [store] [limits] [retry] [observability] [cache]
                                  owned by their subsystems; each table is handed to that subsystem's
                                  settings class (`from_mapping`), see `SUBSYSTEM_SETTINGS`.

Credentials come inline (emulator demo only), from environment variables, or from files, and are resolved
once at load time so a missing secret fails at start rather than on the first call.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.config_errors import ConfigError, reject_unknown_keys
from server.observability.logs import register_secret

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "config" / "demo.toml"
CONFIG_ENV_VAR = "COMPUTE_CONFIG"

SUPPORTED_LANGUAGES = ("zh-CN", "en-US")

# Table name -> "module:Class" of the subsystem's settings dataclass (`from_mapping(data) -> Self`; an
# absent table gives the subsystem's defaults). Imported by name when the file is parsed, because those
# modules import this one (ConfigError) and a top-level import here would be circular.
SUBSYSTEM_SETTINGS: Mapping[str, str] = {
    "auth": "server.security.settings:AuthSettings",
    "store": "server.store.settings:StoreSettings",
    "limits": "server.tencent.ratelimit:LimitSettings",
    "retry": "server.tencent.retry:RetrySettings",  # also holds default_deadline_seconds
    "observability": "server.observability.settings:ObservabilitySettings",
    "cache": "server.compute.cache_settings:CacheSettings",
}


_CREDENTIAL_KEYS = frozenset(
    {"secret_id", "secret_id_env", "secret_id_file", "secret_key", "secret_key_env", "secret_key_file"}
)
_CLUSTER_KEYS = frozenset({"uuid", "tenants", "endpoint", "language", "credentials"})
_SERVER_KEYS = frozenset({"listen", "max_workers", "grace_seconds"})


@dataclass(frozen=True)
class Credentials:
    """A Tencent Cloud API key pair. The repr hides the key so it cannot leak through logs or tracebacks."""

    secret_id: str
    secret_key: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(secret_id={self.secret_id!r}, secret_key='***')"

    __str__ = __repr__

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> Credentials:
        """Accepts `secret_id` | `secret_id_env` | `secret_id_file`, and the same three for `secret_key`."""
        reject_unknown_keys(data, _CREDENTIAL_KEYS, where)
        secret_id = _one_source(data, "secret_id", where)
        secret_key = _one_source(data, "secret_key", where)
        if not secret_id or not secret_key:
            raise ConfigError(f"{where}: credentials need both a secret id and a secret key")
        # Last line of defence: should a SecretKey ever reach a log line, the formatter redacts it.
        register_secret(secret_key)
        return cls(secret_id=secret_id, secret_key=secret_key)


def _one_source(data: Mapping[str, Any], name: str, where: str) -> str:
    """Read `name` inline, from `<name>_env` (an environment variable) or `<name>_file` (first line)."""
    sources = [key for key in (name, f"{name}_env", f"{name}_file") if key in data]
    if len(sources) != 1:
        raise ConfigError(f"{where}: give exactly one of {name}, {name}_env, {name}_file")
    key = sources[0]
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {key} must be a non-empty string")
    if key.endswith("_env"):
        resolved = os.environ.get(value, "")
        if not resolved:
            raise ConfigError(f"{where}: environment variable {value} (for {name}) is not set")
        return resolved
    if key.endswith("_file"):
        try:
            return Path(value).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read {key} {value}: {exc.strerror}") from None
    return value


@dataclass(frozen=True)
class ClusterConfig:
    """One entry of the cluster registry: who owns the cluster and how to reach its Tencent account."""

    uuid: str
    tenants: frozenset[str]
    credentials: Credentials
    endpoint: str | None = None  # "host:port" of an emulator; None = the real Tencent Cloud endpoints
    language: str = "zh-CN"

    @property
    def account(self) -> str:
        """The Tencent account this cluster acts as: the key for rate limits and per-account caches."""
        return self.credentials.secret_id

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], index: int) -> ClusterConfig:
        where = f"clusters[{index}]"
        reject_unknown_keys(data, _CLUSTER_KEYS, where)
        uuid = data.get("uuid")
        if not isinstance(uuid, str) or not uuid:
            raise ConfigError(f"{where}: uuid must be a non-empty string")
        tenants = data.get("tenants")
        if isinstance(tenants, str):
            tenants = [tenants]
        if not isinstance(tenants, list) or not tenants or not all(isinstance(t, str) and t for t in tenants):
            raise ConfigError(f"{where}: tenants must be a non-empty list of strings")
        endpoint = data.get("endpoint")
        if endpoint is not None:
            if not isinstance(endpoint, str) or not endpoint:
                raise ConfigError(f"{where}: endpoint must be a non-empty string when given")
            # The SDK signs the endpoint as the Host header, so it must be a bare host:port.
            endpoint = endpoint.removeprefix("http://").removeprefix("https://").rstrip("/")
        language = data.get("language", "zh-CN")
        if language not in SUPPORTED_LANGUAGES:
            raise ConfigError(f"{where}: language must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        credentials = data.get("credentials")
        if not isinstance(credentials, Mapping):
            raise ConfigError(f"{where}: a [clusters.credentials] table is required")
        return cls(
            uuid=uuid,
            tenants=frozenset(tenants),
            credentials=Credentials.from_mapping(credentials, f"{where}.credentials"),
            endpoint=endpoint,
            language=language,
        )


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 50051
    # grpcio thread pool size: concurrent RPCs served at once (64 measured best: docs/performance.md)
    max_workers: int = 64
    grace_seconds: float = 10.0  # on SIGTERM, how long in-flight calls may take to finish

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ServerSettings:
        reject_unknown_keys(data, _SERVER_KEYS, "[server]")
        listen = data.get("listen", f"{cls.host}:{cls.port}")
        if not isinstance(listen, str) or ":" not in listen:
            raise ConfigError("server.listen must be 'host:port'")
        host, _, port_text = listen.rpartition(":")
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError("server.listen must end in a numeric port") from None
        try:
            settings = cls(
                host=host,
                port=port,
                max_workers=int(data.get("max_workers", cls.max_workers)),
                grace_seconds=float(data.get("grace_seconds", cls.grace_seconds)),
            )
        except (TypeError, ValueError):
            raise ConfigError("server: max_workers and grace_seconds must be numbers") from None
        if settings.max_workers < 1 or settings.grace_seconds < 0:
            raise ConfigError("server: max_workers must be >= 1 and grace_seconds >= 0")
        return settings

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Settings:
    server: ServerSettings
    clusters: tuple[ClusterConfig, ...]
    # Subsystem settings, keyed by table name (see SUBSYSTEM_SETTINGS): an instance of that subsystem's
    # settings class.
    subsystems: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None

    def subsystem(self, name: str) -> Any:
        return self.subsystems.get(name)

    def with_port(self, port: int) -> Settings:
        return dataclasses.replace(self, server=dataclasses.replace(self.server, port=port))


def _subsystem_settings(name: str, data: Mapping[str, Any]) -> Any:
    module_name, _, class_name = SUBSYSTEM_SETTINGS[name].partition(":")
    settings_class = getattr(importlib.import_module(module_name), class_name)
    return settings_class.from_mapping(data)


def parse_settings(data: Mapping[str, Any], source: Path | None = None) -> Settings:
    reject_unknown_keys(data, frozenset({"server", "clusters", *SUBSYSTEM_SETTINGS}), "config")
    server_table = data.get("server", {})
    if not isinstance(server_table, Mapping):
        raise ConfigError("[server] must be a table")
    cluster_tables = data.get("clusters", [])
    if not isinstance(cluster_tables, list):
        raise ConfigError("clusters must be an array of tables ([[clusters]])")
    clusters = tuple(ClusterConfig.from_mapping(table, i) for i, table in enumerate(cluster_tables))
    seen: set[str] = set()
    for cluster in clusters:
        if cluster.uuid in seen:
            raise ConfigError(f"cluster {cluster.uuid} is configured twice")
        seen.add(cluster.uuid)
    subsystems: dict[str, Any] = {}
    for name in SUBSYSTEM_SETTINGS:
        table = data.get(name, {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"[{name}] must be a table")
        subsystems[name] = _subsystem_settings(name, table)
    return Settings(
        server=ServerSettings.from_mapping(server_table),
        clusters=clusters,
        subsystems=subsystems,
        source=source,
    )


def config_path(explicit: str | None = None) -> Path:
    """--config, else $COMPUTE_CONFIG, else config/demo.toml of this repository."""
    chosen = explicit or os.environ.get(CONFIG_ENV_VAR)
    return Path(chosen) if chosen else DEFAULT_CONFIG_PATH


def load_settings(path: Path) -> Settings:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from None
    return parse_settings(data, source=path)
