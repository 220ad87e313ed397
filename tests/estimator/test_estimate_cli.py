"""`spendtray estimate`: tables and JSON that agree with the engine, what-if on stored history."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from spendtray.cli.main import main
from spendtray.core import Core
from spendtray.estimator.defaults import DEFAULT_MODELS
from spendtray.estimator.estimate import estimate
from spendtray.estimator.whatif import reprice_history
from spendtray.prices.book import PriceBook
from spendtray.store.reader import Filters

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "Explain the difference between optimistic and pessimistic locking, with examples.\n" * 8


@pytest.fixture
def prompt_file(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text(PROMPT, encoding="utf-8")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["estimate", *args, "--format", "json"]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def test_json_agrees_with_the_engine(
    home: Path, prompt_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = run_json(
        capsys,
        str(prompt_file),
        "-m",
        "gpt-4o",
        "-m",
        "claude-sonnet-4-5",
        "--output-tokens",
        "300",
        "--calls",
        "4",
        "--calls-per-day",
        "50",
        "--cached-prefix",
        "100",
        "--batch",
    )
    expected = estimate(
        PROMPT,
        ["gpt-4o", "claude-sonnet-4-5"],
        300,
        book=PriceBook.load(),
        calls=4,
        calls_per_day=50,
        cached_prefix_tokens=100,
        batch=True,
    )
    results = data["results"]
    assert isinstance(results, list)
    assert results == [r.to_dict() for r in expected]


def test_table_labels_approximations_and_uses_default_models(
    home: Path, prompt_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["estimate", str(prompt_file)]) == 0
    out = capsys.readouterr().out
    for model in DEFAULT_MODELS:
        assert model in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.split()}
    # exact OpenAI counts are plain numbers, the others carry ≈ and their method is printed
    assert "≈" not in lines["gpt-5"].split("openai", 1)[1].split("$", 1)[0]
    assert "≈" in lines["claude-sonnet-4-5"]
    assert "claude-sonnet-4-5: ≈ o200k_base × 1.20" in out
    assert "1,000 tokens per call (assumed" in out


def test_chat_json_file_is_priced_as_messages(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}]
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"model": "gpt-4o", "messages": messages}), encoding="utf-8")
    data = run_json(capsys, str(path), "-m", "gpt-4o")
    [row] = data["results"]  # type: ignore[misc]
    assert (
        row["input_tokens"] == estimate(messages, ["gpt-4o"], book=PriceBook.load())[0].input_tokens
    )
    assert "chat framing" in row["method"]


@pytest.mark.slow
def test_stdin_in_a_real_process(home: Path) -> None:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "spendtray",
            "estimate",
            "-",
            "-m",
            "gpt-4o-mini",
            "--format",
            "json",
        ],
        input=PROMPT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["results"]
    assert row["model"] == "gpt-4o-mini" and row["exact"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/prompt.txt"], "no such file"),
        (["PROMPT", "--calls", "0"], "--calls"),
        (["PROMPT", "--output-tokens", "-5"], "--output-tokens"),
        (["PROMPT", "--cached-prefix", "-5"], "--cached-prefix:"),
        (["PROMPT", "--calls-per-day", "-1"], "--calls-per-day:"),
        (["PROMPT", "-m", " "], "--model:"),
        (["PROMPT", "--since", "7d"], "--whatif-project"),
        (["--whatif-project", "acme", "--since", "lately"], "--since"),
        (["EMPTY"], "is empty"),
        (["BADCHAT"], "message list"),
    ],
)
def test_mistakes_are_one_line_exit_2(
    home: Path,
    prompt_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text('[{"role": "user", "content": 5}]', encoding="utf-8")
    names = {"PROMPT": str(prompt_file), "EMPTY": str(empty), "BADCHAT": str(bad)}
    assert main(["estimate", *[names.get(a, a) for a in args]]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spendtray: ") and "\n" not in err
    assert message in err


def test_whatif_project_reprices_history(
    core: Core, client: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    now = dt.datetime.now(dt.UTC)
    events = [
        {
            "model": "gpt-4o",
            "project": "acme",
            "input_tokens": 2_000 + i * 100,
            "output_tokens": 300,
            "timestamp": (now - dt.timedelta(days=i * 4)).isoformat(),
        }
        for i in range(10)
    ]
    assert client.post("/v1/usage", json=events).status_code == 202
    data = run_json(
        capsys,
        "--whatif-project",
        "acme",
        "--since",
        "30d",
        "-m",
        "claude-haiku-4-5",
        "-m",
        "gpt-4o-mini",
    )
    assert "results" not in data
    whatif = data["whatif"]
    assert isinstance(whatif, dict)
    assert whatif["calls"] == 8  # days 0..28
    expected = reprice_history(
        core.reader.conn(),
        Filters(project="acme", since=now - dt.timedelta(days=30)),
        ["claude-haiku-4-5", "gpt-4o-mini"],
        book=core.prices,
    )
    assert whatif["results"] == [r.to_dict() for r in expected.results]
    assert main(["estimate", "--whatif-project", "acme", "-m", "gpt-4o-mini"]) == 0
    out = capsys.readouterr().out
    assert "What-if for project acme" in out and "8 calls" in out and "would have cost" in out
