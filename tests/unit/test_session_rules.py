"""The flood rule: a client still sending 10 s after a rate_limited error is closed (1008); one
that waits as told, or whose extra frames were already in flight, is not."""

from datetime import timedelta

import pytest

from chatd.application.session_rules import FloodGuard
from tests.fakes import EPOCH


def at(seconds: float):
    return EPOCH + timedelta(seconds=seconds)


def flood(guard: FloodGuard, *, every_ms: int, limit: int, window_s: int) -> float:
    """Send a frame every `every_ms`, ignoring errors, into a limit of `limit` per fixed
    window; when the guard says to close (seconds), or -1 within a minute."""
    counts: dict[int, int] = {}
    for ms in range(0, 60_000, every_ms):
        now = ms / 1000
        if not guard.may_send(at(now)):
            return now
        window = ms // (window_s * 1000)
        counts[window] = counts.get(window, 0) + 1
        if counts[window] > limit:
            guard.refused(at(now), max(1, round((window + 1) * window_s - now)))
    return -1


def test_no_error_no_closing():
    guard = FloodGuard()
    assert all(guard.may_send(at(n / 10)) for n in range(500))


def test_a_client_that_waits_as_told_is_never_closed():
    guard = FloodGuard()
    guard.refused(at(3), 7)
    assert guard.may_send(at(3.2))  # already in flight
    assert guard.may_send(at(10))  # waited until the retry time
    guard.refused(at(12), 8)  # limited again, in the next window: a new start
    assert guard.may_send(at(20))
    assert guard.may_send(at(25))


def test_a_client_still_sending_10_s_after_the_error_is_closed():
    guard = FloodGuard()
    guard.refused(at(0), 10)
    for now in (2, 4, 6, 8, 9.9):
        assert guard.may_send(at(now))  # refused each time, but not closed yet
    assert not guard.may_send(at(10))


def test_persisting_past_the_retry_time_still_counts():
    guard = FloodGuard()
    guard.refused(at(0), 2)
    assert guard.may_send(at(1.5))  # during the pause: persisting
    for now in (3, 5, 7, 9):
        assert guard.may_send(at(now))  # accepted again, but it never paused
    assert not guard.may_send(at(10.5))


def test_ten_seconds_of_silence_forgives_a_persisting_client():
    guard = FloodGuard()
    guard.refused(at(0), 5)
    assert guard.may_send(at(2))
    assert guard.may_send(at(12.5))
    assert guard.may_send(at(13))


@pytest.mark.parametrize(
    ("every_ms", "limit", "first_error", "closed"),
    [(100, 5, 0.5, 10.5), (1000, 5, 5, 15), (3000, 2, 6, 18)],
)
def test_flooding_a_fixed_window_is_closed_10_s_after_the_first_error(
    every_ms, limit, first_error, closed
):
    # However slowly: the window resets let some frames through, but the client never pauses.
    assert flood(FloodGuard(), every_ms=every_ms, limit=limit, window_s=10) == closed
    assert closed - first_error < 10 + every_ms / 1000
