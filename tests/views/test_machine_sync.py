"""Each machine's last sync as the Machine breakdown's columns say it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from spendtray.store.reader import SummaryRow
from spendtray.sync.machines import MachineInfo
from spendtray.views.breakdown import BreakdownRow
from spendtray.views.machines import MachineSync, stamp_text, sync_columns

ZONE = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 6, 12, 30, tzinfo=dt.UTC)  # 13:30 in Berlin


def _machine(name: str, wrote: dt.datetime | None, this: bool = False) -> MachineInfo:
    return MachineInfo(name, this, 1, 0, "id-" + name, wrote, wrote)


def _row(name: str) -> BreakdownRow:
    return BreakdownRow.of(SummaryRow(key=name, calls=1), 1)


def test_stamps_read_in_local_time() -> None:
    assert stamp_text(None, ZONE, NOW) == "never"
    assert stamp_text(NOW - dt.timedelta(seconds=20), ZONE, NOW) == "13:29 (just now)"
    assert stamp_text(NOW - dt.timedelta(minutes=4), ZONE, NOW) == "13:26 (4 min ago)"
    assert stamp_text(NOW - dt.timedelta(hours=3), ZONE, NOW) == "10:30"
    assert stamp_text(NOW - dt.timedelta(days=1), ZONE, NOW) == "Dec 5, 13:30"


def test_shown_only_with_two_machines_or_a_sync_folder() -> None:
    desk = _machine("desk", None, this=True)
    assert not MachineSync(None, {"desk": desk}).shown
    assert MachineSync("/sync", {"desk": desk}).shown
    assert MachineSync(None, {"desk": desk, "ci": _machine("ci", None)}).shown


def test_columns_mark_this_machine_and_a_stale_one() -> None:
    sync = MachineSync(
        "/sync",
        {
            "desk": _machine("desk", None, this=True),
            "laptop": _machine("laptop", NOW - dt.timedelta(minutes=2)),
            "old-box": _machine("old-box", NOW - dt.timedelta(days=3)),
        },
    )
    (synced,) = sync_columns(lambda: sync, ZONE, lambda: NOW)
    assert synced.text(_row("desk")) == "this machine"
    assert synced.text(_row("laptop")) == "13:28 (2 min ago)"
    assert synced.tone is not None and synced.tip is not None
    assert synced.tone(_row("laptop")) is None
    assert synced.tone(_row("old-box")) == "muted"
    assert synced.text(_row("old-box")) == "Dec 3, 13:30"
    assert synced.text(_row("gone")) == "never"  # stored here, never seen in the folder
    tip = synced.tip(_row("laptop")) or ""
    assert "id-laptop" in tip and "received here 13:28 (2 min ago)" in tip
