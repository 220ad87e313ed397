"""How long a machine takes to catch up on another machine's events through the sync folder,
and what the sync files cost on disk.

Machine A stores N events of real traffic (bench/traffic.py: unique request ids, 90 days, 20
projects x 5 agents x 6 models, raw provider usage objects) and writes them to its sync files;
machine B, empty, reads them all. In the same run, the baseline: importing a scaled copy of the
real Claude Code logs (unique ids per copy) into an empty data folder with `spendtray import`.
1M Claude Code calls are ~10 GB of logs, so the two are compared per event (events/s), each on
its own size.

    .venv/bin/python bench/sync.py [--events 1000000] [--claude-mb 150]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "bench"))

from traffic import Traffic, scale_claude_logs  # noqa: E402

from spendtray.ingest.service import IngestService  # noqa: E402
from spendtray.prices.book import PriceBook  # noqa: E402
from spendtray.store.reader import Reader  # noqa: E402
from spendtray.store.writer import Writer  # noqa: E402
from spendtray.sync.service import SyncService  # noqa: E402


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def machine(home: Path, name: str, folder: Path) -> tuple[Writer, Reader, SyncService]:
    from zoneinfo import ZoneInfo

    home.mkdir(parents=True, exist_ok=True)
    writer = Writer(home / "spendtray.db", machine=name)
    writer.start()
    reader = Reader(home / "spendtray.db", ZoneInfo("UTC"))
    return writer, reader, SyncService(folder, home, name, reader, writer)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--claude-mb", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spendtray-bench-sync-") as tmp_name:
        tmp = Path(tmp_name)
        folder = tmp / "shared-folder"

        writer, reader, sync_a = machine(tmp / "a", "machine-a", folder)
        service = IngestService(PriceBook.load(), writer, machine="machine-a")
        traffic = Traffic(seed=7)
        started = time.perf_counter()
        left = args.events
        while left > 0:
            n = min(5_000, left)
            service.ingest(traffic.batch(n))
            left -= n
        print(f"machine A stored {args.events:,} events in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        exported = sync_a.exporter.run()
        took = time.perf_counter() - started
        disk = folder_bytes(folder / sync_a.machine_id)
        print(
            f"A wrote its sync files: {exported:,} events in {took:.1f} s; "
            f"{disk / 1e6:.0f} MB on disk = {disk / args.events:.0f} bytes/event = "
            f"{disk / args.events:.0f} MB per million events"
        )
        writer.stop()
        reader.close()

        writer_b, reader_b, sync_b = machine(tmp / "b", "machine-b", folder)
        started = time.perf_counter()
        report = sync_b.follower.run()
        catch_up = time.perf_counter() - started
        stored = reader_b.count()
        writer_b.stop()
        reader_b.close()
        assert stored == args.events, (stored, args.events)
        sync_rate = args.events / catch_up
        print(
            f"B caught up on {report.records:,} events in {catch_up:.1f} s "
            f"({sync_rate:,.0f} events/s); stored {stored:,}"
        )

        logs = tmp / "claude"
        files, size = scale_claude_logs(logs, args.claude_mb * 1_000_000)
        home_c = tmp / "c"
        # A port nothing listens on: the import stores directly instead of through an app.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free_port = probe.getsockname()[1]
        env = {**os.environ, "SPENDTRAY_HOME": str(home_c), "SPENDTRAY_PORT": str(free_port)}
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "spendtray", "import", "claude-code", "--path", str(logs)],
            env=env,
            check=True,
            capture_output=True,
        )
        took = time.perf_counter() - started
        from zoneinfo import ZoneInfo

        reader_c = Reader(home_c / "spendtray.db", ZoneInfo("UTC"))
        calls = reader_c.count()
        reader_c.close()
        import_rate = calls / took
        print(
            f"baseline: spendtray import claude-code of {size / 1e6:.0f} MB ({files} files, "
            f"{calls:,} calls) in {took:.1f} s ({import_rate:,.0f} calls/s)"
        )
        print(
            f"sync catch-up / Claude Code import, events per second: {sync_rate / import_rate:.2f}x"
        )


if __name__ == "__main__":
    main()
