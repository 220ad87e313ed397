"""What ``spendtray mcp``'s tools answer: each a few lines an agent can act on plus the data
behind them, from the running app's HTTP API — or, for the read-only ones, from the database
when the app is not running (then the answer says so: calls in flight are not counted).
Runs on the MCP server's worker thread; one ``Answers`` per server.

Nothing here returns the token, a provider key or prompt text: the API's answers carry usage
and attribution only, and the estimate's answer carries counts and costs, never the prompt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from spendtray.clock import utc_now
from spendtray.local_app import AppDown, AppError, LocalApp

T = TypeVar("T")
MAX_ROWS = 50


class ToolProblem(Exception):
    """The tool's arguments cannot be answered; ``str`` says which and why."""


@dataclass
class Answer:
    text: str
    data: dict[str, Any]


def usd(value: Any) -> str:
    from spendtray.money import format_usd

    if value is None:
        return "unpriced"
    return format_usd(round(float(value) * 1_000_000_000))


class Answers:
    def __init__(self, home: Path | None = None, port: int | None = None) -> None:
        self.app = LocalApp.find(home, port, timeout=10.0)
        self.home = home
        self.port = port

    # -- where the answer comes from --------------------------------------------------------

    def _ask(self, ask: Callable[[LocalApp], T], offline: Callable[[str], T] | None) -> T:
        """``ask(app)``; when the app is down, ``offline(why)`` (or a ToolProblem)."""
        try:
            return ask(self.app)
        except AppError as exc:
            raise ToolProblem(str(exc).removeprefix("nothing changed: ")) from None
        except AppDown as exc:
            if offline is None:
                raise ToolProblem(str(exc)) from None
            return offline(str(exc))

    def _settings(self) -> Any:
        from spendtray.config import load_settings

        return load_settings(home=self.home)

    def _reader(self) -> Any:
        """A read-only view of the database (the app is down)."""
        from spendtray.store.reader import Reader

        settings = self._settings()
        if not settings.db_path.exists():
            raise ToolProblem(
                "Spendtray is not running and has no database yet in "
                f"{settings.home}: nothing recorded"
            )
        return Reader(settings.db_path, settings.zone(), settings.week_start_index)

    def _filters(self, reader: Any, args: dict[str, str | None]) -> Any:
        from spendtray.store.reader import DIMENSIONS, Filters
        from spendtray.timeparse import TimeParseError, parse_when

        now = utc_now()

        def when(name: str) -> dt.datetime | None:
            value = args.get(name)
            if not value:
                return None
            try:
                return parse_when(value, now, reader.zone, reader.week_start)
            except TimeParseError as exc:
                raise ToolProblem(f"{name}: {exc}") from None

        dims = {k: args.get(k) for k in DIMENSIONS}
        return Filters(**dims, since=when("since"), until=when("until"))

    # -- the tools ------------------------------------------------------------------------

    def spend_summary(self, group_by: str, limit: int, **filters: str | None) -> Answer:
        params = {"group_by": group_by, **filters}

        def offline(why: str) -> dict[str, Any]:
            from spendtray.store.reader import summary_row_json

            reader = self._reader()
            try:
                summary = reader.summary(group_by, self._filters(reader, params))
            finally:
                reader.close()
            return {
                "group_by": group_by,
                "rows": [summary_row_json(r) for r in summary.rows],
                "total": summary_row_json(summary.total),
                "offline": why,
            }

        data = self._ask(lambda app: app.get("/v1/summary", params), offline)
        rows = data["rows"][:limit]
        total = data["total"]
        scope = ", ".join(f"{k} {v}" for k, v in filters.items() if v) or "all time"
        lines = [
            f"Spend by {group_by} ({scope}): {usd(total['cost_usd'])} in {total['calls']:,} "
            f"calls" + _unpriced(total)
        ]
        lines += [
            f"- {r['key']}: {usd(r['cost_usd'])}, {r['calls']:,} calls, "
            f"{r['input_tokens']:,} in / {r['output_tokens']:,} out" + _unpriced(r)
            for r in rows
        ]
        if len(data["rows"]) > limit:
            lines.append(f"… and {len(data['rows']) - limit} more {group_by} rows")
        lines += _offline_note(data)
        return Answer("\n".join(lines), {**data, "rows": rows})

    def budget_status(self, project: str | None) -> Answer:
        def offline(why: str) -> dict[str, Any]:
            from spendtray.budgets.evaluate import Evaluator
            from spendtray.store import budgets as budget_rows

            reader = self._reader()
            try:
                budgets = budget_rows.load_budgets(
                    reader.conn(), None if project is None else frozenset({project})
                )
                if project is not None:
                    budgets = [b for b in budgets if b.project == project]
                ev = Evaluator(reader, reader.zone, reader.week_start, utc_now)
                rows = [s.to_json(reader.zone) for s in ev.statuses(budgets)]
            finally:
                reader.close()
            return {"budgets": rows, "offline": why}

        data = self._ask(lambda app: app.get("/v1/budgets", {"project": project}), offline)
        budgets = data["budgets"]
        if not budgets:
            which = f"project {project!r}" if project else "any project"
            lines = [f"No budget is set for {which}."]
        else:
            lines = [f"{len(budgets)} budget(s):"]
            for b in budgets:
                scope = "all projects" if b["project"] == "*" else b["project"]
                held = b.get("reserved_usd") or 0
                lines.append(
                    f"- {scope}, {b['period']} ({b['mode']}): {usd(b['spent_usd'])} of "
                    f"{usd(b['limit_usd'])} spent ({b['ratio']:.0%}), state {b['state']}, "
                    f"forecast {usd(b['forecast_usd'])}"
                    + (f", {usd(held)} held by calls in flight" if held else "")
                )
        lines += _offline_note(data)
        return Answer("\n".join(lines), data)

    def budget_check(self, project: str, estimate_usd: float) -> Answer:
        from spendtray.cli.check import exit_code, reason

        if not estimate_usd >= 0:
            raise ToolProblem(f"estimate_usd: {estimate_usd} is not an amount in US dollars ≥ 0")
        estimate = repr(float(estimate_usd))

        def offline(why: str) -> dict[str, Any]:
            from spendtray.budgets.evaluate import Evaluator, decide
            from spendtray.prices.calc import to_nanos
            from spendtray.store import budgets as budget_rows

            reader = self._reader()
            try:
                budgets = budget_rows.load_budgets(reader.conn(), frozenset({project}))
                ev = Evaluator(reader, reader.zone, reader.week_start, utc_now)
                result = decide(ev.statuses(budgets), to_nanos(Decimal(estimate)))
            finally:
                reader.close()
            return {**result.to_json(), "offline": why}

        path = f"/v1/budgets/{quote(project, safe='')}/check"
        data = self._ask(lambda app: app.get(path, {"estimate_usd": estimate}), offline)
        line = reason(project, data, estimate)
        verdict = "may spend" if data.get("allow", True) else "must not spend"
        lines = [f"{project} {verdict} {usd(estimate_usd)} more — {line}"]
        lines += _offline_note(data)
        return Answer("\n".join(lines), {**data, "exit_code": exit_code(data)})

    def estimate_cost(
        self,
        text: str | None,
        messages: list[dict[str, Any]] | None,
        models: list[str] | None,
        output_tokens: int | None,
    ) -> Answer:
        if (text is None) == (messages is None):
            raise ToolProblem("give the prompt as either text or messages (one of them)")
        body: dict[str, Any] = {"text": text} if text is not None else {"messages": messages}
        if models:
            body["models"] = models
        if output_tokens is not None:
            body["output_tokens"] = output_tokens

        def offline(why: str) -> dict[str, Any]:
            from spendtray.estimator.chat import InvalidMessages
            from spendtray.estimator.defaults import DEFAULT_MODELS
            from spendtray.estimator.estimate import EstimateError, estimate
            from spendtray.prices.book import PriceBook

            settings = self._settings()
            book = PriceBook.load(
                user_file=settings.user_prices_path, data_dir=settings.prices_data_dir
            )
            prompt: Any = text if text is not None else messages
            try:
                results = estimate(prompt, models or DEFAULT_MODELS, output_tokens, book=book)
            except (EstimateError, InvalidMessages) as exc:
                raise ToolProblem(str(exc)) from None
            return {"results": [r.to_dict() for r in results], "offline": why}

        data = self._ask(lambda app: app.post("/v1/estimate", body), offline)
        lines = ["Estimated cost per call, cheapest first:"]
        for r in data["results"]:
            if r.get("total_cost_usd") is None:
                lines.append(f"- {r['model']}: no price known")
                continue
            exact = "exact" if r.get("exact") else "approx."
            fits = "" if r.get("fits", True) else " — DOES NOT FIT the context window"
            lines.append(
                f"- {r['model']}: {usd(r['total_cost_usd'])} ({r['input_tokens']:,} input "
                f"tokens, {exact}; {r.get('output_tokens', output_tokens)} output){fits}"
            )
        return Answer("\n".join(lines), data)

    def subscription_limits(self) -> Answer:
        def offline(why: str) -> dict[str, Any]:
            from spendtray.limits.report import limits_report

            reader = self._reader()
            try:
                now_ms = int(utc_now().timestamp() * 1000)
                report = limits_report(reader.conn(), now_ms)
            finally:
                reader.close()
            return {**report, "offline": why}

        data = self._ask(lambda app: app.get("/v1/limits"), offline)
        limits = data.get("limits", [])
        if not limits:
            lines = [
                "No subscription window seen yet (they come from Claude Code's statusline, "
                "Codex's logs and the proxy's rate-limit headers)."
            ]
        else:
            lines = ["Subscription windows:"]
            for w in limits:
                used = w.get("used_percent")
                shown = "use unknown" if used is None else f"{used:.0f} % used"
                stale = " (stale)" if w.get("stale") else ""
                lines.append(
                    f"- {w['provider']} {w['window']}: {shown}, resets {w.get('resets_at')}, "
                    f"{w['source']}{stale}"
                )
        lines += _offline_note(data)
        return Answer("\n".join(lines), data)

    def recent_calls(self, limit: int, **filters: str | None) -> Answer:
        params = {"limit": str(limit), **filters}

        def offline(why: str) -> dict[str, Any]:
            reader = self._reader()
            try:
                events, _ = reader.events(self._filters(reader, params), limit)
            finally:
                reader.close()
            return {"events": events, "offline": why}

        data = self._ask(lambda app: app.get("/v1/usage", params), offline)
        events = [_brief(e) for e in data["events"]]
        if not events:
            lines = [
                "No calls recorded" + (" for these filters." if any(filters.values()) else ".")
            ]
        else:
            lines = [f"The {len(events)} most recent calls, newest first:"]
            lines += [
                f"- {e['timestamp']} {e['project']} {e['model']}: {e['input_tokens']:,} in / "
                f"{e['output_tokens']:,} out, {usd(e['cost_usd'])} ({e['source']}"
                + (f", {e['status']}" if e.get("status") not in (None, "ok") else "")
                + ")"
                for e in events
            ]
        lines += _offline_note(data)
        return Answer("\n".join(lines), {"events": events, **_offline_field(data)})


_BRIEF = (
    "id",
    "timestamp",
    "project",
    "agent",
    "model",
    "provider",
    "source",
    "machine",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_usd",
    "priced",
    "status",
    "latency_ms",
)


def _brief(event: dict[str, Any]) -> dict[str, Any]:
    """The fields an agent needs about a call (no ids of other systems, no tags)."""
    return {k: event.get(k) for k in _BRIEF}


def _unpriced(row: dict[str, Any]) -> str:
    n = row.get("unpriced_calls") or 0
    return f" ({n:,} unpriced)" if n else ""


def _offline_field(data: dict[str, Any]) -> dict[str, Any]:
    return {"offline": data["offline"]} if "offline" in data else {}


def _offline_note(data: dict[str, Any]) -> list[str]:
    if "offline" not in data:
        return []
    return [f"(Read from the database: {data['offline']}; calls in flight are not counted.)"]
