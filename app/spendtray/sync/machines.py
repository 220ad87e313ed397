"""What is known of every machine whose spend is here: its all-time calls and cost by name
and, for machines met through the sync folder, their id and when they last synced. Read by
``GET /v1/machines`` (a server thread-pool thread) and the dashboard's Machine breakdown (the
refresh worker thread), each through its own Reader connection.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from spendtray.store.reader import Filters, Reader
from spendtray.store.sync_state import machines


@dataclass(frozen=True)
class MachineInfo:
    name: str
    this_machine: bool
    calls: int  # all time
    cost_nanos: int
    machine_id: str | None  # None: a machine never met through the sync folder
    last_wrote: dt.datetime | None  # UTC: when it last wrote to the sync folder
    last_received: dt.datetime | None  # UTC: when this machine last took its records


def _utc(ms: int | None) -> dt.datetime | None:
    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def machine_list(reader: Reader, this_name: str, this_id: str | None) -> list[MachineInfo]:
    """Every machine by name (this one always), sorted by name."""
    totals = {row.key: row for row in reader.summary("machine", Filters()).rows}
    synced = {m["name"]: m for m in machines(reader.conn())}
    listed: list[MachineInfo] = []
    for name in sorted(set(totals) | set(synced) | {this_name}):
        row = totals.get(name)
        sync = synced.get(name)
        listed.append(
            MachineInfo(
                name=name,
                this_machine=name == this_name,
                calls=row.calls if row else 0,
                cost_nanos=row.cost_nanos if row else 0,
                machine_id=(
                    this_id
                    if name == this_name and this_id
                    else (sync["machine_id"] if sync else None)
                ),
                last_wrote=_utc(sync["exported_at"]) if sync else None,
                last_received=_utc(sync["received_at"]) if sync else None,
            )
        )
    return listed
