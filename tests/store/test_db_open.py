"""Opening the write connection: no sqlite-utils plugin reaches it (and none is looked for)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar

import pytest
from sqlite_utils import hookimpl, plugins

from spendtray.store.db import open_for_writing


class _Plugin:
    """What an installed sqlite-utils plugin does: hooks every connection sqlite-utils opens."""

    seen: ClassVar[list[sqlite3.Connection]] = []

    @staticmethod
    @hookimpl
    def prepare_connection(conn: sqlite3.Connection) -> None:
        _Plugin.seen.append(conn)


def test_the_write_connection_loads_and_runs_no_sqlite_utils_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Looking for plugins scans every installed distribution's entry points (~15 ms on the
    # writer's open, which a command's start waits for); a plugin would change our connection.
    monkeypatch.setattr(plugins, "_plugins_loaded", False)
    plugins.pm.register(_Plugin, name="spendtray-test-plugin")
    try:
        db = open_for_writing(tmp_path / "spendtray.db")
        db.conn.close()
    finally:
        plugins.pm.unregister(name="spendtray-test-plugin")
    assert _Plugin.seen == []
    assert plugins._plugins_loaded is False
