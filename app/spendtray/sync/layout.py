"""Where things live in a sync folder, and this machine's id. Pure paths and small files; the
sync thread (and ``spendtray sync``).

    <sync folder>/
      <machine id>/                 one folder per machine; only that machine writes in it
        machine.json                its name and when it last wrote (written whole, renamed in)
        prices.jsonl                each price its events were costed with, once, appended
        events-000001.jsonl         its events, appended, a new file every ROTATE_BYTES
        events-000002.jsonl
      <other machine id>/...

The machine id is random, made once per data folder (``<data>/machine_id``), so a renamed
machine keeps its folder and history and two machines with one host name never share one.
Sync tools' conflict copies (Syncthing ``x.sync-conflict-<date>-<id>.jsonl``, Dropbox and
OneDrive ``x (conflicted copy …).jsonl``, ``x (1).jsonl``, Google Drive ``x(1).jsonl``) hold
records of the same machine: they are read like any of its files, and since every record keeps
its key a record in two copies is stored once.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

MACHINE_ID_FILE = "machine_id"
MANIFEST = "machine.json"
PRICES = "prices.jsonl"
ROTATE_BYTES = 32 * 1024 * 1024
_EVENTS = re.compile(r"^events-(\d{6})(.*)\.jsonl$")
_ID = re.compile(r"^[a-z0-9]{12,64}$")


def machine_id(home: Path) -> str:
    """This data folder's machine id, made on first use."""
    path = home / MACHINE_ID_FILE
    try:
        found = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        found = ""
    if _ID.match(found):
        return found
    made = secrets.token_hex(8)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(made + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return made


@dataclass(frozen=True)
class EventsFile:
    machine_id: str
    path: Path
    number: int
    conflict_copy: bool  # a sync tool's copy beside the machine's own file of that number

    def relative(self, root: Path) -> str:
        return self.path.relative_to(root).as_posix()


def events_files(root: Path, machine: str) -> list[EventsFile]:
    """A machine's event files, its own before their conflict copies, in number order."""
    folder = root / machine
    found: list[EventsFile] = []
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    for name in names:
        match = _EVENTS.match(name)
        if match is None:
            continue
        found.append(EventsFile(machine, folder / name, int(match[1]), bool(match[2])))
    return sorted(found, key=lambda f: (f.number, f.conflict_copy, f.path.name))


def own_file(root: Path, machine: str, number: int) -> Path:
    return root / machine / f"events-{number:06d}.jsonl"


def other_machines(root: Path, own: str) -> list[str]:
    """The machine folders in the sync folder other than this machine's."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n != own and _ID.match(n) and (root / n).is_dir())


def write_manifest(root: Path, machine: str, name: str) -> None:
    """This machine's name and the time of its last write, replaced whole."""
    folder = root / machine
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(
        json.dumps({"id": machine, "name": name, "updated_at": int(time.time() * 1000)}),
        encoding="utf-8",
    )
    os.replace(tmp, folder / MANIFEST)


def read_manifest(root: Path, machine: str) -> tuple[str, int | None]:
    """A machine's name and last write time (its id and None when the manifest is missing or
    half-synced)."""
    try:
        data = json.loads((root / machine / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return machine, None
    name = data.get("name") if isinstance(data, dict) else None
    updated = data.get("updated_at") if isinstance(data, dict) else None
    return (
        name if isinstance(name, str) and name else machine,
        updated if type(updated) is int else None,
    )
