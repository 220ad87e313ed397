"""The dashboard's first-run page: where data lives, how to reach this instance, and snippets
that send the first event.

GUI thread. Everything shown is this running instance's own: its data folder, ingest URL and
token (masked on screen; the Copy buttons copy the real value), and snippets for curl, the
Python client and the proxy that work when pasted as they are.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from spendtray.views.first_run import (
    curl_snippet,
    mask,
    proxy_snippet,
    python_snippet,
)


class Snippet(QWidget):
    """A read-only code block with a Copy button; what it shows may hide the secret it copies."""

    def __init__(self, note: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        self.code = QPlainTextEdit()
        self.code.setReadOnly(True)
        self.code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.code.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        row.addWidget(self.code, 1)
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(row)
        self.note = QLabel(note)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self.note.setStyleSheet("color: #495057;")
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.text = ""

    def set_text(self, text: str, shown: str) -> None:
        self.text = text
        self.code.setPlainText(shown)
        # tall enough for every line and a horizontal scroll bar, so nothing is cut off
        lines = max(1, shown.count("\n") + (0 if shown.endswith("\n") else 1))
        spacing = self.code.fontMetrics().lineSpacing()
        chrome = 2 * self.code.frameWidth() + 2 * int(self.code.document().documentMargin())
        scrollbar = self.code.horizontalScrollBar().sizeHint().height()
        self.code.setFixedHeight(lines * spacing + chrome + scrollbar + 4)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)


class EmptyState(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.url = ""
        self.token = ""
        self.require_token = True
        self.home: Path | None = None
        self.revealed = False

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        page = QWidget()
        page.setMaximumWidth(1060)
        layout = QVBoxLayout(page)
        outer.addWidget(page, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

        title = QLabel("Welcome to Spendtray")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        intro = QLabel(
            "No usage recorded yet. Spendtray prices each LLM call that something reports to it "
            "and keeps the figures on this machine. Send a first event with one of the "
            "snippets below — this window fills in within a second."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        facts = QFrame()
        facts.setObjectName("facts")
        facts.setStyleSheet(
            "#facts { background: #f8f9fa; border: 1px solid #dee2e6; border-radius: 6px; }"
        )
        grid = QGridLayout(facts)
        grid.setColumnStretch(1, 1)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        def value_label() -> QLabel:
            label = QLabel()
            label.setFont(mono)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            return label

        def button(text: str, slot: object) -> QPushButton:
            b = QPushButton(text)
            b.clicked.connect(slot)
            return b

        grid.addWidget(QLabel("Data folder"), 0, 0)
        self.home_label = value_label()
        grid.addWidget(self.home_label, 0, 1)
        self.open_home_button = button("Open", self.open_home)
        grid.addWidget(self.open_home_button, 0, 2)
        self.copy_home_button = button("Copy", self.copy_home)
        grid.addWidget(self.copy_home_button, 0, 3)
        self.home_note = QLabel(
            "spendtray.db, config.toml, token, logs/ — token counts and attribution only; "
            "prompts and completions are never stored."
        )
        self.home_note.setStyleSheet("color: #495057;")
        grid.addWidget(self.home_note, 1, 1, 1, 3)

        grid.addWidget(QLabel("Ingest URL"), 2, 0)
        self.url_label = value_label()
        grid.addWidget(self.url_label, 2, 1)
        self.copy_url_button = button("Copy", self.copy_url)
        grid.addWidget(self.copy_url_button, 2, 3)

        grid.addWidget(QLabel("Token"), 3, 0)
        self.token_label = value_label()
        grid.addWidget(self.token_label, 3, 1)
        self.show_token_button = button("Show", self.toggle_token)
        grid.addWidget(self.show_token_button, 3, 2)
        self.copy_token_button = button("Copy", self.copy_token)
        grid.addWidget(self.copy_token_button, 3, 3)
        layout.addWidget(facts)

        self.snippets = QTabWidget()
        self.curl = Snippet(
            "Any language: <b>POST /v1/usage</b> with the token, one event or a list. "
            "Copy puts the real token in the command."
        )
        self.python = Snippet(
            "<code>spendtray.client</code> sends in the background and keeps events on disk "
            "while the app is closed; it never slows your LLM call."
        )
        self.proxy = Snippet(
            "Calls are forwarded unchanged and recorded under the project in the path; "
            "API keys pass through and are never stored."
        )
        self.snippets.addTab(self.curl, "curl")
        self.snippets.addTab(self.python, "Python")
        self.snippets.addTab(self.proxy, "Proxy (OpenAI / Anthropic SDK)")
        layout.addWidget(self.snippets)

    def set_target(
        self, url: str, token: str, require_token: bool, home: Path | None = None
    ) -> None:
        self.url, self.token, self.require_token, self.home = url, token, require_token, home
        self._fill()

    def _fill(self) -> None:
        url, token = self.url, self.token
        self.home_label.setText(str(self.home) if self.home is not None else "—")
        self.open_home_button.setEnabled(self.home is not None)
        self.copy_home_button.setEnabled(self.home is not None)
        self.url_label.setText(f"{url}/v1/usage")
        if self.require_token:
            self.token_label.setText(token if self.revealed else mask(token))
            self.show_token_button.setText("Hide" if self.revealed else "Show")
        else:
            self.token_label.setText("not required (require_token = false)")
        self.show_token_button.setVisible(self.require_token)
        self.copy_token_button.setVisible(self.require_token)
        shown_token = token if self.revealed else mask(token)
        self.curl.set_text(
            curl_snippet(url, token, self.require_token),
            curl_snippet(url, shown_token, self.require_token),
        )
        python = python_snippet(url, self.home)
        self.python.set_text(python, python)
        proxy = proxy_snippet(url)
        self.proxy.set_text(proxy, proxy)

    def toggle_token(self) -> None:
        self.revealed = not self.revealed
        self._fill()

    def copy_url(self) -> None:
        QGuiApplication.clipboard().setText(f"{self.url}/v1/usage")

    def copy_token(self) -> None:
        QGuiApplication.clipboard().setText(self.token)

    def copy_home(self) -> None:
        QGuiApplication.clipboard().setText(str(self.home))

    def open_home(self) -> None:
        if self.home is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.home)))
