"""One Spendtray per data folder: a second launch asks the first to show itself, then exits.

GUI thread. The key is derived from the data folder, so two users (or two ``--home`` folders)
each get their own instance, while two launches for the same folder never fight over the
port or the database.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

CONNECT_MS = 500
_MESSAGE = b"activate\n"


def server_name(home: Path) -> str:
    digest = hashlib.sha256(str(home.expanduser().resolve()).encode()).hexdigest()[:16]
    return f"spendtray-{digest}"


class SingleInstance(QObject):
    activated = Signal()

    def __init__(self, home: Path) -> None:
        super().__init__()
        self.name = server_name(home)
        self.server: QLocalServer | None = None

    def notify_running(self) -> bool:
        """If an instance already runs, ask it to show itself and answer True."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_MS):
            return False
        socket.write(_MESSAGE)
        socket.flush()
        socket.waitForBytesWritten(CONNECT_MS)
        socket.disconnectFromServer()
        return True

    def claim(self) -> bool:
        """Become the instance; False when another one answered (it has been told to show)."""
        if self.notify_running():
            return False
        # Nobody answered: a socket file left by a crashed instance would block listen().
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            raise RuntimeError(f"cannot listen on local socket {self.name}: {server.errorString()}")
        server.newConnection.connect(self._on_connection)
        self.server = server
        return True

    def _on_connection(self) -> None:
        assert self.server is not None
        while (socket := self.server.nextPendingConnection()) is not None:
            # The other launch writes its one line right after connecting; a short blocking
            # read keeps this free of per-socket callbacks that could outlive the socket.
            arrived = socket.bytesAvailable() > 0 or socket.waitForReadyRead(CONNECT_MS)
            if arrived and bytes(socket.readAll().data()).startswith(_MESSAGE.strip()):
                self.activated.emit()
            socket.disconnectFromServer()
            socket.deleteLater()

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server.deleteLater()
            self.server = None
