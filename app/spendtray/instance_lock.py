"""One serving Spendtray per data folder: a lock file held by the process that serves it.

Main thread of `spendtray serve` and of the tray app; stdlib only. ``<home>/spendtray.lock`` is
locked (``flock`` on POSIX, ``msvcrt.locking`` on Windows) for as long as the process serves
that folder. The operating system drops the lock when the process ends, however it ends, so a
crash never leaves a stale claim behind. The file also says who holds it (pid, command, URL;
not readable through the lock on Windows, where the message names only the folder), so a
second start — on another ``--port``, headless or not — names the running one in one line
instead of starting a second server on the same database (budgets evaluated twice).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO, Any

LOCK_FILE = "spendtray.lock"


class AlreadyServing(Exception):
    """Another process serves this data folder; the message names it (a user error, exit 2)."""

    def __init__(self, home: Path, holder: dict[str, Any]) -> None:
        who = ", ".join(
            str(part)
            for part in (
                f"pid {holder['pid']}" if holder.get("pid") else None,
                f"`{holder['command']}`" if holder.get("command") else None,
                holder.get("url"),
            )
            if part
        )
        super().__init__(
            f"Spendtray is already serving the data folder {home}"
            + (f" ({who})" if who else "")
            + " — one server per data folder: use that one, stop it first, "
            "or give this one its own --home"
        )
        self.holder = holder


def _lock(handle: IO[bytes]) -> bool:
    """Take the lock without waiting; False when another process has it."""
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def read_holder(home: Path) -> dict[str, Any]:
    """What the lock file says about its holder; {} when it says nothing readable."""
    try:
        data = json.loads((home / LOCK_FILE).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def serving(home: Path) -> dict[str, Any] | None:
    """Who serves ``home`` now (its lock file's description, maybe {}), or None if nobody."""
    path = home / LOCK_FILE
    if not path.exists():
        return None
    try:
        handle = open(path, "r+b")  # noqa: SIM115 - closed below; locking takes the fd
    except OSError:
        return None
    try:
        if _lock(handle):
            return None  # nobody holds it (closing the file drops the probe's lock)
        return read_holder(home)
    finally:
        handle.close()


class InstanceLock:
    """``acquire`` before serving, ``describe`` once the URL is known, ``release`` at the end."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / LOCK_FILE
        self._handle: IO[bytes] | None = None

    def acquire(self, command: str) -> None:
        """Hold the folder's lock or raise ``AlreadyServing`` naming the holder."""
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(fd, "r+b")  # held open while serving
        if not _lock(handle):
            handle.close()
            raise AlreadyServing(self.home, read_holder(self.home))
        self._handle = handle
        self._write({"pid": os.getpid(), "command": command})

    def describe(self, url: str) -> None:
        """Add the URL the holder serves on (known once the port is bound)."""
        self._write({**read_holder(self.home), "pid": os.getpid(), "url": url})

    def _write(self, info: dict[str, Any]) -> None:
        if self._handle is None:
            return
        text = json.dumps(info).encode()
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(text)
        self._handle.flush()

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.close()
            self._handle = None
