"""`spendtray budget set|list|remove`: straight to the database, seen by a running server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from budgetkit import App

from spendtray.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    code, out, _ = run(capsys, "budget", "list", "--format", "json")
    assert code == 0
    budgets: list[dict[str, object]] = json.loads(out)["budgets"]
    return budgets


def test_set_list_remove_without_a_server(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "budget", "set", "acme", "--monthly", "50", "--daily", "5", "--warn", "50,80"
    )
    assert code == 0
    assert "acme: $5.00 per day (soft, notify at 50, 80, 100 %)" in out
    assert "acme: $50.00 per month" in out
    run(capsys, "budget", "set", "*", "--weekly", "$200", "--hard")
    budgets = listed(capsys)
    assert [(b["project"], b["period"], b["limit_usd"], b["mode"]) for b in budgets] == [
        ("*", "week", 200, "hard"),
        ("acme", "day", 5, "soft"),
        ("acme", "month", 50, "soft"),
    ]
    assert budgets[1]["thresholds"] == [50, 80, 100]
    code, out, _ = run(capsys, "budget", "list")
    assert code == 0
    assert "* (all)" in out and "acme" in out and "state" in out
    code, out, _ = run(capsys, "budget", "remove", "acme", "--period", "day")
    assert (code, out.strip()) == (0, "removed 1 budget of acme")
    code, out, _ = run(capsys, "budget", "remove", "acme")
    assert (code, out.strip()) == (0, "removed 1 budget of acme")
    code, _, err = run(capsys, "budget", "remove", "acme")
    assert code == 2
    assert err.strip() == "spendtray: no budget for project 'acme'"
    assert [b["project"] for b in listed(capsys)] == ["*"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--monthly", "-5"], "--monthly: must be more than $0"),
        (["--monthly", "0"], "--monthly: must be more than $0"),
        (["--monthly", "nan"], "--monthly: must be a finite amount"),
        (["--daily", "five"], "--daily: 'five' is not an amount in US dollars"),
        (["--monthly", "5", "--warn", "80,50"], "--warn: must be in ascending order"),
        (["--monthly", "5", "--warn", "50,150"], "--warn: 150 % is outside 0 < percent ≤ 100"),
        (["--monthly", "5", "--warn", "a"], "--warn: 'a' is not a number of percent"),
        (["--daily", "5", "--monthly", "-1"], "--monthly: must be more than $0"),
        ([], "give at least one of --daily, --weekly, --monthly"),
    ],
)
def test_bad_input_changes_nothing(
    home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    run(capsys, "budget", "set", "acme", "--monthly", "50")
    before = listed(capsys)
    code, out, err = run(capsys, "budget", "set", "acme", *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("spendtray: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert listed(capsys) == before


def test_remove_bad_period(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "budget", "remove", "acme", "--period", "year")
    assert code == 2
    assert "period: must be one of day, week, month" in err


def test_running_server_sees_cli_changes(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    app.spend(3)
    code, _, _ = run(capsys, "budget", "set", "acme", "--monthly", "5", "--hard")
    assert code == 0
    budgets = app.client.get("/v1/budgets").json()["budgets"]
    assert [(b["project"], b["limit_usd"], b["spent_usd"]) for b in budgets] == [("acme", 5, 3)]
    app.spend(1)  # 80 %: the server evaluates the budget the CLI wrote
    assert ("acme", "month", "threshold", 80.0) in app.sink.kinds("threshold")
    assert app.client.get("/v1/budgets/acme/check?estimate_usd=2").json()["allow"] is False
    run(capsys, "budget", "remove", "acme")
    assert app.client.get("/v1/budgets").json()["budgets"] == []
