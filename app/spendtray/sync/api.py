"""``GET /v1/machines``: every machine whose events are here, and each one's last sync. The
server's event loop (the reads run on a thread-pool thread).

A machine is listed by name with its all-time calls and cost (``group_by=machine``); machines
met through the sync folder also carry their id, when they last wrote to the folder and when
this machine last took records from them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spendtray.money import usd_float
from spendtray.server.guard import Handler
from spendtray.sync.machines import machine_list

if TYPE_CHECKING:
    from spendtray.core import Core


def _iso(stamp: dt.datetime | None) -> str | None:
    return None if stamp is None else stamp.isoformat().replace("+00:00", "Z")


def machines_json(core: Core) -> dict[str, Any]:
    this_id = core.sync.machine_id if core.sync is not None else None
    listed = [
        {
            "name": m.name,
            "this_machine": m.this_machine,
            "calls": m.calls,
            "cost_usd": usd_float(m.cost_nanos),
            "machine_id": m.machine_id,
            "last_wrote": _iso(m.last_wrote),
            "last_received": _iso(m.last_received),
        }
        for m in machine_list(core.reader, core.settings.machine_name, this_id)
    ]
    return {"sync_folder": core.settings.sync_folder or None, "machines": listed}


def machines_handler(core: Core) -> Handler:
    async def get_machines(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(machines_json, core))

    return get_machines
