"""Which Claude Code lines are the same API call, across one batch and what is already stored.
Runs on the importer's thread (reads through its own read-only connection); the fold within
one read of a file (``merge_within_read``) runs in the parser, in an import worker or there.

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
from typing import Protocol, TypeVar

from spendtray.store.imports import last_request_ids_between, stored_request_ids


class CallCopy(Protocol):
    """One copy of a call as a merge sees it: a parsed ``Record``, or a ``Priced`` call (its
    row priced in an import worker)."""

    message_id: str | None
    has_request_id: bool
    sidechain: bool
    request_id: str | None

    @property
    def total_tokens(self) -> int: ...


C = TypeVar("C", bound=CallCopy)


class Merge(Protocol):
    """Folds the copies of one call within a batch and against what is stored: the copies
    kept, and how many were merged into them."""

    def __call__(self, copies: list[C], conn: sqlite3.Connection, /) -> tuple[list[C], int]: ...


def _prefix_hits(conn: sqlite3.Connection, message_ids: Iterable[str]) -> dict[str, str]:
    """message id -> a stored key of that message."""
    mids = list(message_ids)
    keys = last_request_ids_between(conn, [(f"cc:{mid}:", f"cc:{mid};") for mid in mids])
    return {mid: key for mid, key in zip(mids, keys, strict=True) if key is not None}


def _bare_hits(conn: sqlite3.Connection, message_ids: list[str]) -> dict[str, str]:
    """message id -> ``cc:<id>:`` for messages stored earlier without a request id."""
    stored = stored_request_ids(conn, [f"cc:{mid}:" for mid in message_ids])
    return {key[3:-1]: key for key in stored}


def _better(new: CallCopy, old: CallCopy) -> bool:
    if new.sidechain != old.sidechain:
        return not new.sidechain
    return new.total_tokens > old.total_tokens


def merge_within_read(records: list[C]) -> tuple[list[C], int]:
    """The copies of one read of a file (one import step: always in one batch) that every
    batch's merge joins, whatever is stored, folded to the one it keeps; and how many folded.

    Copies alike in message id, side chain and whether they carry a request id get one key in
    ``merge_claude``, and of those it keeps the first with the most tokens (side chains
    last). So that copy is kept here, where it was read, and the others are dropped before
    they are priced, sent and merged. Where it was read, not where its kind began: a copy of
    another kind that joins the same key ties with it by order. A message whose copies here
    carry two request ids is left whole: which copy comes first then picks the key its copies
    without one join. Nearly every copy of a real history folds here (streaming snapshots of
    one response, in one file)."""
    request_ids: dict[str, str | None] = {}
    mixed: set[str] = set()
    for record in records:
        mid = record.message_id
        if (
            mid is not None
            and record.has_request_id
            and request_ids.setdefault(mid, record.request_id) != record.request_id
        ):
            mixed.add(mid)
    where: dict[tuple[object, ...], int] = {}
    out: list[C | None] = []
    for record in records:
        mid = record.message_id
        group: tuple[object, ...]
        if mid is None:
            if record.request_id is None:
                out.append(record)
                continue
            group = (record.request_id, record.sidechain)
        elif mid in mixed:
            out.append(record)
            continue
        else:
            group = (mid, record.sidechain, record.has_request_id)
        at = where.get(group)
        if at is None:
            where[group] = len(out)
            out.append(record)
            continue
        held = out[at]
        assert held is not None
        if record.total_tokens > held.total_tokens:
            out[at] = None
            where[group] = len(out)
            out.append(record)
    kept = [record for record in out if record is not None]
    return kept, len(records) - len(kept)


def merge_claude(records: list[C], conn: sqlite3.Connection, /) -> tuple[list[C], int]:
    """One copy per call in this batch, keyed to join stored copies; and how many merged."""
    # Copies by message id, and the messages with a copy that joins by message id alone
    # (a side chain, or no request id): the others only look for a bare key stored earlier,
    # and only a hit changes them. In one pass, with nothing per message beyond its list:
    # a third of the importer thread's CPU in a first import went to this function.
    groups: dict[str, list[C]] = {}
    fuzzy: dict[str, None] = {}
    for record in records:
        mid = record.message_id
        if mid is None:
            continue
        group = groups.get(mid)
        if group is None:
            groups[mid] = [record]
        else:
            group.append(record)
        if record.sidechain or not record.has_request_id:
            fuzzy[mid] = None
    for mid, bare in _bare_hits(conn, [m for m in groups if m not in fuzzy]).items():
        for record in groups[mid]:
            record.request_id = bare
    stored = _prefix_hits(conn, fuzzy)
    for mid in fuzzy:
        group = groups[mid]
        known = stored.get(mid)
        bare = f"cc:{mid}:"
        if known == bare:
            for record in group:
                record.request_id = bare
            continue
        main = next((r for r in group if r.has_request_id and not r.sidechain), None)
        anchor = next((r for r in group if r.has_request_id), None)
        if known is not None:
            target = known
        elif main is not None:
            target = main.request_id or bare
        elif anchor is not None:
            target = anchor.request_id or bare
        else:
            target = bare
        for record in group:
            if record.sidechain or not record.has_request_id:
                record.request_id = target
    best: dict[str, C] = {}
    order: list[C | str] = []
    for record in records:
        key = record.request_id
        if key is None:
            order.append(record)
            continue
        held = best.get(key)
        if held is None:
            best[key] = record
            order.append(key)
        elif _better(record, held):
            best[key] = record
    kept = [best[item] if isinstance(item, str) else item for item in order]
    return kept, len(records) - len(kept)
