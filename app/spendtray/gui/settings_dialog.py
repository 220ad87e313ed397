"""Settings window: port, token, start at login, notifications, agent logs, money precision.

GUI thread. Saves through the Qt-free ``config_write`` (config.toml) and ``autostart`` modules;
a bad value is reported in the dialog and nothing is written.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
)

from spendtray import autostart
from spendtray.config import ConfigError, Settings
from spendtray.config_write import save_settings
from spendtray.datadir import DEFAULT_PORT
from spendtray.money import format_usd


def configured_port(settings: Settings) -> int:
    try:
        raw = tomllib.loads(settings.config_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return DEFAULT_PORT
    port = raw.get("port", DEFAULT_PORT)
    return port if isinstance(port, int) and not isinstance(port, bool) else DEFAULT_PORT


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        running_port: int,
        on_saved: Callable[[Settings], None],
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.on_saved = on_saved
        self.env = env
        self.setWindowTitle("Spendtray settings")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        # What config.toml says, not the running port: --port/SPENDTRAY_PORT override it for
        # one run and must not end up written to the file.
        self.port.setValue(configured_port(settings))
        self.port.setToolTip("0 picks any free port at each start")
        form.addRow("Ingest port:", self.port)
        self.require_token = QCheckBox("Require the token on every request")
        self.require_token.setChecked(settings.require_token)
        form.addRow("", self.require_token)
        self.start_at_login = QCheckBox("Start Spendtray when I log in")
        self.start_at_login.setChecked(autostart.is_enabled(env))
        self.start_at_login.setToolTip(f"Writes or removes {autostart.location(env)}")
        form.addRow("", self.start_at_login)
        self.notifications = QCheckBox("Show desktop notifications for budget alerts")
        self.notifications.setChecked(settings.notifications)
        form.addRow("", self.notifications)
        self.follow_agent_logs = QCheckBox("Follow coding agents' logs")
        self.follow_agent_logs.setChecked(settings.follow_agent_logs)
        self.follow_agent_logs.setToolTip(
            "Import the usage these coding agents log on disk, as they log it"
        )
        form.addRow("", self.follow_agent_logs)
        self.precision = QSpinBox()
        self.precision.setRange(0, 6)
        self.precision.setValue(settings.currency_precision)
        self.precision.valueChanged.connect(self._preview)
        self.preview = QLabel()
        form.addRow("Decimals for money:", self.precision)
        form.addRow("", self.preview)
        layout.addLayout(form)
        note = QLabel(
            f"Listening now on port {running_port}. Port and token changes apply "
            "at the next start; the rest applies at once."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #495057;")
        layout.addWidget(note)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c92a2a;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._preview()
        self.initial = self.values()

    def _preview(self) -> None:
        p = self.precision.value()
        self.preview.setText(
            f"e.g. {format_usd(1_234_567_890_000, p)} · {format_usd(4_200_000, p)}"
        )

    def values(self) -> dict[str, object]:
        return {
            "port": self.port.value(),
            "require_token": self.require_token.isChecked(),
            "notifications": self.notifications.isChecked(),
            "follow_agent_logs": self.follow_agent_logs.isChecked(),
            "currency_precision": self.precision.value(),
        }

    def changes(self) -> dict[str, object]:
        """Only what the user changed, so untouched keys keep their defaults in the file."""
        return {k: v for k, v in self.values().items() if self.initial.get(k) != v}

    def save(self) -> bool:
        try:
            changes = self.changes()
            saved = save_settings(self.settings, changes) if changes else self.settings
            autostart.set_enabled(
                self.start_at_login.isChecked(), home=self.settings.home, env=self.env
            )
        except (ConfigError, autostart.AutostartError) as exc:
            self.error.setText(str(exc))
            self.error.show()
            return False
        self.settings = saved
        self.on_saved(saved)
        self.accept()
        return True
