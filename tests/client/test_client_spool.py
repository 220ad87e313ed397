"""The app is down: events go to the spool on disk; when it is back they are stored once."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from client_sinks import free_port
from client_upstream import API_KEY, COMPLETION_SECRET, PROMPT_SECRET, Upstream
from clientkit import running_app, spool_files, spooled_events, stored

import spendtray.client as st
from spendtray.client.recorder import Recorder
from spendtray.client.settings import ClientSettings

APP = Path(__file__).resolve().parents[2] / "app"


def make_calls(up: Upstream, n: int) -> None:
    client = st.track(
        openai.OpenAI(base_url=f"{up.url}/v1", api_key=API_KEY, max_retries=0),
        project="offline",
    )
    for _ in range(n):
        answer = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT_SECRET}]
        )
        assert answer.choices[0].message.content == COMPLETION_SECRET


def test_down_then_up_delivers_once(
    home: Path,
    upstream: Upstream,
    reset_client: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    monkeypatch.setenv("SPENDTRAY_PORT", str(port))
    reset_client()
    make_calls(upstream, 3)
    st.record(model="gpt-4o", input_tokens=100, output_tokens=10, project="offline")
    assert st.flush(3) is False  # kept, not delivered

    on_disk = spooled_events(home)
    assert len(on_disk) == 4
    assert len({e["request_id"] for e in on_disk}) == 4
    text = b"".join(p.read_bytes() for p in spool_files(home))
    for secret in (PROMPT_SECRET, COMPLETION_SECRET, API_KEY):
        assert secret.encode() not in text

    with running_app(home, port) as app:
        assert st.flush(5) is True
        events = stored(app, project="offline")
        assert len(events) == 4
        assert spool_files(home) == []
        assert {e["request_id"] for e in events} == {e["request_id"] for e in on_disk}
        # A crash after the POST but before the lines were removed: delivered again, stored once.
        again = home / "spool" / "00000000000000000001-1-redo.ndjson"
        again.write_bytes(b"".join(json.dumps(e).encode() + b"\n" for e in on_disk))
        assert st.flush(5) is True
        assert len(stored(app, project="offline")) == 4
        assert spool_files(home) == []


def _run_client(home: Path, port: int, code: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(APP),
        "SPENDTRAY_HOME": str(home),
        "SPENDTRAY_PORT": str(port),
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_next_client_process_delivers_the_spool(home: Path) -> None:
    port = free_port()
    first = _run_client(
        home,
        port,
        """
        import spendtray.client as st
        for i in range(5):
            st.record(model="claude-sonnet-4-5", project="later",
                      usage={"input_tokens": 10, "output_tokens": 5,
                             "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
        # no flush: the exit hook spools them
        """,
    )
    assert first.returncode == 0, first.stderr
    files = spool_files(home)
    assert files and all(p.suffix == ".ndjson" for p in files)  # sealed at exit
    assert len(spooled_events(home)) == 5

    with running_app(home, port) as app:
        second = _run_client(home, port, "import spendtray.client as st; print(st.flush(10))")
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == "True"
        events = stored(app, project="later")
        assert len(events) == 5
        assert all(e["input_tokens"] == 10 and e["provider"] == "anthropic" for e in events)
        assert spool_files(home) == []


def test_dead_process_files_are_taken_over(home: Path) -> None:
    port = free_port()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    pid = int(dead.stdout)
    folder = home / "spool"
    folder.mkdir(parents=True)
    event: dict[str, Any] = {
        "model": "gpt-4o",
        "input_tokens": 5,
        "output_tokens": 1,
        "project": "orphans",
    }
    (folder / f"00000000000000000005-{pid}-aaaa.part").write_text(
        json.dumps({**event, "request_id": "orphan-part"}) + "\n"
    )
    (folder / f"00000000000000000006-{pid}-bbbb.sending-{pid}").write_text(
        json.dumps({**event, "request_id": "orphan-claim"}) + "\n" + '{"model": "torn'
    )
    with running_app(home, port) as app:
        recorder = Recorder(ClientSettings(home=home, url=app.url, token=app.token))
        assert recorder.flush(5) is True
        events = stored(app, project="orphans")
        assert {e["request_id"] for e in events} == {"orphan-part", "orphan-claim"}
        assert spool_files(home) == []
        recorder.close()


def test_spool_is_bounded(
    home: Path,
    reset_client: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    reset_client(url=f"http://127.0.0.1:{port}", spool_max_bytes=3000)
    with caplog.at_level(logging.WARNING, logger="spendtray.client"):
        for i in range(40):
            st.record(model="gpt-4o", input_tokens=i, output_tokens=1, project="bounded")
        assert st.flush(3) is False
    size = sum(p.stat().st_size for p in spool_files(home))
    assert 0 < size <= 3000
    kept = len(spooled_events(home))
    assert 0 < kept < 40
    assert any(
        "spool folder" in r.getMessage() and "dropped" in r.getMessage() for r in caplog.records
    )
    with running_app(home, port) as app:
        assert st.flush(5) is True
        assert len(stored(app, project="bounded")) == kept


def test_refused_event_is_dropped_not_retried(
    tracked_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="spendtray.client"):
        st.record(model="gpt-4o", input_tokens=-5, project="mixed")
        st.record(model="gpt-4o", input_tokens=50, output_tokens=5, project="mixed")
        assert st.flush(5) is False  # not everything was stored (issue 21)
    events = stored(tracked_app, project="mixed")
    assert [e["input_tokens"] for e in events] == [50]
    assert any("refused a usage event" in r.getMessage() for r in caplog.records)
    assert spool_files(tracked_app.settings.home) == []


def test_record_rejects_unknown_fields_at_once() -> None:
    with pytest.raises(TypeError, match="promt_tokens"):
        st.record(model="gpt-4o", promt_tokens=5)


def test_retries_while_down_keep_one_growing_file(
    home: Path, reset_client: Callable[..., None]
) -> None:
    port = free_port()
    reset_client(url=f"http://127.0.0.1:{port}")
    for i in range(4):
        st.record(model="gpt-4o", input_tokens=i + 1, output_tokens=1, project="retry")
        assert st.flush(2) is False  # each flush tries the app (and the spool) again
    files = spool_files(home)
    assert [p.suffix for p in files] == [".part"]
    assert sorted(e["input_tokens"] for e in spooled_events(home)) == [1, 2, 3, 4]
    with running_app(home, port) as app:
        assert st.flush(5) is True
        assert len(stored(app, project="retry")) == 4
        assert spool_files(home) == []
