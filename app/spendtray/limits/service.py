"""The limits of one running app: records readings, answers ``/v1/limits``, fires window alerts.
Qt-free.

``record`` runs on whichever thread received the readings (a server pool thread, the importer's
thread); the write goes through the writer thread. Threshold alerts (default 70 % and 90 %,
config ``limit_thresholds``) fire once per window instance and threshold, persisted in
``limit_alerts`` like budget alerts, and go to the log and to every added notifier (the tray's
desktop notification) — or are only logged while notifications are paused or off. Alerts are
evaluated only between ``start`` and ``stop`` (the running app), never by a CLI command's core.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from spendtray.clock import utc_now
from spendtray.limits.blocks import Block
from spendtray.limits.model import (
    Observation,
    duration,
    pace,
    pace_text,
    urgency,
    window_label,
)
from spendtray.limits.report import active_estimate, estimated_blocks, limits_report
from spendtray.store import limits as store

if TYPE_CHECKING:  # annotations only: `spendtray limits` imports neither the writer nor the reader
    from spendtray.config import Settings
    from spendtray.store.reader import Reader
    from spendtray.store.writer import Writer

log = logging.getLogger("spendtray.limits")

MIN_ALERT_WINDOW_MINUTES = 60


@dataclass(frozen=True)
class LimitAlert:
    """A window crossed a threshold. ``text`` and ``state`` as the tray shows them."""

    provider: str
    account: str
    window: str
    threshold: float
    used_percent: float
    text: str
    state: str  # warning | exceeded
    kind: str = "limit"
    label: str = ""  # "5h", "7d" (model.window_label)
    fired_at: dt.datetime = field(default_factory=utc_now)

    @property
    def title(self) -> str:
        """The notification's title: ``Spendtray — Claude 5h window full``."""
        name = f"{provider_name(self.provider)} {self.label}"
        return f"Spendtray — {name} window " + ("full" if self.state == "exceeded" else "filling")


class LimitNotifier(Protocol):
    def notify(self, alert: Any) -> None:
        """Deliver ``alert``; must not block for long."""


def provider_name(provider: str) -> str:
    return {"anthropic": "Claude", "openai": "Codex"}.get(provider, provider)


def alert_text(obs: Observation, threshold: float, now_ms: int) -> str:
    """``Claude 5h window at 72 % (70 % alert) · resets in 1 h 20 m · at this rate …``"""
    p = pace(obs, now_ms)
    text = (
        f"{provider_name(obs.provider)} {window_label(obs)} window at {obs.used_percent:.0f} % "
        f"({threshold:g} % alert)"
    )
    if p.resets_in_seconds:
        text += f" · resets in {duration(p.resets_in_seconds)}"
    if p.state == "ahead":
        text += f" · {pace_text(p)}"
    return text


class LimitsService:
    def __init__(
        self,
        writer: Writer,
        reader: Reader,
        settings: Settings,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.writer = writer
        self.reader = reader
        self.settings = settings
        self.clock = clock
        self._notifiers: list[LimitNotifier] = []
        self._listeners: list[Callable[[list[Observation]], None]] = []
        self._paused = False
        self._running = False  # alerts only while the app runs (Core.start)

    # -- lifecycle (no thread of its own: start/stop switch window alerts on and off) --------

    def start(self) -> None:
        """The app runs: readings may notify. A CLI's store-only core never starts this, so an
        import from the command line records readings without claiming their alerts."""
        self._running = True

    def stop(self) -> None:
        self._running = False

    def _now_ms(self) -> int:
        return int(self.clock().timestamp() * 1000)

    # -- notifiers --------------------------------------------------------------------------

    def add_notifier(self, notifier: LimitNotifier) -> None:
        self._notifiers.append(notifier)

    def add_listener(self, listener: Callable[[list[Observation]], None]) -> None:
        """Called with the newest reading of every window after each recording, on the
        recording thread (the GUI relays it through a signal)."""
        self._listeners.append(listener)

    def set_paused(self, paused: bool) -> None:
        self._paused = paused

    @property
    def delivering(self) -> bool:
        return self.settings.notifications and not self._paused

    # -- writes -----------------------------------------------------------------------------

    def record(self, observations: Sequence[Observation]) -> int:
        """Store readings (idempotent) and fire the thresholds they cross; returns new rows."""
        if not observations:
            return 0
        observations = list(observations)

        def write(db: Any) -> int:
            return store.record_observations(db.conn, observations)

        added = self.writer.call(write)
        assert isinstance(added, int)
        self._alerts(observations)
        if self._listeners:
            latest = self.observations()
            for listener in list(self._listeners):
                try:
                    listener(latest)
                except Exception:
                    log.exception("limits listener %r failed", listener)
        return added

    def headers_seen(self, provider: str, headers: Any) -> None:
        """The proxy got an upstream response (server's event loop): its rate-limit headers are
        read here and recorded on a pool thread, so the response is never held up."""
        import asyncio

        from spendtray.limits.rate_limit_headers import observations_from_headers

        names = [k for k in headers if "ratelimit" in k or k.startswith("x-codex-")]
        if not names:
            return
        found = observations_from_headers(names, headers.get, provider, self._now_ms())
        if found:
            asyncio.get_running_loop().run_in_executor(None, self._record_quietly, found)

    def _record_quietly(self, observations: list[Observation]) -> None:
        try:
            self.record(observations)
        except Exception:  # a pool thread: nobody would see it otherwise
            log.exception("recording rate-limit headers failed")

    def record_session(
        self, agent: str, session: str, project: str, model: str | None, cost_nanos: int
    ) -> None:
        now_ms = self._now_ms()

        def write(db: Any) -> None:
            store.put_agent_session(db.conn, agent, session, project, model, cost_nanos, now_ms)

        self.writer.call(write)

    def _alerts(self, observations: list[Observation]) -> list[LimitAlert]:
        if not self._running:
            return []
        now_ms = self._now_ms()
        newest: dict[tuple[str, str, str], Observation] = {}
        for obs in observations:
            if obs.source != "official" or obs.stale(now_ms):
                continue  # an old log line is history, not news
            if not obs.window_minutes or obs.window_minutes < MIN_ALERT_WINDOW_MINUTES:
                continue  # an API key's refilling bucket: near-full every busy minute
            if pace(obs, now_ms).state == "reset":
                continue
            seen = newest.get(obs.key)
            if seen is None or obs.observed_at >= seen.observed_at:
                newest[obs.key] = obs
        due: list[tuple[Observation, float]] = []
        for obs in newest.values():
            crossed = [t for t in self.settings.limit_thresholds if obs.used_percent >= t]
            if crossed:
                due.append((obs, max(crossed)))
        if not due:
            return []
        delivering = self.delivering
        texts = [alert_text(obs, threshold, now_ms) for obs, threshold in due]

        def claim(db: Any) -> list[bool]:
            # Every crossed threshold is claimed, so 90 % after 70 % fires once, and a first
            # reading at 95 % fires only the 90 % alert, not 70 % too.
            fresh: list[bool] = []
            for (obs, top), text in zip(due, texts, strict=True):
                won = False
                for t in self.settings.limit_thresholds:
                    if obs.used_percent >= t:
                        claimed = store.claim_limit_alert(db.conn, obs, t, text, now_ms, delivering)
                        won = won or (claimed and t == top)
                fresh.append(won)
            return fresh

        fresh: list[bool] = self.writer.call(claim)  # type: ignore[assignment]
        fired: list[LimitAlert] = []
        for (obs, threshold), text, is_new in zip(due, texts, fresh, strict=True):
            if not is_new:
                continue
            alert = LimitAlert(
                provider=obs.provider,
                account=obs.account,
                window=obs.window,
                threshold=threshold,
                used_percent=obs.used_percent,
                text=text,
                state="exceeded" if obs.used_percent >= 100 else "warning",
                label=window_label(obs),
            )
            fired.append(alert)
            self._deliver(alert)
        return fired

    def _deliver(self, alert: LimitAlert) -> None:
        if not self.delivering:
            why = "paused" if self._paused else "off in config"
            log.info("limit alert (notifications %s): %s", why, alert.text)
            return
        log.warning("limit alert: %s", alert.text)
        for notifier in list(self._notifiers):
            try:
                notifier.notify(alert)
            except Exception:
                log.exception("limit notifier %r failed", notifier)

    # -- reads ------------------------------------------------------------------------------

    def observations(self) -> list[Observation]:
        """The newest official reading of every window."""
        return store.latest_observations(self.reader.conn())

    def estimate(self, now_ms: int | None = None) -> Block | None:
        """The active 5-hour block of the Claude Code logs, if any."""
        now_ms = self._now_ms() if now_ms is None else now_ms
        return active_estimate(self.reader.conn(), now_ms)

    def blocks(self, since_ms: int, until_ms: int | None = None) -> list[Block]:
        return estimated_blocks(self.reader.conn(), since_ms, until_ms, self._now_ms())

    def limits_json(self) -> dict[str, Any]:
        """``GET /v1/limits``."""
        return limits_report(self.reader.conn(), self._now_ms())

    def alerts(self) -> list[dict[str, object]]:
        return store.fired_limit_alerts(self.reader.conn())

    def most_urgent(self) -> Observation | None:
        now_ms = self._now_ms()
        found = [o for o in self.observations() if urgency(o, now_ms) >= 0]
        return max(found, key=lambda o: urgency(o, now_ms)) if found else None
