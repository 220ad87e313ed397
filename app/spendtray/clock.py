"""The one wall clock: now, as an aware UTC datetime. Pure; any thread.

Parts take a ``clock`` callable defaulting to ``utc_now`` so tests can decide what "now" is.
"""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
