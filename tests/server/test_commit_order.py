"""Single events are not held back by large batches (an import's) on the way to the database.

The real server on port 0. The writer thread is held inside a call while two large batches and
then one single event queue up behind it; once it is let go, the single event must be committed
first — its id is lower than every id of the batches that were queued before it — and the two
batches in the order they came. The order is read from the ids the writer hands out in commit
order, not from timings.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from spendtray.core import Core
from spendtray.store.writer import SMALL_JOB_ROWS, CommitInfo

LARGE = SMALL_JOB_ROWS + 50


def _event(project: str) -> dict[str, Any]:
    return {
        "model": "gpt-4o",
        "project": project,
        "input_tokens": 1_000,
        "output_tokens": 100,
        "request_id": uuid.uuid4().hex,
    }


def _wait_for(what: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


@pytest.fixture
def held_writer(core: Core) -> Iterator[threading.Event]:
    """The writer thread inside a call (it holds the write connection) until the event is set."""
    entered, release = threading.Event(), threading.Event()

    def hold(db: object) -> None:
        entered.set()
        release.wait(30)

    holder = threading.Thread(target=core.writer.call, args=(hold,))
    holder.start()
    entered.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join(30)


def _queued(core: Core) -> int:
    return core.writer._queue.qsize()


def test_a_single_post_is_committed_before_large_batches_queued_ahead_of_it(
    core: Core, client: httpx.Client, held_writer: threading.Event
) -> None:
    answers: dict[str, httpx.Response] = {}

    def post(name: str, body: Any) -> threading.Thread:
        def run() -> None:
            answers[name] = client.post("/v1/usage", json=body)

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    threads = []
    for n, name in enumerate(("first batch", "second batch")):
        threads.append(post(name, [_event(f"import-{n}") for _ in range(LARGE)]))
        _wait_for(lambda n=n: _queued(core) == n + 1)  # type: ignore[misc]
    threads.append(post("single", _event("interactive")))
    _wait_for(lambda: _queued(core) == 3)
    held_writer.set()
    for thread in threads:
        thread.join(30)

    assert {name: a.status_code for name, a in answers.items()} == {
        "first batch": 202,
        "second batch": 202,
        "single": 202,
    }
    ids = {name: [e["id"] for e in a.json()["events"]] for name, a in answers.items()}
    assert len(ids["first batch"]) == len(ids["second batch"]) == LARGE
    assert ids["single"][0] < min(ids["first batch"])
    assert max(ids["first batch"]) < min(ids["second batch"])


def test_small_posts_commit_on_the_event_loop_and_large_batches_on_the_writer_thread(
    core: Core, client: httpx.Client
) -> None:
    # With the writer thread idle a single event is committed on the server's own thread (no
    # hand-off to the writer and back); a large batch never is, so it cannot stall the loop.
    threads: dict[int, str] = {}

    def listener(info: CommitInfo) -> None:
        threads[info.stored] = threading.current_thread().name

    core.writer.add_listener(listener)
    assert client.post("/v1/usage", json=_event("one")).status_code == 202
    batch = [_event("many") for _ in range(LARGE)]
    assert client.post("/v1/usage", json=batch).status_code == 202
    assert threads == {1: "spendtray-http", LARGE: "spendtray-writer"}
