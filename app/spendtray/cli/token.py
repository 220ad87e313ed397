"""`spendtray token`: print the ingest token (created on first use, mode 0600)."""

from __future__ import annotations

import argparse

from spendtray.cli.common import locations_from
from spendtray.config import ensure_token


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--path", action="store_true", help="print the token file's path instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The token file does not depend on config.toml: this works while the config is broken.
    settings = locations_from(args)
    token = ensure_token(settings)
    print(settings.token_path if args.path else token)
    return 0
