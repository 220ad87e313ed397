"""The on-disk spool: events kept in ``<data>/spool/`` while the app is not answering.

Used by the sender thread; at interpreter exit, when the sender does not finish in time, the
main thread writes what is left (one lock serialises the two).

Files, all NDJSON (one event per line), named so that sorting them sorts them by age:

- ``<ns>-<pid>-<rand>.part``: the file this process appends to. Every append is written,
  flushed and fsync'd before the sender moves on; the file is opened and closed per append.
- ``*.ndjson``: sealed (renamed from ``.part``) when it grows past ``ROTATE_BYTES``, before
  this process delivers the spool, and at exit; any process may deliver it.
- ``*.sending-<pid>``: claimed, by an atomic rename, by the process delivering it. Lines are
  removed only after the app answered 2xx for them (the file is rewritten with the rest, or
  deleted); a failed delivery renames it back to ``.ndjson``.

Claims and ``.part`` files left behind by a process that died are taken over (on POSIX when
their pid is gone; elsewhere when they have not changed for a while). Delivery is at least
once and the server stores a repeated ``request_id`` once, so events are stored exactly once.
The folder is bounded: an append that would pass ``max_bytes`` drops events and says so in a
warning.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spendtray.private_files import open_private, private_dir

log = logging.getLogger("spendtray.client")

ROTATE_BYTES = 1024 * 1024
# A claim is held only while its events are being POSTed.
STALE_CLAIM_SECONDS = 10 * 60
# Another live process's .part is never touched on POSIX (pid check) unless it is this old.
STALE_PART_SECONDS = 24 * 3600 if os.name == "posix" else 10 * 60
_TMP_SECONDS = 3600


def pid_alive(pid: int) -> bool:
    """True when ``pid`` may be running (always True where we cannot tell)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def encode(events: list[dict[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode() + b"\n" for e in events
    )


class Claim:
    """A spool file this process is delivering, and the events still in it."""

    def __init__(
        self, path: Path, events: list[dict[str, Any]], spool: Spool, own_part: Path | None
    ) -> None:
        self.path = path
        self.events = events
        self._spool = spool
        self._own_part = own_part

    def keep(self, events: list[dict[str, Any]]) -> None:
        """The app answered 2xx for the others: only ``events`` stay in the file."""
        self.events = events
        if not events:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        with open_private(tmp, "wb") as handle:
            handle.write(encode(events))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def release(self) -> None:
        """Not deliverable now: hand the file back (this process's own file stays its own)."""
        self._spool.release(self.path, self._own_part)


class Spool:
    """``foreign_only``: for a reader that is not a client (the app's start-up drain), whose
    process may run a client of its own — files written under its own pid are that client's,
    not a dead predecessor's, and are left to it."""

    def __init__(self, folder: Path, max_bytes: int, foreign_only: bool = False) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.foreign_only = foreign_only
        self.lock = threading.RLock()
        self._part: Path | None = None
        self._dropped = 0

    # -- writing -------------------------------------------------------------------------

    def _new_part(self) -> Path:
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}.part"
        return self.folder / name

    def size(self) -> int:
        total = 0
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    try:
                        total += entry.stat().st_size
                    except OSError:
                        continue
        except OSError:
            return 0
        return total

    def append(self, events: list[dict[str, Any]]) -> int:
        """Write events durably; returns how many were kept (the rest are dropped, logged)."""
        if not events:
            return 0
        with self.lock:
            data = [encode([e]) for e in events]
            room = self.max_bytes - self.size()
            keep = 0
            used = 0
            for line in data:
                if used + len(line) > room:
                    break
                used += len(line)
                keep += 1
            if keep < len(events):
                self._dropped += len(events) - keep
                log.warning(
                    "spendtray: the spool folder %s is full (%.1f MB limit); dropped %d usage "
                    "event(s), %d so far in this process. Start the Spendtray app to deliver "
                    "the spooled events.",
                    self.folder,
                    self.max_bytes / 1e6,
                    len(events) - keep,
                    self._dropped,
                )
            if keep:
                try:
                    self._write(b"".join(data[:keep]))
                except OSError as exc:
                    self._dropped += keep
                    log.warning(
                        "spendtray: could not write to the spool folder %s (%s); dropped %d "
                        "usage event(s)",
                        self.folder,
                        exc,
                        keep,
                    )
                    return 0
            return keep

    def _write(self, payload: bytes) -> None:
        private_dir(self.folder.parent)  # the data folder, when the client is first to need it
        private_dir(self.folder)
        new = self._part is None
        if self._part is None:
            self._part = self._new_part()
        try:
            with open_private(self._part, "ab") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
                size = handle.tell()
        except OSError:
            self._part = None  # a torn line stays behind in that file; start a clean one
            raise
        if new:
            _fsync_dir(self.folder)
        if size >= ROTATE_BYTES:
            self.seal()

    def seal(self) -> None:
        """Make this process's ``.part`` file deliverable by anyone."""
        with self.lock:
            part, self._part = self._part, None
            if part is None:
                return
            try:
                os.replace(part, part.with_suffix(".ndjson"))
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.debug("spendtray: could not seal %s: %s", part, exc)

    # -- delivering ----------------------------------------------------------------------

    def _claimable(self, path: Path, now: float) -> bool:
        name = path.name
        if name.endswith(".ndjson"):
            return True
        try:
            age = now - path.stat().st_mtime
        except OSError:
            return False
        if ".tmp-" in name:
            if age > _TMP_SECONDS:
                path.unlink(missing_ok=True)
            return False
        if name.endswith(".part"):
            if path == self._part:
                return False
            try:
                pid = int(name.split("-")[1])
            except (IndexError, ValueError):
                return age > STALE_PART_SECONDS
            if pid == os.getpid():
                # Not ours: a dead predecessor with the same pid — or, for the app's drain, a
                # client running in the app's own process.
                return not self.foreign_only
            return not pid_alive(pid) or age > STALE_PART_SECONDS
        if ".sending-" in name:
            try:
                pid = int(name.rsplit(".sending-", 1)[1])
            except ValueError:
                return age > STALE_CLAIM_SECONDS
            if pid == os.getpid():
                return not self.foreign_only
            return not pid_alive(pid) or age > STALE_CLAIM_SECONDS
        return False

    def files(self) -> list[Path]:
        """Spooled files other than this process's open ``.part``, oldest first."""
        try:
            paths = sorted(p for p in self.folder.iterdir() if p.is_file())
        except OSError:
            return []
        now = time.time()
        return [p for p in paths if self._claimable(p, now)]

    def pending(self) -> bool:
        return self._part is not None or bool(self.files())

    def claims(self) -> Iterator[Claim]:
        """Claim deliverable files one by one, this process's own ``.part`` included."""
        own = self._part
        paths = self.files()
        if own is not None and own.exists():
            paths = sorted([*paths, own])
        for path in paths:
            stem = path.name.split(".", 1)[0]
            claimed = self.folder / f"{stem}.sending-{os.getpid()}"
            with self.lock:
                try:
                    os.replace(path, claimed)
                    os.utime(claimed)
                except OSError:
                    continue  # another process took it, or (Windows) it is open for writing
                mine = path if path == self._part else None
                if mine is not None:
                    self._part = None  # new events go to a new file meanwhile
            events = self._read(claimed)
            if not events:
                claimed.unlink(missing_ok=True)
                continue
            yield Claim(claimed, events, self, mine)

    def release(self, claimed: Path, own_part: Path | None) -> None:
        """Un-claim: back to this process's ``.part`` if it was that (and no new one was
        started), so an app that stays down does not turn every retry into a new file."""
        with self.lock:
            stem = claimed.name.rsplit(".sending-", 1)[0]
            target = self.folder / f"{stem}.ndjson"
            if own_part is not None and self._part is None:
                target = own_part
            try:
                os.replace(claimed, target)
            except OSError as exc:
                log.debug("spendtray: could not release %s: %s", claimed, exc)
                return
            if target == own_part:
                self._part = own_part

    @staticmethod
    def _read(path: Path) -> list[dict[str, Any]]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            log.debug("spendtray: could not read %s: %s", path, exc)
            return []
        events: list[dict[str, Any]] = []
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except (ValueError, UnicodeDecodeError):
                # A line torn by a crash mid-write: it was never acknowledged to anyone.
                log.debug("spendtray: skipped unreadable line %d of %s", number, path.name)
                continue
            if isinstance(event, dict):
                events.append(event)
        return events
