"""Sending imported events to a Spendtray that is already running on this data folder. Runs on
the CLI's main thread.

Events must have one writer: the running app's writer numbers rows itself, so a second process
inserting events into the same file would collide with it. When `spendtray import` finds the
app's server answering, it posts the events to ``POST /v1/usage`` instead (same validation,
same idempotency keys, and the app's budgets see them at once); only the import offsets are
written locally, to the ``import_state`` table the app never touches.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from spendtray.config import Settings
from spendtray.ingest.bounds import check_counts
from spendtray.ingest.event import TOKEN_FIELDS, EventError, UsageEvent
from spendtray.ingest.service import IngestResult
from spendtray.money import nanos_to_decimal

if TYPE_CHECKING:
    import httpx


class RemoteError(RuntimeError):
    """The running server refused the events; the message says why."""


def running_server(settings: Settings, token: str, timeout: float = 2.0) -> str | None:
    """The base URL of this data folder's Spendtray when it answers on the configured port,
    else None. Something else on the port raises ``identity.NotSpendtray`` (one line)."""
    from spendtray.identity import Unreachable, verify

    if settings.port == 0:
        return None
    try:  # a refused connection answers in microseconds; skip the HTTP round trip then
        socket.create_connection(("127.0.0.1", settings.port), timeout=timeout).close()
    except OSError:
        return None
    url = f"http://127.0.0.1:{settings.port}"
    try:
        verify(url, token, timeout)
    except Unreachable:
        return None
    return url


def event_payload(event: UsageEvent) -> dict[str, Any]:
    """A ``UsageEvent`` in the canonical JSON shape of SPEC §5."""
    counts = event.counts
    payload: dict[str, Any] = {
        "model": event.model,
        "provider": event.provider,
        **{name: getattr(counts, name) for name in TOKEN_FIELDS},
        "timestamp": event.timestamp.isoformat(),
        "project": event.project,
        "source": event.source,
    }
    for name in ("agent", "session", "request_id", "service_tier", "tags"):
        value = getattr(event, name)
        if value:
            payload[name] = value
    if event.raw_usage:
        # Kept as the stored raw usage; the explicit counts above win over what it implies.
        payload["usage"] = event.raw_usage
    if event.reported_cost_nanos is not None:
        payload["cost_usd"] = str(nanos_to_decimal(event.reported_cost_nanos))
    return payload


# How much `spendtray import` lowers its own CPU priority (``os.nice``) while it sends to the
# running app. The import is a batch job beside an interactive server: parsing at full speed,
# it took a core from the app's event loop and writer, and agents' single POSTs answered in
# 31 ms at p99 during a 300 MB import; lowered, 19 ms, and the import took as long (its pace
# is the app's anyway). Only a contended CPU is shared differently.
BACKGROUND_NICENESS = 19


def yield_cpu_to_the_app() -> None:
    """Lower this process's CPU priority, and that of processes it starts from now on (parse
    workers), by ``BACKGROUND_NICENESS``. Nothing on systems without ``os.nice`` (Windows)."""
    if hasattr(os, "nice"):
        # Not allowed (a sandbox): the import runs as before.
        with contextlib.suppress(OSError):
            os.nice(BACKGROUND_NICENESS)


# Events per POST. The importer's batches are larger (5,000): posted whole, each was one
# transaction of ~100 ms on the app's writer thread and ~10 ms of JSON on its event loop,
# and a single event posted meanwhile (an agent at work) waited behind them (p99 75 ms,
# bench/ingest.py). At 500 per POST, a POST's validation on the app's thread pool (~5 ms of
# Python, holding the GIL the event loop needs back) and its transaction still made the tail:
# during a 300 MB import, same run, 3 rounds, p99 of single POSTs 21.0 ms (18.7-26.6) at 500,
# 10.9 (8.3-13.5) at 250, and the import was no slower (7.8 -> 5.6 s). Above the server's
# INLINE_EVENTS (200), so its validation stays off the event loop.
POST_EVENTS = 250


class ServerSink:
    """``store(events)`` for ``Importer``: a POST per ``POST_EVENTS`` events, each answered
    after its commit."""

    def __init__(self, url: str, token: str, timeout: float = 120.0) -> None:
        import httpx

        self._url, self._token = url, token
        self._client: httpx.Client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    def __call__(self, events: Sequence[UsageEvent]) -> IngestResult:
        """Post ``events``; one the server refuses (its 400 names the index: a batch is
        all-or-nothing) is left out and the rest posted again, so one bad line never stops
        an import. The token bounds are checked here first, saving those round trips."""
        refused: list[tuple[int, EventError]] = []
        indexes: list[int] = []  # the index in ``events`` of each event still to send
        for index, event in enumerate(events):
            try:
                check_counts(event.counts)
            except EventError as exc:
                refused.append((index, exc))
            else:
                indexes.append(index)
        accepted = duplicates = 0
        replies: list[dict[str, Any]] = []
        stored: list[int] = []
        for start in range(0, len(indexes), POST_EVENTS):
            chunk = indexes[start : start + POST_EVENTS]
            while chunk:
                data = self._post([events[i] for i in chunk])
                if "accepted" in data:
                    accepted += int(data["accepted"])
                    duplicates += int(data["duplicates"])
                    replies.extend(data.get("events", []))
                    stored.extend(chunk)
                    break
                at, error = data["refused"]
                refused.append((chunk.pop(at), error))
        return IngestResult(
            accepted=accepted,
            duplicates=duplicates,
            events=replies,
            projects=frozenset(events[i].project for i in stored),
            refused=tuple(sorted(refused, key=lambda item: item[0])),
        )

    def _post(self, events: list[UsageEvent]) -> dict[str, Any]:
        """The 202 reply, or {"refused": (index, error)} for a 400 naming one event."""
        import httpx

        from spendtray.identity import NotSpendtray, Unreachable, verify

        try:  # remembered for a while; whatever took the port since must prove itself
            verify(self._url, self._token)
        except (NotSpendtray, Unreachable) as exc:
            raise RemoteError(str(exc)) from None
        body = {"events": [event_payload(e) for e in events]}
        try:
            answer = self._client.post("/v1/usage", json=body)
        except httpx.HTTPError as exc:
            raise RemoteError(f"the running Spendtray did not take the events: {exc}") from exc
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.status_code == 202 and isinstance(data, dict):
            return data
        try:
            error = data["error"]  # type: ignore[index]
            message = str(error["message"])
        except (KeyError, TypeError):
            raise RemoteError(
                f"the running Spendtray refused the events: HTTP {answer.status_code}"
            ) from None
        detail = (error.get("details") or [{}])[0]
        at = detail.get("index") if isinstance(detail, dict) else None
        if answer.status_code == 400 and isinstance(at, int) and 0 <= at < len(events):
            problem = EventError(str(detail.get("field")), str(detail.get("problem")))
            return {"refused": (at, problem)}
        raise RemoteError(f"the running Spendtray refused the events: {message}")

    def close(self) -> None:
        self._client.close()
