"""Live price reload: the running app picks up an edited ``prices.toml`` and the data
`spendtray prices update` downloaded, without a restart. Thread "spendtray-prices-watch".

Once a second the thread compares the files' identity (inode, size, mtime) with what the book
was loaded from — two ``stat`` calls, nothing read — and on a change loads a whole new book and
hands it to ``PriceBook.adopt``. A file that does not load (a typo in ``prices.toml``, a
half-written download) is named in one warning and the prices in use stay; the next good save
is picked up. Events stored earlier keep the prices they were stored with (``spendtray reprice``
changes them on purpose).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from spendtray.prices.book import PriceBook
from spendtray.prices.files import DATA_FILE, META_FILE

log = logging.getLogger("spendtray.prices")
INTERVAL = 1.0

_Stamp = tuple[tuple[int, int, int] | None, ...]


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class PriceReloader:
    """Keeps ``book`` in step with the user's price files (a ``Core`` worker)."""

    def __init__(
        self, book: PriceBook, user_file: Path, data_dir: Path, interval: float | None = None
    ) -> None:
        self.book = book
        self.user_file = user_file
        self.data_dir = data_dir
        self.interval = INTERVAL if interval is None else interval
        self.reloads = 0  # how many times new prices were adopted
        self._stamp = self._current()
        self._failed: _Stamp | None = None
        self._unsettled: _Stamp | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _current(self) -> _Stamp:
        return tuple(
            _identity(p)
            for p in (self.user_file, self.data_dir / DATA_FILE, self.data_dir / META_FILE)
        )

    def check(self) -> bool:
        """Reload if a file changed since the last load; True when new prices were adopted."""
        stamp = self._current()
        if stamp == self._stamp or stamp == self._failed:
            return False
        from spendtray.prices.engine_data import PriceDataError
        from spendtray.prices.overrides import PriceFileError

        try:
            fresh = PriceBook.load(user_file=self.user_file, data_dir=self.data_dir)
        except (PriceFileError, PriceDataError, OSError, UnicodeDecodeError) as exc:
            self._failed = stamp
            log.warning("prices not reloaded, the prices in use stay: %s", exc)
            return False
        if fresh.engine.ignored and stamp != self._unsettled:
            # The download did not load: maybe `prices update` is between its two renames.
            # Adopted if the files look the same a second later (then it really is broken and
            # the bundled data is what a restart would use too).
            self._unsettled = stamp
            return False
        self.book.adopt(fresh)
        self._stamp, self._failed, self._unsettled = stamp, None, None
        self.reloads += 1
        log.info("prices reloaded (%s; %s)", self.user_file, fresh.engine.describe())
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # never let a surprise end the watch
                log.exception("price reload failed")

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="spendtray-prices-watch", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
