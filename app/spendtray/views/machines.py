"""Each machine's last sync, as the Machine breakdown's extra column. Pure apart from the
``machine_sync`` read (the refresh worker thread); the column texts run on the GUI thread.

Shown only where it says something: when spend from more than one machine is here or a sync
folder is set. A machine that last wrote long ago is muted, so a laptop that stopped syncing
stands out from one that synced a minute ago.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from spendtray.store.reader import Reader
from spendtray.sync.machines import MachineInfo, machine_list
from spendtray.views.breakdown import BreakdownRow
from spendtray.views.columns import Column, Tone

STALE_AFTER = dt.timedelta(days=1)  # no write for this long: the sync may have stopped


@dataclass(frozen=True)
class ThisMachine:
    """What the refresh needs to know of this machine (from settings and the sync part)."""

    name: str
    machine_id: str | None
    sync_folder: str | None


@dataclass(frozen=True)
class MachineSync:
    sync_folder: str | None
    machines: dict[str, MachineInfo]  # by machine name

    @property
    def shown(self) -> bool:
        return bool(self.sync_folder) or len(self.machines) > 1


def machine_sync(reader: Reader, this: ThisMachine) -> MachineSync:
    listed = machine_list(reader, this.name, this.machine_id)
    return MachineSync(this.sync_folder or None, {m.name: m for m in listed})


def stamp_text(stamp: dt.datetime | None, zone: ZoneInfo, now: dt.datetime) -> str:
    """ "13:05 (4 min ago)" today, "Dec 5, 13:05" before, "never" without one."""
    if stamp is None:
        return "never"
    local = stamp.astimezone(zone)
    if local.date() != now.astimezone(zone).date():
        return f"{local:%b} {local.day}, {local:%H:%M}"
    minutes = max(0, int((now - stamp).total_seconds() // 60))
    ago = "just now" if minutes < 1 else f"{minutes} min ago" if minutes < 60 else ""
    return f"{local:%H:%M}" + (f" ({ago})" if ago else "")


def sync_columns(
    sync: Callable[[], MachineSync | None], zone: ZoneInfo, now: Callable[[], dt.datetime]
) -> list[Column]:
    """ "Last synced" for the Machine breakdown's rows: when each other machine last wrote to
    the sync folder; the tooltip adds when this machine took its records."""

    def info(row: BreakdownRow) -> MachineInfo | None:
        known = sync()
        return known.machines.get(row.key) if known is not None else None

    def synced(row: BreakdownRow) -> str:
        m = info(row)
        if m is not None and m.this_machine:
            return "this machine"
        return stamp_text(m.last_wrote if m else None, zone, now())

    def stale(row: BreakdownRow) -> Tone | None:
        m = info(row)
        if m is None or m.this_machine:
            return None
        if m.last_wrote is None or now() - m.last_wrote > STALE_AFTER:
            return "muted"
        return None

    def tip(row: BreakdownRow) -> str | None:
        m = info(row)
        if m is None:
            return None
        if m.this_machine:
            return f"this machine (id {m.machine_id})" if m.machine_id else "this machine"
        if m.machine_id is None:
            return "never seen in the sync folder (its calls were stored here)"
        return (
            f"machine id {m.machine_id}: last wrote to the sync folder "
            f"{stamp_text(m.last_wrote, zone, now())} (by its own clock); its records last "
            f"received here {stamp_text(m.last_received, zone, now())}"
        )

    return [Column("Last synced", synced, right=True, tip=tip, tone=stale, max_chars=20)]
