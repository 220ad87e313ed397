"""Reservations: per-project and global sums, release once, expiry of forgotten ones."""

from __future__ import annotations

from spendtray.budgets.reservations import Reservations


def test_sums_release_and_expiry() -> None:
    now = [100.0]
    held = Reservations(ttl=60, clock=lambda: now[0])
    a = held.add("acme", 300)
    now[0] += 30
    b = held.add("acme", 200)
    c = held.add("other", 50)
    assert (held.reserved("acme"), held.reserved("other"), held.reserved("*")) == (500, 50, 550)
    assert held.release(b) is True
    assert held.release(b) is False  # once only
    assert (held.reserved("acme"), held.reserved("*")) == (300, 350)
    now[0] += 31  # a is 61 s old: forgotten, expired; c is 31 s old
    assert (held.reserved("acme"), held.reserved("*"), len(held)) == (0, 50, 1)
    assert held.release(a) is False
    now[0] += 30
    assert held.reserved("*") == 0 and held.release(c) is False
