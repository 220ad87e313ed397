"""Which Claude Code lines are the same API call, across one batch and what is already stored.
Runs on the importer's thread (reads through its own read-only connection).

Claude Code writes several lines per response (streaming snapshots whose output grows), and
resumed, forked and side-chain sessions replay earlier messages into other files. The rules:

- the same message id + request id is one call; the copy kept is a main-chain one if there is
  one, then the one with the most tokens (later batches: the writer keeps the bigger copy);
- a copy without a request id, or a side-chain copy, is the same call as any copy of its
  message id (``message id`` alone is the fallback key);
- a message first stored without a request id absorbs later copies that have one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from spendtray.importers.parsing import Record
from spendtray.ingest.event import UsageEvent
from spendtray.store.imports import last_request_ids_between, stored_request_ids


def _prefix_hits(conn: sqlite3.Connection, message_ids: Iterable[str]) -> dict[str, str]:
    """message id -> a stored key of that message."""
    mids = list(message_ids)
    keys = last_request_ids_between(conn, [(f"cc:{mid}:", f"cc:{mid};") for mid in mids])
    return {mid: key for mid, key in zip(mids, keys, strict=True) if key is not None}


def _bare_hits(conn: sqlite3.Connection, message_ids: list[str]) -> dict[str, str]:
    """message id -> ``cc:<id>:`` for messages stored earlier without a request id."""
    stored = stored_request_ids(conn, [f"cc:{mid}:" for mid in message_ids])
    return {key[3:-1]: key for key in stored}


def _better(new: Record, old: Record) -> bool:
    if new.sidechain != old.sidechain:
        return not new.sidechain
    return new.event.total_tokens > old.event.total_tokens


def merge_claude(records: list[Record], conn: sqlite3.Connection) -> tuple[list[UsageEvent], int]:
    """One event per call in this batch, keyed to join stored copies; and how many merged."""
    groups: dict[str, list[Record]] = {}
    loose: list[Record] = []
    for record in records:
        if record.message_id is None:
            loose.append(record)
        else:
            groups.setdefault(record.message_id, []).append(record)
    fuzzy = [m for m, g in groups.items() if any(r.sidechain or not r.has_request_id for r in g)]
    fuzzy_set = set(fuzzy)
    stored = _prefix_hits(conn, fuzzy)
    stored.update(_bare_hits(conn, [m for m in groups if m not in fuzzy_set]))
    for mid, group in groups.items():
        known = stored.get(mid)
        bare = f"cc:{mid}:"
        if known == bare:
            for record in group:
                record.event.request_id = bare
            continue
        main = next((r for r in group if r.has_request_id and not r.sidechain), None)
        anchor = next((r for r in group if r.has_request_id), None)
        if known is not None:
            target = known
        elif main is not None:
            target = main.event.request_id or bare
        elif anchor is not None:
            target = anchor.event.request_id or bare
        else:
            target = bare
        for record in group:
            if record.sidechain or not record.has_request_id:
                record.event.request_id = target
    best: dict[str, Record] = {}
    order: list[Record | str] = []
    for record in records:
        key = record.event.request_id
        if key is None:
            order.append(record)
            continue
        kept = best.get(key)
        if kept is None:
            best[key] = record
            order.append(key)
        elif _better(record, kept):
            best[key] = record
    events = [best[item].event if isinstance(item, str) else item.event for item in order]
    return events, len(records) - len(events)
