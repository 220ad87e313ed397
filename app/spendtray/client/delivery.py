"""POSTing batches of events to the app's ``/v1/usage``. The sender thread only.

``send`` returns the events that must be kept and tried again later (the app is down, busy,
answering 5xx, refusing the token, or something that is not Spendtray answers on the port);
the others are settled: stored, or refused by the app as invalid, which is logged as a
warning. A 2xx counts only when its body is Spendtray's reply: anything else listening on
the port does not make events vanish.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from spendtray.client.settings import ClientSettings
from spendtray.identity import NotSpendtray, Unreachable, forget, verify

log = logging.getLogger("spendtray.client")
MAX_BATCH = 1000
# The reply to a 1,000-event batch is ~100 KB of per-event results.
MAX_REPLY_BYTES = 4 * 1024 * 1024


class Delivery:
    def __init__(self, settings: ClientSettings) -> None:
        self._settings = settings
        self._http = httpx.Client(
            trust_env=False,  # never send loopback traffic through a proxy from the environment
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            follow_redirects=False,
        )
        self._endpoint: tuple[str, str | None] | None = None
        self._warned_auth = False
        self._warned_identity = False
        self.refused = 0  # events dropped because the app refused them (or none could read them)

    def close(self) -> None:
        self._http.close()

    def send(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Deliver what can be delivered now; returns the events to keep for later. Events the
        app refuses (or that no app could read: a spool an older client wrote with NaN or a
        lone surrogate) are dropped one by one, with a warning, and counted in ``refused``."""
        events = [e for e in events if self._encodable(e)]
        pending = [events[i : i + MAX_BATCH] for i in range(0, len(events), MAX_BATCH)]
        while pending:
            batch = pending.pop(0)
            if not batch:
                continue
            result = self._post(batch)
            if result is True:
                continue
            if result is False:
                return [event for part in [batch, *pending] for event in part]
            pending[:0] = result  # the parts of the batch to send again
        return []

    def _post(self, batch: list[dict[str, Any]]) -> bool | list[list[dict[str, Any]]]:
        """True: settled. False: keep for later. A list: send these smaller batches instead."""
        if self._endpoint is None:
            self._endpoint = self._settings.endpoint()
        url, token = self._endpoint
        if not self._proven(url, token):
            self._endpoint = None
            return False
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = _encode(batch)
        try:
            with self._http.stream("POST", f"{url}/v1/usage", content=body, headers=headers) as r:
                status, reply = r.status_code, _bounded_json(r)
        except httpx.HTTPError as exc:
            log.debug("spendtray: app not reachable at %s (%s); keeping events", url, exc)
            self._endpoint = None
            forget(url)
            return False
        if 200 <= status < 300:
            if isinstance(reply, dict) and isinstance(reply.get("accepted"), int):
                return True
            log.debug("spendtray: %s answered %d but not as Spendtray; keeping events", url, status)
            self._endpoint = None
            return False
        if status == 413 and len(batch) > 1:
            half = len(batch) // 2
            return [batch[:half], batch[half:]]
        if status == 400 and _spendtray_error(reply):
            return self._refused(batch, reply)
        if status in (401, 403):
            self._warn_auth(url, status)
        else:
            log.debug("spendtray: %s answered %d; keeping events", url, status)
        self._endpoint = None
        return False

    def _refused(self, batch: list[dict[str, Any]], reply: Any) -> bool | list[list[Any]]:
        error = reply["error"]
        bad: dict[int, str] = {}
        for detail in error.get("details") or []:
            if isinstance(detail, dict) and isinstance(detail.get("index"), int):
                index = detail["index"]
                if 0 <= index < len(batch):
                    bad[index] = f"{detail.get('field')}: {detail.get('problem')}"
        if not bad:
            if len(batch) > 1:
                # The app could not say which event: halves until the bad one is alone, so
                # that the good ones around it are stored.
                half = len(batch) // 2
                return [batch[:half], batch[half:]]
            log.warning(
                "spendtray: the app refused a usage event for model %r: %s",
                batch[0].get("model"),
                error["message"],
            )
            self.refused += 1
            return True
        self.refused += len(bad)
        for index, problem in sorted(bad.items()):
            log.warning(
                "spendtray: the app refused a usage event for model %r: %s",
                batch[index].get("model"),
                problem,
            )
        rest = [e for i, e in enumerate(batch) if i not in bad]
        return [rest] if rest else True

    def _encodable(self, event: dict[str, Any]) -> bool:
        try:
            _encode([event])
        except (ValueError, TypeError) as exc:
            self.refused += 1
            log.warning(
                "spendtray: a usage event for model %r cannot be sent (%s); dropped",
                event.get("model"),
                exc,
            )
            return False
        return True

    def _proven(self, url: str, token: str | None) -> bool:
        """Whether the server at ``url`` proved it is the Spendtray holding ``token``
        (spendtray.identity); nothing is sent to anything else."""
        try:
            verify(url, token, self._settings.read_timeout)
        except Unreachable:
            log.debug("spendtray: app not reachable at %s; keeping events", url)
            return False
        except NotSpendtray as exc:
            if not self._warned_identity:
                self._warned_identity = True
                log.warning(
                    "spendtray: %s; usage events are kept in %s", exc, self._settings.spool_folder()
                )
            return False
        return True

    def _warn_auth(self, url: str, status: int) -> None:
        if self._warned_auth:
            log.debug("spendtray: %s refused the token (%d); keeping events", url, status)
            return
        self._warned_auth = True
        log.warning(
            "spendtray: %s refused the ingest token (HTTP %d); events are kept in %s until "
            "it accepts them (the token is read from %s/token or SPENDTRAY_TOKEN)",
            url,
            status,
            self._settings.spool_folder(),
            self._settings.data_folder(),
        )


def _encode(batch: list[dict[str, Any]]) -> bytes:
    """The POST body; ValueError for NaN, infinity or a lone surrogate (the app refuses them)."""
    text = json.dumps({"events": batch}, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def _bounded_json(response: httpx.Response) -> Any:
    """The reply's JSON, reading at most ``MAX_REPLY_BYTES`` (the app's replies are small; a
    bogus server once made the client buffer 2.4 GB); None for anything else."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            return None
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        return None


def _spendtray_error(reply: Any) -> bool:
    return (
        isinstance(reply, dict)
        and isinstance(reply.get("error"), dict)
        and isinstance(reply["error"].get("message"), str)
    )
