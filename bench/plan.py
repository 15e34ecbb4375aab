"""What one benchmark run sets up: its sizes and durations, the emulator accounts it seeds, and the
server configs (cluster registry) that point the service at them.

Every measured listing gets a cluster of its own, so no cached listing from an earlier step can serve a
later one: two clusters may share one emulator account (same Tencent rate-limit bucket, same seeded fleet)
but the service keeps a snapshot per cluster and region. Steps that share an account run one after
another, so the emulator's per-account call counters attribute every call to exactly one step.
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.processes import REPO_ROOT
from bench.toml_writer import dumps

REGION = "ap-guangzhou"
ZONE = "ap-guangzhou-3"

# The emulator's demo account and the legacy examples' cluster and instance (TEAM.md, facts file).
DEMO_SECRET_ID = "AKIDEMULATORDEMO"
DEMO_SECRET_KEY = "emulator-demo-secret"
DEMO_TENANT = "system"
DEMO_CLUSTER = "72db4b34-1473-418f-ade4-de00b956f16b"
DEMO_INSTANCE = "ins-2n9bmcww"

BENCH_TENANT = "bench"
# Seeded fleets: most instances are "bench-web...", one in ten "bench-db...". The Fuzzy term is a name
# fragment with a hyphen, so it cannot match an instance ID (ins- + [0-9a-z]) or an IP by accident.
FUZZY_TERM = "bench-db"
FUZZY_SHARE = 10  # one instance in FUZZY_SHARE matches FUZZY_TERM

# Tencent's documented per-account limits for the actions the floors are computed from (facts file).
DESCRIBE_RATE_PER_S = 40.0
WRITE_RATE_PER_S = 10.0
TENCENT_PAGE_LIMIT = 100


@dataclass(frozen=True)
class Settings:
    """Sizes and durations of one run (`--quick` picks the small set)."""

    latency_ms: int
    concurrency: int
    latency_rounds: int
    throughput_seconds: float
    fleet_sizes: tuple[int, ...]
    paging_fleet: int
    paging_pages: int
    paging_page_size: int
    batch_size: int
    quick: bool

    @classmethod
    def full(cls, latency_ms: int = 30, concurrency: int = 32) -> Settings:
        return cls(latency_ms, concurrency, 200, 5.0, (1000, 5000, 20000), 5000, 10, 10, 250, False)

    @classmethod
    def small(cls, latency_ms: int = 30, concurrency: int = 32) -> Settings:
        return cls(latency_ms, concurrency, 50, 2.0, (1000, 5000), 5000, 10, 10, 250, True)


@dataclass(frozen=True)
class Account:
    secret_id: str
    secret_key: str
    fleet_size: int  # instances seeded in REGION (0: the demo account, which keeps its fixtures)


@dataclass(frozen=True)
class Cluster:
    label: str
    uuid: str
    tenant: str
    account: Account


def _cluster(label: str, account: Account) -> Cluster:
    # Deterministic UUIDs make runs comparable and the rendered configs readable.
    return Cluster(label, str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{label}")), BENCH_TENANT, account)


def _account(name: str, size: int) -> Account:
    return Account(f"AKIDBENCH{name.upper().replace('-', '')}", f"bench-{name}-secret", size)


@dataclass
class Plan:
    settings: Settings
    demo: Cluster = field(init=False)
    listing: dict[int, dict[str, Cluster]] = field(init=False)  # size -> {"all", "fuzzy"}
    paging: dict[str, Cluster] = field(init=False)  # {"successive", "concurrent"}
    batch: Cluster = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.demo = Cluster("demo", DEMO_CLUSTER, DEMO_TENANT, Account(DEMO_SECRET_ID, DEMO_SECRET_KEY, 0))
        self.listing = {}
        for size in s.fleet_sizes:
            account = _account(f"list-{size}", size)
            self.listing[size] = {v: _cluster(f"list-{size}-{v}", account) for v in ("all", "fuzzy")}
        paging_account = _account("paging", s.paging_fleet)
        self.paging = {v: _cluster(f"paging-{v}", paging_account) for v in ("successive", "concurrent")}
        self.batch = _cluster("batch", _account("batch", s.batch_size))

    def clusters(self) -> list[Cluster]:
        found = [self.demo, *(c for v in self.listing.values() for c in v.values()), *self.paging.values()]
        return [*found, self.batch]

    def seeded_accounts(self) -> list[Account]:
        unique = {c.account.secret_id: c.account for c in self.clusters() if c.account.fleet_size}
        return list(unique.values())


def render_server_config(
    plan: Plan,
    emulator_endpoint: str,
    target: Path,
    *,
    store_dir: Path,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    base: Path = REPO_ROOT / "config" / "demo.toml",
) -> Path:
    """The demo config (so the harness measures what `make run` runs), with every cluster pointed at this
    run's emulator, the bench clusters added, metrics on a free port and `overrides` merged per table."""
    data: dict[str, Any] = tomllib.loads(base.read_text())
    clusters: list[dict[str, Any]] = []
    for table in data.get("clusters", []):
        table = dict(table)
        table["endpoint"] = emulator_endpoint
        clusters.append(table)
    known = {c.get("uuid") for c in clusters}
    for cluster in plan.clusters():
        if cluster.uuid in known:
            continue
        clusters.append(
            {
                "uuid": cluster.uuid,
                "tenants": [cluster.tenant],
                "endpoint": emulator_endpoint,
                "credentials": {
                    "secret_id": cluster.account.secret_id,
                    "secret_key": cluster.account.secret_key,
                },
            }
        )
    data["clusters"] = clusters
    data.setdefault("server", {})["listen"] = "127.0.0.1:0"
    observability = data.setdefault("observability", {})
    observability["metrics_port"] = 0  # never the fixed 9464: tests or `make run` may hold it
    # Idempotency records and the audit trail go to this run's directory, never the repo's var/.
    data.setdefault("store", {})["path"] = str(store_dir / "store.sqlite3")
    for table, values in (overrides or {}).items():
        data.setdefault(table, {}).update(values)
    target.write_text(dumps(data))
    return target
