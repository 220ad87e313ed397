"""``GET /v1/machines``: every machine whose events are here, and each one's last sync. The
server's event loop (the reads run on a thread-pool thread).

A machine is listed by name with its all-time calls and cost (``group_by=machine``); machines
met through the sync folder also carry their id, when they last wrote to the folder and when
this machine last took records from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spendtray.money import usd_float
from spendtray.server.guard import Handler
from spendtray.store.reader import Filters
from spendtray.store.sync_state import machines

if TYPE_CHECKING:
    from spendtray.core import Core


def _iso(ms: int | None) -> str | None:
    import datetime as dt

    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat().replace("+00:00", "Z")


def machines_json(core: Core) -> dict[str, Any]:
    reader = core.reader
    totals = {row.key: row for row in reader.summary("machine", Filters()).rows}
    synced = {m["name"]: m for m in machines(reader.conn())}
    this = core.settings.machine_name
    listed: list[dict[str, Any]] = []
    for name in sorted(set(totals) | set(synced) | {this}):
        row = totals.get(name)
        sync = synced.get(name)
        listed.append(
            {
                "name": name,
                "this_machine": name == this,
                "calls": row.calls if row else 0,
                "cost_usd": usd_float(row.cost_nanos if row else 0),
                "machine_id": (
                    core.sync.machine_id
                    if name == this and core.sync is not None
                    else (sync["machine_id"] if sync else None)
                ),
                "last_wrote": _iso(sync["exported_at"]) if sync else None,
                "last_received": _iso(sync["received_at"]) if sync else None,
            }
        )
    return {"sync_folder": core.settings.sync_folder or None, "machines": listed}


def machines_handler(core: Core) -> Handler:
    async def get_machines(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(machines_json, core))

    return get_machines
