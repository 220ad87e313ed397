"""Two senders posting batches with the same request ids at the same time (a retry racing the
original, two collectors of one agent) store each call once, and the copy with more tokens is
the one kept, whichever sender's batch reached the store first. The real server on port 0;
batches larger than the server prepares on its event loop. (Repeats within one transaction:
tests/store/test_writer_duplicates.py.)"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx

from spendtray.core import Core
from spendtray.server.usage_endpoint import INLINE_EVENTS

CHUNK = INLINE_EVENTS + 50


def _event(request_id: str, output_tokens: int) -> dict[str, Any]:
    return {
        "model": "gpt-4o",
        "project": "acme",
        "timestamp": "2026-11-20T10:00:00Z",
        "input_tokens": 1_000,
        "output_tokens": output_tokens,
        "request_id": request_id,
    }


def test_two_senders_posting_the_same_ids_at_once_keep_one_bigger_copy_each(
    core: Core, client: httpx.Client
) -> None:
    ids = [uuid.uuid4().hex for _ in range(5 * CHUNK)]
    start = threading.Barrier(2)
    # request id -> (stored id, duplicate?) as each sender was answered
    answers: dict[int, dict[str, tuple[int, bool]]] = {10: {}, 500: {}}
    counts: dict[int, list[tuple[int, int]]] = {10: [], 500: []}  # (accepted, duplicates)
    errors: list[BaseException] = []

    def send(output_tokens: int) -> None:
        try:
            with httpx.Client(
                base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}, timeout=30
            ) as c:
                starts = range(0, len(ids), CHUNK)
                # One sender goes forwards, the other backwards: the smaller copy is stored
                # first for some ids and the bigger one for others.
                start.wait()
                for at in starts if output_tokens == 10 else reversed(starts):
                    chunk = ids[at : at + CHUNK]
                    r = c.post("/v1/usage", json=[_event(rid, output_tokens) for rid in chunk])
                    assert r.status_code == 202, r.text
                    reply = r.json()
                    counts[output_tokens].append((reply["accepted"], reply["duplicates"]))
                    for rid, e in zip(chunk, reply["events"], strict=True):
                        answers[output_tokens][rid] = (e["id"], e.get("duplicate", False))
        except BaseException as exc:  # reported below
            errors.append(exc)

    senders = [threading.Thread(target=send, args=(n,)) for n in answers]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    assert not errors

    # Each id answered to both senders with the same stored id, once new and once a duplicate.
    for rid in ids:
        (small_id, small_dup), (big_id, big_dup) = answers[10][rid], answers[500][rid]
        assert small_id == big_id and small_dup != big_dup
    assert len({stored for stored, _ in answers[10].values()}) == len(ids)
    accepted = sum(a for n in counts for a, _ in counts[n])
    duplicates = sum(d for n in counts for _, d in counts[n])
    assert (accepted, duplicates) == (len(ids), len(ids))

    total = client.get("/v1/summary").json()["total"]
    assert total["calls"] == len(ids)
    assert total["output_tokens"] == 500 * len(ids)
    core.writer.call(lambda db: None)  # one writer turn: whatever is unfolded is folded now
    total = client.get("/v1/summary").json()["total"]
    assert (total["calls"], total["output_tokens"]) == (len(ids), 500 * len(ids))
