"""Money held by proxied calls in flight, so parallel calls cannot all spend the same headroom
(SPEC §13). In memory only; any thread (one lock).

A call reserves its worst-case cost before it is forwarded and the reservation is released
once the call's real cost is stored (or the call is known to cost nothing), so between the
two the budget counts the call twice rather than not at all. A reservation nobody releases
(a code path that lost track of its call) expires after ``ttl`` seconds.

Reservations are per project; the global budget (``*``) counts all of them.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from spendtray.budgets.model import GLOBAL

# Long enough for the slowest streamed generation; a reservation older than this is taken to
# have been forgotten (its call's cost, if any, is in the store by then).
DEFAULT_TTL = 30 * 60.0


@dataclass(frozen=True)
class Reservation:
    id: int
    project: str
    nanos: int
    expires: float


class Reservations:
    def __init__(
        self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        # Held while a decision reads spend and adds a reservation, so two calls never
        # decide on the same headroom.
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._live: dict[int, Reservation] = {}  # insertion order = expiry order (one ttl)
        self._by_project: dict[str, int] = {}
        self._total = 0

    def reserved(self, scope: str) -> int:
        """Nano-dollars held for ``scope`` (a project, or ``*`` for every project)."""
        with self.lock:
            self._expire()
            return self._total if scope == GLOBAL else self._by_project.get(scope, 0)

    def add(self, project: str, nanos: int) -> Reservation:
        with self.lock:
            self._expire()
            r = Reservation(next(self._ids), project, nanos, self._clock() + self.ttl)
            self._live[r.id] = r
            self._by_project[project] = self._by_project.get(project, 0) + nanos
            self._total += nanos
            return r

    def release(self, reservation: Reservation) -> bool:
        """Give the money back; False when it was already released or had expired."""
        with self.lock:
            return self._drop(reservation.id)

    def __len__(self) -> int:
        with self.lock:
            self._expire()
            return len(self._live)

    def _drop(self, rid: int) -> bool:
        r = self._live.pop(rid, None)
        if r is None:
            return False
        left = self._by_project[r.project] - r.nanos
        if left:
            self._by_project[r.project] = left
        else:
            del self._by_project[r.project]
        self._total -= r.nanos
        return True

    def _expire(self) -> None:
        if not self._live:
            return
        now = self._clock()
        while self._live:
            rid, r = next(iter(self._live.items()))
            if r.expires > now:
                return
            self._drop(rid)
