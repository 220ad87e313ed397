"""What a stopped Spendtray must not leave behind, seen from outside our own bookkeeping: its
threads (``spendtray-*``) and open SQLite files (from /proc/self/fd: what the OS sees)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

THREAD_PREFIX = "spendtray-"
DATA_SUFFIXES = (".db", ".db-wal", ".db-shm")


def spendtray_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive()}


def open_data_files(folder: Path) -> list[str]:
    """SQLite files under ``folder`` this process holds open ([] where /proc is missing)."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return []
    found = []
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)) and target.endswith(DATA_SUFFIXES):
            found.append(target)
    return found
