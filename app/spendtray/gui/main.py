"""``run_gui``: the tray app process — Qt on the main thread, the ingest server beside it.

Main thread. Order: settings → single-instance check (a second launch only wakes the first)
→ core started (server on its thread, writer on its own) → GUI → event loop. Quit, SIGINT and
SIGTERM all end in ``GuiApp.shutdown`` so acknowledged events are on disk before exit.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
from collections.abc import Callable

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from spendtray.cli.common import settings_from
from spendtray.core import setup_logging
from spendtray.gui.icons import app_icon
from spendtray.gui.single_instance import SingleInstance

log = logging.getLogger(__name__)


class SignalWaker:
    """Lets SIGINT/SIGTERM reach Python while Qt's C++ loop is waiting, without polling.

    Python runs signal handlers only between bytecodes; the wakeup fd makes the OS-level
    handler write a byte that a QSocketNotifier sees, which gives Python that chance.
    """

    def __init__(self, on_signal: Callable[[], None]) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)
        self._on_signal = on_signal
        self._previous = {
            sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)
        }

    def _drain(self) -> None:
        try:
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass

    def _handle(self, signum: int, _frame: object) -> None:
        log.info("signal %d: quitting", signum)
        QTimer.singleShot(0, self._on_signal)

    def close(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()


def make_application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Spendtray")
    app.setDesktopFileName("dev.spendtray.Spendtray")  # packaging/linux/*.desktop
    app.setWindowIcon(app_icon())
    # The tray keeps running when the dashboard closes.
    app.setQuitOnLastWindowClosed(False)
    return app


def run_gui(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    setup_logging(settings, getattr(args, "verbose", False))
    app = make_application()
    instance = SingleInstance(settings.home)
    if not instance.claim():
        print(
            f"spendtray: already running for {settings.home}; brought its dashboard to the front.",
            file=sys.stderr,
        )
        return 0
    from spendtray.cli import reach
    from spendtray.core import Core
    from spendtray.gc_tuning import tune_for_serving
    from spendtray.gui.app import GuiApp
    from spendtray.instance_lock import AlreadyServing, InstanceLock

    # A `spendtray serve` (no Qt, so no single-instance socket) may serve this folder already.
    lock = InstanceLock(settings.home)
    core = None
    try:
        lock.acquire("spendtray (tray app)")
        core = Core(settings)
        core.start_background()
    except BaseException as exc:
        instance.release()
        lock.release()
        if core is not None:
            core.stop()
        if isinstance(exc, OSError | AlreadyServing):
            # stderr first: a modal dialog would hold the one-line reason back until dismissed
            print(f"spendtray: {exc}", file=sys.stderr, flush=True)
            if QGuiApplication.platformName() != "offscreen":
                # started from a menu there is no terminal to read the one-line reason in
                QMessageBox.critical(None, "Spendtray cannot start", str(exc))
            return 2
        raise
    lock.describe(core.url)
    gui = GuiApp(core)
    instance.activated.connect(gui.open_dashboard)
    waker = SignalWaker(gui.quit)
    try:
        gui.start()  # without a tray it says so once (log warning -> stderr, status bar)
        print(
            f"spendtray: ingest server on {core.url} "
            f"(token: `{reach.command(settings.home, 'token')}`)",
            file=sys.stderr,
            flush=True,
        )
        tune_for_serving()
        app.exec()
    finally:
        gui.shutdown()
        waker.close()
        instance.release()
        lock.release()
    print("spendtray: stopped; every acknowledged event is stored.", file=sys.stderr)
    return 0
