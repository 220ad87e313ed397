"""The dashboard's first-run page: how to send the first event, with a working curl line.

GUI thread. The line carries the real URL and token of this running instance, so pasting it
into a terminal makes the dashboard come alive.
"""

from __future__ import annotations

import json
import shlex

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

SAMPLE_EVENT = {
    "model": "gpt-4o-mini",
    "input_tokens": 1200,
    "output_tokens": 300,
    "project": "my-first-project",
}


def curl_line(url: str, token: str, require_token: bool = True) -> str:
    parts = ["curl", "-sS", "-X", "POST", f"{url}/v1/usage"]
    if require_token:
        parts += ["-H", f"Authorization: Bearer {token}"]
    parts += ["-H", "Content-Type: application/json"]
    parts += ["-d", json.dumps(SAMPLE_EVENT, separators=(",", ":"))]
    return shlex.join(parts)


class EmptyState(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel("No usage recorded yet")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        text = QLabel(
            "Spendtray records what your LLM calls cost as soon as something reports them.\n"
            "Send a first event from a terminal — the dashboard updates within a second:"
        )
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)
        layout.addWidget(text)
        row = QHBoxLayout()
        self.line = QLineEdit()
        self.line.setReadOnly(True)
        self.line.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.line.setMinimumWidth(520)
        row.addWidget(self.line, 1)
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        hint = QLabel(
            "Or point LiteLLM, an OpenTelemetry exporter or your own code at "
            "<b>POST /v1/usage</b> with the same token (tray menu → Copy token)."
        )
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(2)

    def set_target(self, url: str, token: str, require_token: bool) -> None:
        self.line.setText(curl_line(url, token, require_token))
        self.line.setCursorPosition(0)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.line.text())
