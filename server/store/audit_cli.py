"""Read the audit trail back: `python -m server.store.audit_cli --db var/compute.db [--tenant T]
[--limit N] [--since 2025-01-01T00:00:00Z] [--json]`.

Prints the newest N records, oldest first: a table by default, or one JSON object per line (the documented
format, docs/security.md) with --json. Records still "started" are calls the service began but never saw
finish (it crashed or was killed mid-call): check those instances in Tencent Cloud.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from server.store.base import AuditEntry, format_time
from server.store.sqlite import SqliteStore


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    description = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m server.store.audit_cli", description=description)
    parser.add_argument("--db", required=True, type=Path, help="the store's SQLite file ([store] path)")
    parser.add_argument("--tenant", help="only this tenant's records")
    parser.add_argument("--limit", type=_positive, default=100, help="newest N records (default 100)")
    parser.add_argument("--since", type=_since, help="only records started at or after this time (UTC)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser.parse_args(argv)


def format_table(entries: Sequence[AuditEntry]) -> list[str]:
    headers = (
        "started_at",
        "outcome",
        "action",
        "tenant",
        "cluster",
        "region",
        "subject",
        "instance_ids",
        "error_code",
        "tencent_request_id",
        "request_id",
        "client_token",
        "audit_id",
    )
    rows = [
        (
            format_time(e.started_at),
            str(e.outcome),
            e.action,
            e.tenant,
            e.cluster,
            e.region,
            e.subject,
            ",".join(e.instance_ids) or "-",
            e.error_code or "-",
            e.tencent_request_id or "-",
            e.request_id or "-",
            e.client_token or "-",
            e.audit_id,
        )
        for e in entries
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (headers, *rows)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.db.is_file():
        print(f"no store database at {args.db}", file=sys.stderr)
        return 2
    with SqliteStore(args.db) as store:
        entries = store.read_audit(limit=args.limit, since=args.since, tenant=args.tenant)
    if args.json:
        for entry in entries:
            print(json.dumps(entry.to_json(), ensure_ascii=False))
    elif entries:
        print("\n".join(format_table(entries)))
    else:
        print("no audit records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
