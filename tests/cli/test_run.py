"""`spendtray run -p PROJECT -- CMD`: a real subprocess whose child uses the real openai and
anthropic SDKs with nothing but the environment `run` sets, through a real Spendtray server to
the fake upstream; the calls land under PROJECT and the child's exit status is ours."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from spendtray.config import load_settings
from spendtray.core import Core

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "proxy") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "proxy"))

from fake_llm_upstream import FakeUpstream  # noqa: E402

# The child's SDK finds the proxy only through the environment `run` sets.
CHILD = """
import os, sys, openai, httpx
o = openai.OpenAI(api_key="sk-child", max_retries=0)
o.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
r = httpx.post(os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages", headers={"x-api-key": "k"},
               json={"model": "claude-sonnet-4-6", "max_tokens": 5, "messages": []})
print("child done", r.status_code)
sys.exit(5)
"""


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def spendtray(
    home: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> Callable[..., Ran]:
    """``spendtray ARGS`` in this process (the child command is a real process)."""
    from spendtray.cli.main import main

    for name in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> Ran:
        capfd.readouterr()
        code = main(list(args))
        out, err = capfd.readouterr()
        return Ran(code, out, err)

    return run


@pytest.fixture
def served(home: Path) -> Iterator[tuple[Core, FakeUpstream]]:
    from spendtray.core import Core

    fake = FakeUpstream().start()
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[upstreams]\nopenai = "{fake.url}"\nanthropic = "{fake.url}"\n', encoding="utf-8"
    )
    core = Core(load_settings(home=home, port=0), warm_tokenizers=False)
    core.start_background()
    try:
        yield core, fake
    finally:
        core.stop()
        fake.stop()


@pytest.mark.slow
def test_run_routes_the_childs_sdk_calls_through_the_proxy(
    spendtray: Callable[..., Ran], served: tuple[Core, FakeUpstream]
) -> None:
    core, fake = served
    port = str(core.runner.port if core.runner else 0)
    result = spendtray("run", "--port", port, "-p", "acme", "--", sys.executable, "-c", CHILD)
    assert result.returncode == 5, result.stderr
    assert result.stdout.strip() == "child done 200"
    assert "warning" not in result.stderr
    assert [r.path for r in fake.received] == ["/v1/chat/completions", "/v1/messages"]
    headers = dict(fake.received[0].headers)
    assert headers["authorization"] == "Bearer sk-child"  # the child's own key went upstream
    deadline = time.monotonic() + 5
    with httpx.Client(base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}) as c:
        while True:
            events = c.get("/v1/usage", params={"project": "acme"}).json()["events"]
            if len(events) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    assert sorted((e["provider"], e["source"]) for e in events) == [
        ("anthropic", "proxy"),
        ("openai", "proxy"),
    ]


def test_run_sets_the_base_urls_and_warns_without_a_server(spendtray: Callable[..., Ran]) -> None:
    show = (
        "import os; print(os.environ['OPENAI_BASE_URL']); print(os.environ['ANTHROPIC_BASE_URL'])"
    )
    result = spendtray("--port", "9", "run", "-p", "my proj", sys.executable, "-c", show)
    assert result.returncode == 0
    assert result.stdout.split() == [
        "http://127.0.0.1:9/p/my%20proj/openai/v1",
        "http://127.0.0.1:9/p/my%20proj/anthropic",
    ]
    [line] = result.stderr.splitlines()
    assert "warning: no Spendtray server answers at http://127.0.0.1:9" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "-p", "acme"], "run: no command given"),
        (["run", "-p", "acme", "--"], "run: no command given"),
        (["run", "--", "no-such-command-spendtray-test"], "command not found"),
        (["run", "-p", "*", "--", "true"], "name a real project"),
    ],
)
def test_run_mistakes_are_one_line(
    spendtray: Callable[..., Ran], args: list[str], message: str
) -> None:
    result = spendtray("--port", "9", *args)
    assert result.returncode == 2
    assert message in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_signal_exit_status(spendtray: Callable[..., Ran]) -> None:
    kill = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    result = spendtray("--port", "9", "run", "--", sys.executable, "-c", kill)
    assert result.returncode == 128 + 15


def test_run_refuses_a_server_that_is_not_this_folders_spendtray(
    spendtray: Callable[..., Ran], served: tuple[Core, FakeUpstream], tmp_path: Path
) -> None:
    """Another data folder's Spendtray on the port: the child would send it its API keys."""
    core, _ = served
    port = str(core.runner.port if core.runner else 0)
    marker = tmp_path / "child-ran"
    child = f"open({str(marker)!r}, 'w').write('ran')"
    result = spendtray(
        "--home", str(tmp_path / "other-home"), "run", "--port", port, "-p", "acme", "--",
        sys.executable, "-c", child,
    )  # fmt: skip
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "not the Spendtray of this data folder" in line
    assert not marker.exists()
