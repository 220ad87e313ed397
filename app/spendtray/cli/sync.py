"""`spendtray sync`: set the sync folder once, run a pass, and show every machine's last sync.

``spendtray sync --folder DIR`` saves ``sync_folder`` in config.toml and, when no Spendtray serves
this data folder, runs one pass here (the running app syncs on its own every few seconds and
takes a new folder at its next start). ``spendtray sync`` alone runs a pass (app not running)
and prints the state; ``--format json`` for scripts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from spendtray.cli.common import UserError, print_table, settings_from


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--folder", help="the shared folder (saved as sync_folder in config.toml)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=run)


def _when(ms: int | None) -> str:
    if ms is None:
        return "never"
    stamp = dt.datetime.fromtimestamp(ms / 1000).astimezone()
    return stamp.strftime("%Y-%m-%d %H:%M")


def run(args: argparse.Namespace) -> int:
    from spendtray.config_write import save_settings
    from spendtray.instance_lock import serving

    settings = settings_from(args)
    if args.folder:
        folder = Path(args.folder).expanduser().resolve()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--folder: cannot use {folder}: {exc.strerror or exc}") from None
        settings = save_settings(settings, {"sync_folder": str(folder)})
    if not settings.sync_folder:
        raise UserError(
            "no sync folder: run `spendtray sync --folder DIR` once with a folder your file "
            "sync tool shares between your machines"
        )
    running = serving(settings.home)
    state = _pass_and_state(settings, run_pass=running is None)
    if running is not None:
        state["note"] = "the running Spendtray syncs this folder every few seconds" + (
            " (a new folder takes effect at its next start)" if args.folder else ""
        )
    if args.format == "json":
        print(json.dumps(state, indent=2))
        return 0
    print(f"sync folder: {state['folder']}")
    print(f"this machine: {state['machine']} (id {state['machine_id']})")
    if "pass" in state:
        done = state["pass"]
        print(f"this pass: wrote {done['exported']} event(s), took {done['received']} from others")
    if "note" in state:
        print(state["note"])
    machines = state["machines"]
    if not machines:
        print("no other machine has written to the folder yet")
        return 0
    print_table(
        ("machine", "id", "last wrote", "last received", "events taken"),
        [
            (
                m["name"],
                m["machine_id"],
                _when(m["exported_at"]),
                _when(m["received_at"]),
                str(m["records"]),
            )
            for m in machines
        ],
        right={4},
    )
    return 0


def _pass_and_state(settings: Any, run_pass: bool) -> dict[str, Any]:
    from spendtray.store.reader import Reader
    from spendtray.store.sync_state import bad_lines, exported_through, machines
    from spendtray.store.writer import Writer
    from spendtray.sync.service import SyncService

    writer = Writer(settings.db_path, settings.durability, settings.machine_name)
    reader = Reader(settings.db_path, settings.zone(), settings.week_start_index)
    writer.start()
    try:
        service = SyncService(
            Path(settings.sync_folder), settings.home, settings.machine_name, reader, writer
        )
        state: dict[str, Any] = {
            "folder": settings.sync_folder,
            "machine": settings.machine_name,
            "machine_id": service.machine_id,
        }
        if run_pass:
            done = service.run_once()
            state["pass"] = {"exported": done.exported, "received": done.received.records}
        conn = reader.conn()
        state["exported_through"] = exported_through(conn)
        state["bad_lines"] = bad_lines(conn)
        state["machines"] = machines(conn)
        return state
    finally:
        writer.stop()
        reader.close()
