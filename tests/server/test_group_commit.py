"""Group commit on the event loop (``server/commit_batcher``): requests that reach the batcher
in one turn of the loop or in the next are committed in one transaction. The real writer on a
real SQLite file; the number of transactions is what the writer reports after each COMMIT."""

from __future__ import annotations

import asyncio
import uuid

from spendtray.core import Core
from spendtray.server.commit_batcher import CommitBatcher
from spendtray.store.writer import CommitInfo, WriteOutcome


def _event() -> dict[str, object]:
    return {
        "model": "gpt-4o",
        "project": "p",
        "input_tokens": 1_000,
        "output_tokens": 100,
        "request_id": uuid.uuid4().hex,
    }


def test_requests_of_the_next_loop_turn_join_the_same_commit(core: Core) -> None:
    commits: list[CommitInfo] = []
    core.writer.add_listener(commits.append)
    batcher = CommitBatcher(core.writer)
    first_rows, second_rows = (core.ingest.prepare([_event()]) for _ in range(2))

    async def two_requests() -> list[list[WriteOutcome]]:
        loop = asyncio.get_running_loop()
        second: asyncio.Future[asyncio.Future[list[WriteOutcome]]] = loop.create_future()
        first = batcher.commit(first_rows)
        # The second request reaches the batcher in the loop's next turn.
        loop.call_soon(lambda: second.set_result(batcher.commit(second_rows)))
        return [await first, await (await second)]

    one, two = asyncio.run(two_requests())
    assert [c.stored for c in commits] == [2]
    assert two[0].id == one[0].id + 1
    assert not one[0].duplicate and not two[0].duplicate


def test_a_lone_request_is_committed_and_answered(core: Core) -> None:
    batcher = CommitBatcher(core.writer)
    rows = core.ingest.prepare([_event()])

    async def one_request() -> list[WriteOutcome]:
        return await asyncio.wait_for(batcher.commit(rows), 10)

    outcome = asyncio.run(one_request())
    assert len(outcome) == 1 and not outcome[0].duplicate


def test_a_failing_answer_leaves_the_others_of_its_commit_answered(core: Core) -> None:
    """``commit_then`` (the direct path's): each request's callback runs right after the
    COMMIT, in order; one that raises is logged and the next ones still run."""
    commits: list[CommitInfo] = []
    core.writer.add_listener(commits.append)
    batcher = CommitBatcher(core.writer)
    batches = [core.ingest.prepare([_event()]) for _ in range(3)]
    answered: list[tuple[int, list[WriteOutcome] | None]] = []

    def done(index: int) -> object:
        def call(outcomes: list[WriteOutcome] | None, error: BaseException | None) -> None:
            assert error is None
            answered.append((index, outcomes))
            if index == 0:
                raise RuntimeError("this request's answer failed")

        return call

    async def three_requests() -> None:
        for index, rows in enumerate(batches):
            batcher.commit_then(rows, done(index))  # type: ignore[arg-type]
        # Committed on the loop when the writer thread is idle, else on that thread (whose
        # start-up work can still be running): wait for the answers, not a number of turns.
        deadline = asyncio.get_running_loop().time() + 10
        while len(answered) < 3 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.001)

    asyncio.run(three_requests())
    assert [c.stored for c in commits] == [3]
    assert [index for index, _ in answered] == [0, 1, 2]
    ids = [outcomes[0].id for _, outcomes in answered if outcomes]
    assert ids == sorted(ids) and len(set(ids)) == 3
