"""The running budget service: evaluates budgets after commits and delivers alerts.

Threads: ``on_commit`` runs on whichever thread committed (the writer thread, or the server's
event loop for its group commits) and only queues the touched projects; the
"spendtray-budgets" worker thread drains that queue (coalescing bursts), evaluates, records
fired alerts through ``Writer.call`` (so the state survives restarts and each alert fires once
per period) and calls the notifiers. The query methods (``statuses``, ``check``,
``worst_state``, ``ingest_status``) run on whichever thread calls them (server thread pool,
GUI thread, CLI); ``put``/``remove`` write through the writer thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from spendtray.budgets.evaluate import BudgetStatus, CheckResult, Evaluator, decide, worst
from spendtray.budgets.model import GLOBAL, STATES, Budget
from spendtray.budgets.notify import Alert, LogNotifier, Notifier
from spendtray.budgets.reservations import Reservation, Reservations
from spendtray.budgets.runaway import RunawayDetector, RunawayRule
from spendtray.budgets.text import forecast_text, runaway_text, threshold_text
from spendtray.config import Settings
from spendtray.store import budgets as budget_rows
from spendtray.store.reader import Reader
from spendtray.store.running import RunningSpend
from spendtray.store.writer import CommitInfo, Writer

log = logging.getLogger("spendtray.budgets")

_STOP = object()
# Seconds the ingest reply may use a budget list read earlier (see _all_budgets_cached).
BUDGETS_TTL = 1.0
StateListener = Callable[[str], None]


def runaway_rule(settings: Settings) -> RunawayRule:
    """The runaway rule of ``settings`` (config.toml ``runaway_*``)."""
    return RunawayRule(
        factor=float(settings.runaway_factor),
        window=dt.timedelta(minutes=settings.runaway_window_minutes),
        min_nanos=round(settings.runaway_min_usd * 1_000_000_000),
    )


# A budget's part of the ingest reply: its project, its object, whether it refuses a call now,
# and its state's rank in ``STATES`` (the worst state of a reply is the highest rank).
_Shown = tuple[str, dict[str, Any], bool, int]
# What a part depends on: the budget (by identity, within one budget list), spend and held.
_ShownKey = tuple[int, int, int]


def _shown(status: BudgetStatus) -> _Shown:
    brief = status.brief_json()
    return (status.budget.project, brief, status.refuses(0), STATES.index(brief["state"]))


def _ms(stamp: dt.datetime) -> int:
    return int(stamp.timestamp() * 1000)


class BudgetService:
    """Budgets of one running app: evaluation, alerts, notifiers, and the queries around them."""

    def __init__(
        self,
        writer: Writer,
        reader: Reader,
        settings: Settings,
        clock: Callable[[], dt.datetime],
        runaway: RunawayRule | None = None,
        min_gap: float = 0.1,
    ) -> None:
        self.writer = writer
        self.reader = reader
        self.settings = settings
        self.clock = clock
        self.zone = reader.zone
        self.reservations = Reservations()
        self.runaway_rule = runaway or RunawayRule()
        # The one running-sum cache: budget periods and the runaway alarm's recent window.
        self.running = RunningSpend(reader, self.runaway_rule.window)
        self.evaluator = Evaluator(
            reader, reader.zone, reader.week_start, clock, self.running, self.reservations
        )
        self.runaway = RunawayDetector(reader, self.runaway_rule, self.running)
        self.log_notifier = LogNotifier()
        self._notifiers: list[Notifier] = []
        self._state_listeners: list[StateListener] = []
        self._paused = False
        # (alert, budget revision) pairs known to be in budget_alerts; worker thread only.
        self._recorded: set[tuple[budget_rows.AlertKey, int]] = set()
        self._queue: queue.Queue[frozenset[str] | object] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._listening = False
        # Seconds the worker rests between evaluations: commits arriving meanwhile are
        # evaluated together, so a flood of ingests costs a bounded share of the CPU (and of
        # the GIL) while the tray still follows within a fraction of a second.
        self.min_gap = min_gap
        self._stopping = threading.Event()
        self._budgets_cache: tuple[float, list[Budget]] | None = None
        # The ingest reply's budget object when no budget applies: it depends on the projects
        # alone, and it is what almost every POST answers.
        self._unbudgeted: dict[frozenset[str], dict[str, Any]] = {}
        # The budgets that apply to a set of projects, for the budget list they were picked
        # from (a new list, after a change or the TTL, starts over), and each one's part of the
        # reply by its figures (``_shown_now``).
        self._applying: tuple[
            list[Budget], dict[frozenset[str], list[Budget]], dict[_ShownKey, _Shown]
        ] = ([], {}, {})

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Listen to the writer's commits and start the evaluation worker."""
        if self._thread is not None:
            return
        if not self._listening:
            self._listening = True
            self.writer.add_listener(self.on_commit)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="spendtray-budgets", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def on_commit(self, info: CommitInfo) -> None:
        """Commit listener (writer thread or event loop): add the new rows to the running
        sums, hand the touched projects to the worker."""
        self.running.feed(info.top, info.inserted)
        if info.duplicates:
            # A duplicate may have rewritten a stored row in place (more tokens, maybe another
            # time): sums kept up to date from new rows cannot see that.
            self.running.invalidate(info.projects)
        if info.projects:
            self.request(info.projects)

    def request(self, projects: frozenset[str]) -> None:
        """Queue an evaluation of ``projects`` (plus the global budgets)."""
        with self._idle:
            self._pending += 1
        self._queue.put(projects)

    def wait_idle(self, timeout: float | None = 30.0) -> bool:
        """Block until every queued evaluation has finished (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until every commit so far has been evaluated (tests, shutdown). A no-op call
        through the writer thread comes after the commit listeners of earlier commits, which
        have then queued their evaluations."""
        if self.writer.running:
            self.writer.call(lambda db: None, timeout)
        return self.wait_idle(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch: set[str] = set()
            taken = 0
            stop = False
            while True:
                if isinstance(item, frozenset):
                    batch |= item
                    taken += 1
                elif item is _STOP:
                    stop = True
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            try:
                self.evaluate(frozenset(batch))
            except Exception:
                log.exception("budget evaluation failed")
            finally:
                with self._idle:
                    self._pending -= taken
                    self._idle.notify_all()
            if stop:
                return
            if self.min_gap > 0 and self._stopping.wait(self.min_gap):
                return

    # -- notifiers and the pause switch ---------------------------------------------------

    def add_notifier(self, notifier: Notifier) -> None:
        """Extra delivery (tray notification, webhook); called on the budget worker thread."""
        self._notifiers.append(notifier)

    @property
    def notifiers(self) -> list[Notifier]:
        return list(self._notifiers)

    def add_state_listener(self, listener: StateListener) -> None:
        """``listener(worst_state)`` after each evaluation (worker thread): the tray colour."""
        self._state_listeners.append(listener)

    @property
    def paused(self) -> bool:
        return self._paused

    def set_paused(self, paused: bool) -> None:
        """The tray's "Pause notifications": alerts are still recorded (and logged), not shown."""
        self._paused = paused

    @property
    def delivering(self) -> bool:
        return self.settings.notifications and not self._paused

    # -- evaluation (worker thread) -------------------------------------------------------

    def evaluate(self, projects: frozenset[str]) -> list[Alert]:
        """Check thresholds, forecasts and runaways for ``projects`` + global; deliver new
        alerts. Returns the alerts that fired now (delivered or, when paused, only logged)."""
        now = self.clock()
        budgets = budget_rows.load_budgets(self.reader.conn(), projects - {GLOBAL})
        keys: list[budget_rows.AlertKey] = []
        revisions: list[int] = []  # the budget row's revision per key (0 for runaway)
        alerts: list[Alert] = []
        groups: list[list[int]] = []  # indexes into keys/alerts; only the top new one is shown
        for status in self.evaluator.statuses(budgets, now):
            b = status.budget
            start = int(status.period_start.timestamp())
            crossed = status.crossed
            # One group per budget: a new threshold alert (whose text carries the forecast)
            # is shown in preference to a forecast alert that becomes due at the same time.
            group: list[int] = []
            if crossed:
                text = threshold_text(status, self.zone)
                for t in crossed:
                    group.append(len(keys))
                    keys.append(budget_rows.AlertKey(b.project, b.period, start, "threshold", t))
                    revisions.append(b.revision)
                    alerts.append(
                        Alert(
                            b.project,
                            b.period,
                            "threshold",
                            t,
                            status.ratio,
                            text,
                            status.state,
                            now,
                        )
                    )
            if status.forecast_over and status.spent_nanos < b.limit_nanos:
                forecast_ratio = (status.forecast_nanos or 0) / b.limit_nanos
                group.append(len(keys))
                keys.append(budget_rows.AlertKey(b.project, b.period, start, "forecast", 100.0))
                revisions.append(b.revision)
                alerts.append(
                    Alert(
                        b.project,
                        b.period,
                        "forecast",
                        100.0,
                        round(forecast_ratio, 4),
                        forecast_text(status, self.zone),
                        status.state,
                        now,
                    )
                )
            if group:
                groups.append(group)
        rule = self.runaway_rule
        hour = int(now.timestamp()) // 3600 * 3600
        for project in sorted(projects - {GLOBAL}):
            finding = self.runaway.check(project, now)
            if finding is None:
                continue
            groups.append([len(keys)])
            # At most one runaway alarm per project per clock hour while the loop goes on.
            keys.append(
                budget_rows.AlertKey(project, "runaway", hour, "runaway", rule.factor * 100)
            )
            revisions.append(0)
            alerts.append(
                Alert(
                    project,
                    f"{round(rule.window.total_seconds() / 60)}m",
                    "runaway",
                    rule.factor * 100,
                    round(finding.times, 2),
                    runaway_text(finding, rule),
                    "warning",
                    now,
                )
            )
        fired: list[Alert] = []
        if keys:
            fresh = self._claim(keys, revisions, [a.text for a in alerts], now)
            for group in groups:
                new = [i for i in group if fresh[i]]
                shown = [i for i in new if alerts[i].kind != "forecast"] or new
                if shown:
                    fired.append(alerts[shown[-1]])
        for alert in fired:
            self._deliver(alert)
        if self._state_listeners:
            state = self.worst_state(now)
            for listener in self._state_listeners:
                try:
                    listener(state)
                except Exception:
                    log.exception("budget state listener failed")
        return fired

    def _claim(
        self,
        keys: list[budget_rows.AlertKey],
        revisions: list[int],
        texts: list[str],
        now: dt.datetime,
    ) -> list[bool]:
        """True for each alert recorded now for the first time. Alerts known to be recorded
        (for the same budget revision) skip the write, so a steady state costs no commits."""
        marks = list(zip(keys, revisions, strict=True))
        todo = [i for i, mark in enumerate(marks) if mark not in self._recorded]
        fresh = [False] * len(keys)
        if not todo:
            return fresh
        if not self.writer.running:
            log.warning("store writer not running; %d budget alert(s) not recorded", len(todo))
            return fresh
        delivered = self.delivering
        todo_keys = [keys[i] for i in todo]
        todo_texts = [texts[i] for i in todo]

        def claim(db: Any) -> list[bool]:
            return budget_rows.claim_alerts(db.conn, todo_keys, todo_texts, _ms(now), delivered)

        result = self.writer.call(claim)
        assert isinstance(result, list)
        if len(self._recorded) > 10_000:
            self._recorded.clear()
        for i, new in zip(todo, result, strict=True):
            fresh[i] = new
            self._recorded.add(marks[i])
        return fresh

    def _deliver(self, alert: Alert) -> None:
        if not self.delivering:
            why = "paused" if self._paused else "off in config"
            log.info("budget %s (notifications %s): %s", alert.kind, why, alert.text)
            return
        self.log_notifier.notify(alert)
        for notifier in list(self._notifiers):
            try:
                notifier.notify(alert)
            except Exception:
                log.exception("budget notifier %r failed", notifier)

    # -- queries (any thread) -------------------------------------------------------------

    def budgets(self, project: str | None = None) -> list[Budget]:
        conn = self.reader.conn()
        if project is None:
            return budget_rows.load_budgets(conn)
        return [
            b for b in budget_rows.load_budgets(conn, frozenset({project})) if b.project == project
        ]

    def statuses(self, project: str | None = None, forecast: bool = True) -> list[BudgetStatus]:
        return self.evaluator.statuses(self.budgets(project), self.clock(), forecast)

    def status(self, project: str, period: str) -> BudgetStatus | None:
        for budget in self.budgets(project):
            if budget.period == period:
                return self.evaluator.status(budget, self.clock())
        return None

    def check(self, project: str, estimate_nanos: int = 0) -> CheckResult:
        """The tightest of the project's and the global budgets decides."""
        budgets = budget_rows.load_budgets(self.reader.conn(), frozenset({project}))
        return decide(self.evaluator.statuses(budgets, self.clock()), estimate_nanos)

    def hard_budget_applies(self, project: str) -> bool:
        """A hard budget of ``project`` or a global one exists (budget list cached, see
        ``_all_budgets_cached``): only then is a call's worst case worth working out."""
        return any(
            b.hard and (b.project == project or b.is_global) for b in self._all_budgets_cached()
        )

    def reserve(self, project: str, nanos: int) -> tuple[CheckResult, Reservation | None]:
        """Hold ``nanos`` for a call of ``project`` unless a hard budget (the project's or the
        global one) would pass its limit with it on top of the spend and of what calls in
        flight hold. The decision and the hold are one step under the reservations' lock."""
        budgets = [
            b
            for b in self._all_budgets_cached()
            if b.hard and (b.project == project or b.is_global)
        ]
        if not budgets:
            return CheckResult(True, None, nanos), None
        with self.reservations.lock:
            result = decide(self.evaluator.statuses(budgets, self.clock(), False), nanos)
            if not result.allow:
                return result, None
            return result, self.reservations.add(project, nanos)

    def worst_state(self, now: dt.datetime | None = None) -> str:
        """ok | warning | exceeded over every budget (the tray icon's colour)."""
        budgets = budget_rows.load_budgets(self.reader.conn())
        return worst(s.state for s in self.evaluator.statuses(budgets, now, forecast=False))

    def _all_budgets_cached(self) -> list[Budget]:
        """Every budget, re-read at most every ``BUDGETS_TTL`` seconds (and at once after a
        change made through this service): the ingest reply asks on every POST, while
        budgets change by hand. A change by another process shows within the TTL."""
        now = time.monotonic()
        cached = self._budgets_cache
        if cached is None or now - cached[0] > BUDGETS_TTL:
            cached = (now, budget_rows.load_budgets(self.reader.conn()))
            self._budgets_cache = cached
        return cached[1]

    def ingest_status(self, projects: frozenset[str], through: int | None = None) -> dict[str, Any]:
        """The ``budget`` object of a ``POST /v1/usage`` reply: spend-based state only (no
        forecast) so it stays a handful of rollup sums. ``through``: the highest id of the
        reply's events; spend counting every event up to it will do (the commit that stored
        them usually handed the running sums their rows, so nothing is read)."""
        every = self._all_budgets_cached()
        source, applying, shown = self._applying
        if source is not every:
            applying, shown = {}, {}
            self._applying = (every, applying, shown)
        budgets = applying.get(projects)
        if budgets is None:
            if len(applying) >= 1024:
                applying.clear()
            budgets = applying[projects] = [
                b for b in every if b.project in projects or b.is_global
            ]
        if budgets:
            return self._reply(projects, self._shown_now(budgets, through, shown))
        # No budget applies on most POSTs: no clock to read, no spend to sum, and the same
        # reply as last time for these projects (callers only serialise it).
        reply = self._unbudgeted.get(projects)
        if reply is None:
            if len(self._unbudgeted) >= 1024:
                self._unbudgeted.clear()
            reply = self._unbudgeted[projects] = self._reply(projects, [])
        return reply

    def _shown_now(
        self, budgets: list[Budget], through: int | None, known: dict[_ShownKey, _Shown]
    ) -> list[_Shown]:
        """Each budget's part of the reply now. A budget's part depends on its spend and on
        what calls in flight hold for it alone, so the part built for the same figures is
        reused (``known``, which lives with the budget list whose objects its keys name):
        the replies to one group commit all show the same global spend, and building a status
        and its object was half of the budget object's cost with 21 budgets."""
        now = self.clock()
        evaluator = self.evaluator
        held = self.reservations.reserved
        out: list[_Shown] = []
        for budget, spent in zip(budgets, evaluator.spent(budgets, now, through), strict=True):
            reserved = held(budget.project)
            key = (id(budget), spent, reserved)
            part = known.get(key)
            if part is None:
                if len(known) >= 4096:
                    known.clear()
                start, end = evaluator.period(budget, now)
                status = BudgetStatus(budget, spent, None, start, end, now, reserved)
                part = known[key] = _shown(status)
            out.append(part)
        return out

    @classmethod
    def _ingest_reply(
        cls, projects: frozenset[str], statuses: list[BudgetStatus]
    ) -> dict[str, Any]:
        """The budget object of a reply from the statuses of the budgets that apply."""
        return cls._reply(projects, [_shown(s) for s in statuses])

    @staticmethod
    def _reply(projects: frozenset[str], shown: list[_Shown]) -> dict[str, Any]:
        # Each budget's object (and its state) built once, shared by the projects it covers.
        shared = [part for part in shown if part[0] == GLOBAL]
        out: dict[str, Any] = {}
        for project in sorted(projects):
            mine = [part for part in shown if part[0] == project] + shared
            out[project] = {
                "state": STATES[max((part[3] for part in mine), default=0)],
                "allow": not any(part[2] for part in mine),
                "budgets": [part[1] for part in mine],
            }
        return {"state": STATES[max((part[3] for part in shown), default=0)], "projects": out}

    # -- changes (through the writer thread) ---------------------------------------------

    def put(self, budget: Budget) -> BudgetStatus:
        """Store (or replace) ``budget``, evaluate it soon, answer its status."""
        now_ms = _ms(self.clock())

        def write(db: Any) -> None:
            budget_rows.put_budget(db.conn, budget, now_ms)

        self.writer.call(write)
        self._budgets_cache = None
        self.request(frozenset({budget.project}))
        return self.evaluator.status(budget, self.clock())

    def remove(self, project: str, period: str | None = None) -> int:
        def write(db: Any) -> int:
            return budget_rows.delete_budgets(db.conn, project, period)

        removed = self.writer.call(write)
        assert isinstance(removed, int)
        self._budgets_cache = None
        # Its alert rows are gone: a budget added again later must be able to fire again.
        self._recorded = {m for m in self._recorded if m[0].project != project}
        if self._state_listeners:
            self.request(frozenset())
        return removed

    def alerts(self, project: str | None = None) -> list[dict[str, object]]:
        """Alerts fired so far, newest first."""
        try:
            return budget_rows.fired_alerts(self.reader.conn(), project)
        except sqlite3.OperationalError:
            return []
