"""Three Spendtray homes ("machines") in one process tree sharing spend through sync folders.

Each machine has its own view of the sync folder, as each computer has its own copy; the test
plays the file-sync tool, copying each machine's folder into the others' views — whole, cut
mid-record, as a conflict copy. Every machine must end with exactly the union of all events
(calls, tokens and cost per machine and in total): none lost, none counted twice.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from sharedkit import UNIT_PRICES
from spendtray.budgets.model import Budget
from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.store.reader import Filters
from spendtray.sync.layout import events_files

UTC = dt.UTC


@dataclass
class Machine:
    name: str
    home: Path
    view: Path  # this machine's copy of the sync folder
    core: Core

    @property
    def id(self) -> str:
        assert self.core.sync is not None
        return self.core.sync.machine_id

    def sync(self) -> None:
        assert self.core.sync is not None
        self.core.sync.run_once()

    def totals(self) -> dict[str, tuple[int, int, int]]:
        """Per machine name: calls, input + output tokens, cost in nano-dollars."""
        summary = self.core.reader.summary("machine", Filters())
        return {
            r.key: (r.calls, r.input_tokens + r.output_tokens, r.cost_nanos) for r in summary.rows
        }


def _settings(home: Path, view: Path, name: str, **extra: Any) -> Any:
    home.mkdir(parents=True, exist_ok=True)
    (home / "prices.toml").write_text(UNIT_PRICES, encoding="utf-8")
    base = load_settings(home=home, port=0)
    return replace(base, machine=name, sync_folder=str(view), timezone="UTC", **extra)


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[Any]:
    made: list[Machine] = []

    def make(name: str, clock: Any = None) -> Machine:
        home, view = tmp_path / f"home-{name}", tmp_path / f"view-{name}"
        view.mkdir(parents=True, exist_ok=True)
        kwargs = {"clock": clock} if clock is not None else {}
        core = Core(_settings(home, view, name), **kwargs)
        core.start()
        machine = Machine(name, home, view, core)
        made.append(machine)
        return machine

    yield make
    for machine in made:
        machine.core.stop()


def deliver(
    src: Machine, dst: Machine, cut: int | None = None, suffix: str = "", prices: bool = True
) -> None:
    """The sync tool: ``src``'s own folder into ``dst``'s view (``cut``: only that many bytes
    of the last file; ``suffix``: as a conflict copy next to the file of that number;
    ``prices``: False leaves its prices file behind, as a tool may send files in any order)."""
    target = dst.view / src.id
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src.view / src.id / "machine.json", target / "machine.json")
    if prices and (src.view / src.id / "prices.jsonl").exists():
        shutil.copy2(src.view / src.id / "prices.jsonl", target / "prices.jsonl")
    files = events_files(src.view, src.id)
    for n, events_file in enumerate(files):
        data = events_file.path.read_bytes()
        if cut is not None and n == len(files) - 1:
            data = data[:cut]
        name = events_file.path.name
        if suffix:
            name = name.replace(".jsonl", f"{suffix}.jsonl")
        (target / name).write_bytes(data)


def deliver_all(machines: list[Machine]) -> None:
    for src in machines:
        for dst in machines:
            if src is not dst:
                deliver(src, dst)


def spend(machine: Machine, n: int, offset: int, with_ids: bool = True) -> None:
    events = [
        {
            "model": "unit-model",
            "provider": "testco",
            "project": f"p{i % 4}",
            "input_tokens": 1_000 + i + offset,
            "output_tokens": 10 + i,
            **({"request_id": f"{machine.name}-{i}"} if with_ids and i % 2 else {}),
        }
        for i in range(n)
    ]
    machine.core.ingest.ingest(events)


def union(ms: list[Machine]) -> dict[str, tuple[int, int, int]]:
    """What every machine must show: each machine's own events, by its own count."""
    out: dict[str, tuple[int, int, int]] = {}
    for m in ms:
        own = m.totals()[m.name]
        out[m.name] = own
    return out


def test_three_machines_each_end_with_the_union(machines: Any) -> None:
    a, b, c = machines("alpha"), machines("beta"), machines("gamma")
    threads = [
        threading.Thread(target=spend, args=(m, 300 + 50 * k, 10_000 * k))
        for k, m in enumerate((a, b, c))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    want = union([a, b, c])
    for _ in range(2):  # a pass exports, the tool copies, the next pass reads
        for m in (a, b, c):
            m.sync()
        deliver_all([a, b, c])
    for m in (a, b, c):
        m.sync()
        assert m.totals() == want, m.name
    # Reading again stores nothing twice; own records never come back.
    deliver_all([a, b, c])
    for m in (a, b, c):
        m.sync()
        assert m.totals() == want, m.name
        assert m.core.reader.count() == sum(v[0] for v in want.values())


def test_a_tail_cut_mid_record_is_read_once_complete(machines: Any) -> None:
    a, b = machines("alpha"), machines("beta")
    spend(a, 200, 0)
    a.sync()
    full = (a.view / a.id / "events-000001.jsonl").read_bytes()
    for cut in (len(full) // 3, len(full) // 3 + 7, len(full) - 1):
        deliver(a, b, cut=cut)
        b.sync()
        got = b.totals().get("alpha", (0, 0, 0))[0]
        assert got == full[:cut].count(b"\n")  # only the complete lines
    deliver(a, b)
    b.sync()
    assert b.totals()["alpha"] == a.totals()["alpha"]


def test_events_wait_for_their_price_lines(machines: Any) -> None:
    a, b = machines("alpha"), machines("beta")
    spend(a, 30, 0)
    a.sync()
    deliver(a, b, prices=False)
    b.sync()
    assert "alpha" not in b.totals()
    deliver(a, b)
    b.sync()
    assert b.totals()["alpha"] == a.totals()["alpha"]


def test_a_torn_line_with_good_lines_after_it_is_skipped_and_counted(machines: Any) -> None:
    a, b = machines("alpha"), machines("beta")
    spend(a, 50, 0, with_ids=False)
    a.sync()
    path = a.view / a.id / "events-000001.jsonl"
    lines = path.read_bytes().split(b"\n")
    lines[10] = lines[10][:20] + b"\x00" * 10  # the tool kept a torn copy of one line
    deliver(a, b)
    (b.view / a.id / "events-000001.jsonl").write_bytes(b"\n".join(lines))
    b.sync()
    assert b.totals()["alpha"][0] == 49
    assert b.core.sync is not None
    from spendtray.store.sync_state import bad_lines

    assert bad_lines(b.core.reader.conn()) == 1


def test_a_conflict_copy_is_not_counted_twice(machines: Any) -> None:
    a, b = machines("alpha"), machines("beta")
    spend(a, 120, 0, with_ids=False)  # no request ids: only the sync key can tell them apart
    a.sync()
    deliver(a, b)
    deliver(a, b, cut=5_000, suffix=".sync-conflict-20261206-101010-ABCDEFG")
    deliver(a, b, suffix=" (conflicted copy 2026-12-06)")
    deliver(a, b, suffix=" (1)")
    b.sync()
    assert b.totals()["alpha"] == a.totals()["alpha"]


def test_a_clock_an_hour_ahead_loses_and_reorders_nothing(machines: Any) -> None:
    a = machines("alpha")
    b = machines("beta", clock=lambda: dt.datetime.now(UTC) + dt.timedelta(hours=1))
    spend(a, 100, 0)
    spend(b, 100, 5_000)
    for _ in range(2):
        a.sync()
        b.sync()
        deliver_all([a, b])
    a.sync()
    b.sync()
    assert a.totals() == b.totals()
    assert a.totals()["beta"][0] == 100
    newest = a.core.reader.events(Filters(machine="beta"), limit=1)
    assert newest  # dated by beta's clock, an hour ahead, and kept


def test_a_renamed_machine_keeps_its_history(machines: Any, tmp_path: Path) -> None:
    a, b = machines("alpha"), machines("beta")
    spend(a, 40, 0)
    a.sync()
    deliver(a, b)
    b.sync()
    old_id = a.id
    a.core.stop()
    renamed = Core(_settings(a.home, a.view, "alpha-2"))
    renamed.start()
    try:
        assert renamed.sync is not None and renamed.sync.machine_id == old_id
        renamed.ingest.ingest([{"model": "unit-model", "provider": "testco", "input_tokens": 7}])
        renamed.sync.run_once()
        a.core = renamed
        deliver(a, b)
        b.sync()
        names = b.totals()
        assert names["alpha"][0] == 40 and names["alpha-2"][0] == 1
        listed = {m["machine_id"]: m["name"] for m in _machines(b)}
        assert listed[old_id] == "alpha-2"
    finally:
        renamed.stop()
        a.core = Core(_settings(a.home, a.view, "alpha-2"))  # the fixture stops it


def _machines(m: Machine) -> list[dict[str, Any]]:
    from spendtray.store.sync_state import machines as listed

    return listed(m.core.reader.conn())


def test_a_budget_crossed_only_by_two_machines_alerts_on_both(machines: Any) -> None:
    a, b = machines("alpha"), machines("beta")
    sinks = []
    for m in (a, b):
        sink: list[Any] = []
        m.core.budgets.add_notifier(
            type("Sink", (), {"notify": lambda self, al, s=sink: s.append(al)})()
        )
        m.core.budgets.put(Budget("*", "month", 10 * 10**9, thresholds=(100.0,)))
        sinks.append(sink)
    # $6 on each machine: neither crosses $10 alone.
    for m in (a, b):
        m.core.ingest.ingest(
            [{"model": "unit-model", "provider": "testco", "input_tokens": 6_000_000}]
        )
        assert m.core.budgets.flush()
    assert [[al for al in sink if al.kind == "threshold"] for sink in sinks] == [[], []]
    for _ in range(2):
        a.sync()
        b.sync()
        deliver_all([a, b])
    a.sync()
    b.sync()
    for m, sink in zip((a, b), sinks, strict=True):
        assert m.core.budgets.flush()
        crossed = [(al.project, al.threshold) for al in sink if al.kind == "threshold"]
        assert crossed == [("*", 100.0)], m.name


def test_kill_9_mid_append_loses_and_doubles_nothing(tmp_path: Path, machines: Any) -> None:
    """A real ``spendtray serve`` with a sync folder, killed while it exports; restarted, every
    acknowledged event reaches the other machine exactly once."""
    import httpx

    home, view = tmp_path / "home-killed", tmp_path / "view-killed"
    view.mkdir(parents=True)
    home.mkdir(parents=True)
    (home / "prices.toml").write_text(UNIT_PRICES, encoding="utf-8")
    (home / "config.toml").write_text(
        f'machine = "killed"\nsync_folder = "{view.as_posix()}"\nport = 0\n', encoding="utf-8"
    )

    def serve() -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "spendtray", "--home", str(home), "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        deadline = time.time() + 30
        while time.time() < deadline:
            line = proc.stdout.readline()
            if "http://127.0.0.1:" in line:
                url = line[line.index("http://127.0.0.1:") :].split()[0].rstrip(".,")
                return proc, url
        proc.kill()
        raise AssertionError("serve did not start")

    token = None
    acked = 0
    proc, url = serve()
    try:
        token = (home / "token").read_text().strip()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
            for k in range(40):
                batch = [
                    {"model": "unit-model", "provider": "testco", "input_tokens": 100 + i}
                    for i in range(k * 50, k * 50 + 50)
                ]
                r = c.post("/v1/usage", json=batch)
                assert r.status_code == 202
                acked += 50
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # Half a record at the end of its file, as a write cut by the kill leaves it.
    own = [p for p in view.iterdir() if p.is_dir()]
    assert own, "the killed server had not written its machine folder"
    with open(own[0] / "events-000001.jsonl", "ab") as handle:
        handle.write(b'0badc0de {"o":"x","i":99999')
    proc, url = serve()
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            lines = (own[0] / "events-000001.jsonl").read_bytes()
            if lines.endswith(b"\n") and lines.count(b"\n") >= acked:
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    b = machines("beta")
    target = b.view / own[0].name
    shutil.copytree(own[0], target)
    b.sync()
    assert b.totals()["killed"][0] == acked
