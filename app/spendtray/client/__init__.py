"""The Spendtray Python client: send LLM usage to the local Spendtray app from any script.

    import spendtray.client as spendtray

    client = spendtray.track(OpenAI(), project="acme")      # or Anthropic(), AsyncOpenAI(), ...
    spendtray.record(model="gpt-4o", usage=response.usage, project="acme")
    spendtray.flush()                                         # optional; done at exit anyway

Nothing here raises into, blocks or slows the caller's LLM call: events go on a queue and one
daemon thread ("spendtray-client") delivers them in batches to ``POST /v1/usage``. While the
app is not running they are written to ``<data>/spool/`` (fsync'd) and delivered later, by
this process or by the next one that uses the client, and stored once (request ids are
idempotent). Only model, token counts, ids, project/agent attribution, latency and status are
sent or spooled: never a provider key, a prompt or a completion.

Importing this package needs only the standard library; delivering needs ``httpx``; tracking
an SDK client uses the HTTP library it was built on (``httpx`` or ``httpx2``). None of the
app's server, store, pricing or GUI modules is imported. Module map:

- ``settings``: where the app is (URL, token, data folder), the client's options
- ``events``: the event fields, request ids, keeping usage objects free of text
- ``track`` / ``wire`` / ``capture`` / ``decoding``: reading usage along with the SDK, on the
  thread that reads the response
- ``extract``: model and usage out of JSON answers and SSE streams (sender thread)
- ``recorder`` / ``delivery`` / ``spool``: the sender thread, its POSTs and its disk spool
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from spendtray.client.events import make_event
from spendtray.client.recorder import Recorder, default_recorder, replace_default
from spendtray.client.settings import ClientSettings
from spendtray.client.track import track

__all__ = ["ClientSettings", "Recorder", "configure", "flush", "record", "track"]


def record(
    model: str,
    usage: Any = None,
    *,
    project: str | None = None,
    provider: str | None = None,
    agent: str | None = None,
    **extra: Any,
) -> str:
    """Queue one usage event and return its ``request_id``; returns at once.

    ``usage`` is a provider's raw usage object (a dict, or the SDK's ``response.usage``), or
    pass canonical counts as keywords (``input_tokens=``, ``output_tokens=``,
    ``cache_read_tokens=``, ...). Any other SPEC §5 field is accepted as a keyword
    (``request_id``, ``timestamp``, ``tags``, ``latency_ms``, ``status``, ``user``,
    ``session``, ``service_tier``, ``cost_usd``, ...); an unknown keyword is a ``TypeError``.
    ``project``/``agent`` default to ``$SPENDTRAY_PROJECT``/``$SPENDTRAY_AGENT``.
    A value JSON cannot carry (NaN, infinity) is a ``ValueError`` here, so that it never
    reaches the app (which would refuse the batch it is in); a lone surrogate in text is
    replaced by U+FFFD.
    """
    recorder = default_recorder()
    settings = recorder.settings
    event = make_event(
        model,
        usage,
        project=project or settings.default_project(),
        provider=provider,
        agent=agent or settings.default_agent(),
        extra=extra,
    )
    recorder.submit(event)
    return str(event["request_id"])


def flush(timeout: float = 5.0) -> bool:
    """Wait up to ``timeout`` s until every event so far is stored by the app (True); False
    when some are kept on disk for later, were refused by the app, or time ran out."""
    return default_recorder().flush(timeout)


def configure(
    *,
    url: str | None = None,
    token: str | None = None,
    home: str | Path | None = None,
    project: str | None = None,
    agent: str | None = None,
    spool_max_bytes: int | None = None,
    exit_timeout: float | None = None,
) -> None:
    """Override what the client would discover (URL, token, data folder) or its defaults.

    Takes effect for events recorded afterwards; what was recorded before is flushed first.
    """
    changes: dict[str, Any] = {
        "url": url,
        "token": token,
        "home": Path(home).expanduser() if home is not None else None,
        "project": project,
        "agent": agent,
        "spool_max_bytes": spool_max_bytes,
        "exit_timeout": exit_timeout,
    }
    current = default_recorder().settings
    settings = dataclasses.replace(current, **{k: v for k, v in changes.items() if v is not None})
    replace_default(settings)
