"""Settings dialog, estimator window and the no-tray fallback, driven as a user would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spendtray import autostart
from spendtray.config import Settings, load_settings


def test_settings_dialog_saves_config_and_autostart(
    gui: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spendtray.gui.settings_dialog import SettingsDialog

    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    saved: list[Settings] = []
    dialog = SettingsDialog(gui.settings, gui.core.runner.port, saved.append, env=env)
    qtbot.addWidget(dialog)
    dialog.port.setValue(9123)
    dialog.precision.setValue(4)
    dialog.notifications.setChecked(False)
    dialog.start_at_login.setChecked(True)
    assert "$0.0042" in dialog.preview.text()
    assert dialog.save()
    on_disk = load_settings(home=gui.settings.home)
    assert (on_disk.port, on_disk.currency_precision, on_disk.notifications) == (9123, 4, False)
    assert autostart.is_enabled(env)
    assert saved[0].currency_precision == 4

    dialog = SettingsDialog(on_disk, 9123, saved.append, env=env)
    qtbot.addWidget(dialog)
    assert dialog.start_at_login.isChecked()
    dialog.start_at_login.setChecked(False)
    assert dialog.save()
    assert not autostart.is_enabled(env)


def test_settings_dialog_refuses_a_broken_config_and_writes_nothing(
    gui: Any, qtbot: Any, tmp_path: Path
) -> None:
    from spendtray.gui.settings_dialog import SettingsDialog

    broken = 'timezone = "UTC\n'  # an unterminated string: not TOML
    gui.settings.config_path.write_text(broken)
    dialog = SettingsDialog(gui.settings, 1, lambda _s: None, env={"HOME": str(tmp_path)})
    qtbot.addWidget(dialog)
    dialog.precision.setValue(3)
    assert not dialog.save()
    assert "not valid TOML" in dialog.error.text()
    assert gui.settings.config_path.read_text() == broken


def test_port_override_is_not_written_back(gui: Any, qtbot: Any, tmp_path: Path) -> None:
    from spendtray.gui.settings_dialog import SettingsDialog

    # the fixture's core runs with --port 0; the file says nothing, so the default is shown
    assert gui.settings.port == 0
    dialog = SettingsDialog(gui.settings, 1, lambda _s: None, env={"HOME": str(tmp_path)})
    qtbot.addWidget(dialog)
    assert dialog.port.value() == 8719
    dialog.notifications.setChecked(False)
    assert dialog.save()
    assert gui.settings.config_path.read_text() == "notifications = false\n"


def test_precision_setting_changes_the_tooltip(gui: Any, post: Any, qtbot: Any) -> None:
    post({"model": "gpt-4o", "input_tokens": 1_234_567, "project": "p"})
    qtbot.waitUntil(lambda: gui.tray.figures.today_calls == 1, timeout=5000)
    assert "Today: $3.09 " in gui.tray.icon.toolTip()
    from dataclasses import replace

    gui._settings_saved(replace(gui.settings, currency_precision=4))
    qtbot.waitUntil(lambda: "Today: $3.0864 " in gui.tray.icon.toolTip(), timeout=5000)


def test_estimator_menu_item_opens_the_estimator(gui: Any, qtbot: Any) -> None:
    gui.tray.menu.aboutToShow.emit()
    item = next(a for a in gui.tray.menu.actions() if a.text() == "Estimator…")
    item.trigger()
    assert gui.estimator is not None and gui.estimator.isVisible()
    qtbot.addWidget(gui.estimator)


def test_without_a_tray_the_dashboard_is_a_window_and_closing_it_quits(
    core: Any, qtbot: Any
) -> None:
    from spendtray.gui.app import GuiApp

    app = GuiApp(core, use_tray=False)
    app.start()
    try:
        assert app.dashboard is not None and app.dashboard.isVisible()
        assert not app.tray.icon.isVisible()
        assert "No system tray found" in app.dashboard.statusBar().currentMessage()
        qtbot.addWidget(app.dashboard)
        with qtbot.waitSignal(app.stopped, timeout=5000):
            app.dashboard.close()
        assert core.runner is None
    finally:
        app.shutdown()
