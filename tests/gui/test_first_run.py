"""The dashboard's first-run page: this instance's data folder, URL and (masked) token, and
snippets that really send the first event when pasted."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from spendtray.views.first_run import mask, python_snippet


def test_welcome_names_the_data_folder_url_and_masks_the_token(gui: Any, dashboard: Any) -> None:
    page = dashboard.empty
    token, url = gui.core.token, gui.core.url
    assert dashboard.stack.currentWidget() is page
    assert page.home_label.text() == str(gui.settings.home)
    assert page.url_label.text() == f"{url}/v1/usage"
    # on screen: masked everywhere; the last four characters tell tokens apart
    assert token not in page.token_label.text()
    assert page.token_label.text().endswith(token[-4:])
    assert token not in page.curl.code.toPlainText()
    assert "Authorization: Bearer ••••" in page.curl.code.toPlainText()
    # Show reveals it, Hide masks it again
    page.show_token_button.click()
    assert page.token_label.text() == token
    assert token in page.curl.code.toPlainText()
    page.show_token_button.click()
    assert token not in page.token_label.text()
    # the copy buttons copy the real values
    clipboard = QGuiApplication.clipboard()
    page.copy_token_button.click()
    assert clipboard.text() == token
    page.copy_url_button.click()
    assert clipboard.text() == f"{url}/v1/usage"
    page.copy_home_button.click()
    assert clipboard.text() == str(gui.settings.home)
    page.curl.copy_button.click()
    assert f"Bearer {token}" in clipboard.text()


def test_pasted_curl_snippet_fills_the_dashboard(
    gui: Any, dashboard: Any, qtbot: Any, tmp_path: Path
) -> None:
    page = dashboard.empty
    page.curl.copy_button.click()
    pasted = QGuiApplication.clipboard().text()
    assert "\n" in pasted  # a multi-line command, as a terminal takes it
    result = subprocess.run(["sh", "-c", pasted], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert '"accepted":1' in result.stdout
    qtbot.waitUntil(lambda: dashboard.stack.currentWidget() is dashboard.tabs, timeout=2000)
    assert dashboard.range_value.text().endswith("· 1 call")


def test_snippets_without_a_token(gui: Any, dashboard: Any) -> None:
    page = dashboard.empty
    page.set_target(gui.core.url, gui.core.token, False, gui.settings.home)
    assert "Authorization" not in page.curl.text
    assert page.token_label.text() == "not required (require_token = false)"
    assert not page.copy_token_button.isVisibleTo(page)


def test_proxy_snippet_points_the_sdks_at_this_instance(gui: Any, dashboard: Any) -> None:
    text = dashboard.empty.proxy.text
    url = gui.core.url
    assert f"OPENAI_BASE_URL={url}/p/my-first-project/openai/v1" in text
    assert f"ANTHROPIC_BASE_URL={url}/p/my-first-project/anthropic" in text


def test_python_snippet_is_python_and_says_where_the_app_is(tmp_path: Path) -> None:
    import platformdirs

    default_home = Path(platformdirs.user_data_dir("spendtray", appauthor=False))
    plain = python_snippet("http://127.0.0.1:8719", default_home)
    ast.parse(plain)
    assert plain.startswith("from spendtray.client import record\n")
    assert "configure(" not in plain
    custom = python_snippet("http://127.0.0.1:45000", tmp_path)
    ast.parse(custom)
    assert "from spendtray.client import configure, record" in custom
    assert f"configure(url='http://127.0.0.1:45000', home={str(tmp_path)!r})" in custom


@pytest.mark.skipif(
    importlib.util.find_spec("spendtray.client") is None, reason="spendtray.client not installed"
)
def test_python_snippet_records_into_this_instance(
    gui: Any, dashboard: Any, qtbot: Any, tmp_path: Path
) -> None:
    snippet = dashboard.empty.python.text
    script = snippet + "from spendtray.client import flush\nassert flush(10)\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPENDTRAY_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    qtbot.waitUntil(lambda: dashboard.stack.currentWidget() is dashboard.tabs, timeout=3000)
    assert dashboard.range_value.text().endswith("· 1 call")


def test_mask_keeps_length_and_last_four() -> None:
    assert mask("abcdefghijklmnopqrstuvwxyz0123456789") == "••••••••6789"
    assert mask("abcdefghijkl") == "••••••••ijkl"
    assert mask("short") == "•••••"
