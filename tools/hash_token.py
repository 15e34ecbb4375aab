"""Print the SHA-256 of a bearer token for `[[auth.tokens]] sha256 = "..."` in the server config.

    python tools/hash_token.py --generate --subject billing --tenant system   # new token + config entry
    python tools/hash_token.py < token.txt                                     # hash an existing token

The token is read from stdin (prompted without echo on a terminal), never from the command line, so it does
not land in shell history or `ps`. Only the hash goes into the config; the token goes to its holder.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from server.security.tokens import MIN_TOKEN_LENGTH, generate_token, hash_token


def read_token() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("bearer token (not echoed): ").strip()
    return sys.stdin.readline().strip()


def config_entry(digest: str, subject: str, tenants: Sequence[str]) -> str:
    return (
        "[[auth.tokens]]\n"
        f"sha256 = {json.dumps(digest)}\n"
        f"subject = {json.dumps(subject, ensure_ascii=False)}\n"
        f"tenants = [{', '.join(json.dumps(t, ensure_ascii=False) for t in tenants)}]"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Hash a bearer token for the [auth] config table.")
    parser.add_argument("--generate", action="store_true", help="make a new random token, do not read one")
    parser.add_argument("--subject", help="print a complete [[auth.tokens]] entry for this subject")
    parser.add_argument(
        "--tenant", action="append", default=[], help="tenant the token may act for (repeat; '*' = any)"
    )
    args = parser.parse_args(argv)

    token = generate_token() if args.generate else read_token()
    if len(token) < MIN_TOKEN_LENGTH:
        print(
            f"refusing a token shorter than {MIN_TOKEN_LENGTH} characters (use --generate)", file=sys.stderr
        )
        return 2
    digest = hash_token(token)
    if args.generate:
        # The only time the token is shown: hand it to its holder, keep only the hash.
        print(f"token (give to the caller, store nowhere else): {token}", file=sys.stderr)
    if args.subject:
        print(config_entry(digest, args.subject, args.tenant or ["*"]))
    else:
        print(digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
