"""Budget alerts and the notifiers that deliver them. Qt-free; called on the budget worker
thread ("spendtray-budgets").

The GUI registers its own ``Notifier`` (a desktop notification through its Qt bridge) with
``BudgetService.add_notifier``; headless, the log line is the notification. The webhook
notifier posts from its own thread ("spendtray-webhook") so a slow endpoint never holds up
evaluation, let alone ingest.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from spendtray.clock import utc_now

log = logging.getLogger("spendtray.budgets")

KINDS = ("threshold", "forecast", "runaway")


@dataclass(frozen=True)
class Alert:
    """One notification-worthy fact about a budget or a project."""

    project: str  # "*" for the global budget
    period: str  # day | week | month; "10m" for the runaway alarm
    kind: str  # threshold | forecast | runaway
    threshold: float  # percent of the limit (runaway: the factor in percent, 500 = 5x)
    ratio: float  # spent / limit (runaway: recent / usual rate, 0 when there is no usual rate)
    text: str  # ready to show: "acme at 82 % of $50 this month · forecast $61 by Nov 30"
    state: str  # ok | warning | exceeded
    fired_at: dt.datetime = field(default_factory=utc_now)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["fired_at"] = self.fired_at.isoformat().replace("+00:00", "Z")
        return data


class Notifier(Protocol):
    def notify(self, alert: Alert) -> None:
        """Deliver ``alert``; called on the budget worker thread, must not block for long."""


class LogNotifier:
    """The headless notification: one warning line in the log (and on stderr)."""

    def notify(self, alert: Alert) -> None:
        log.warning("budget %s: %s", alert.kind, alert.text)


class WebhookNotifier:
    """POSTs each alert as JSON to ``webhook_url`` from its own daemon thread."""

    def __init__(self, url: str, timeout: float = 10.0, transport: Any = None) -> None:
        self.url = url
        self.timeout = timeout
        self._transport = transport
        self._queue: queue.Queue[Alert | None] = queue.Queue(maxsize=100)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the posting thread (alerts queued before are posted then)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="spendtray-webhook", daemon=True)
            self._thread.start()

    def notify(self, alert: Alert) -> None:
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            log.warning("webhook queue full; alert not posted: %s", alert.text)

    def stop(self) -> None:
        """Post what is queued, then end the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(self.timeout + 1)
            self._thread = None

    close = stop

    def drain(self) -> None:
        """Block until everything queued so far has been posted (tests, shutdown)."""
        self._queue.join()

    def _run(self) -> None:
        import httpx  # here, not at the top: every command that builds a Core imports this

        with httpx.Client(timeout=self.timeout, transport=self._transport) as client:
            while True:
                alert = self._queue.get()
                try:
                    if alert is None:
                        return
                    body = {"type": "spendtray.budget_alert", **alert.to_json()}
                    response = client.post(self.url, json=body)
                    if response.status_code >= 400:
                        log.warning(
                            "webhook %s answered %d to a budget alert",
                            self.url,
                            response.status_code,
                        )
                except Exception as exc:  # a bad URL or a dead endpoint must not end the thread
                    log.warning("webhook %s failed: %s", self.url, exc)
                finally:
                    self._queue.task_done()
