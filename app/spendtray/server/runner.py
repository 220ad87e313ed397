"""Running the HTTP server: uvicorn in the calling thread (``serve``) or in a background
thread (the GUI process). The bound port is known after ``wait_started`` (port 0 = any)."""

from __future__ import annotations

import contextlib
import errno
import signal
import socket
import threading
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from spendtray.datadir import loopback_url
from spendtray.server.http_protocol import BoundedHttpToolsProtocol, raise_open_file_limit


class PortInUse(OSError):
    pass


def _loop_name() -> str:
    try:
        import uvloop  # noqa: F401

        return "uvloop"
    except ImportError:
        return "asyncio"


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {port} on {host} is already in use — is Spendtray already running? "
                "(choose another with --port or SPENDTRAY_PORT)"
            ) from None
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class ServerRunner:
    """Owns one uvicorn server bound to a loopback socket."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.app = app
        self.host = host
        raise_open_file_limit()
        self.socket = bind_socket(host, port)
        self.port: int = self.socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            loop=_loop_name(),
            http=BoundedHttpToolsProtocol,
            lifespan="off",
            access_log=False,
            log_level="warning",
            server_header=False,
            date_header=False,
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return loopback_url(self.host, self.port)

    def run(self) -> None:
        """Serve in the calling thread until ``stop`` or, on the main thread, SIGINT/SIGTERM.

        uvicorn re-raises a caught signal after shutting down, which would kill the process
        before the writer drains; we take the signals ourselves and just ask it to exit.
        """
        self.server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, self._on_signal)
        try:
            self.server.run(sockets=[self.socket])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.server.should_exit and signum == signal.SIGINT:
            self.server.force_exit = True
        self.server.should_exit = True

    def start_in_thread(self) -> None:
        # uvicorn only captures signals on the main thread, so the GUI keeps its own handlers.
        self._thread = threading.Thread(target=self.run, name="spendtray-http", daemon=True)
        self._thread.start()

    def wait_started(self, timeout: float = 10.0) -> bool:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.started:
                return True
            if self._thread is not None and not self._thread.is_alive():
                return False
            time.sleep(0.01)
        return False

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def info(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "url": self.url}
