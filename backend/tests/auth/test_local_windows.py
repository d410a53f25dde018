"""In-process rate-limit windows: counted per key, restarted when the minute ends."""

import time

import pytest

from todo_api.auth import rate_limit
from todo_api.auth.rate_limit import LocalWindows, RateLimiter, TooManyRequests

KEY = ("user", "alice")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    return clock


async def test_hits_count_within_the_window_and_restart_after_it(clock: Clock) -> None:
    windows = LocalWindows()

    hits = [(await windows.hit(3, KEY)).hits for _ in range(3)]
    clock.now += 59.9
    last_in_window = await windows.hit(3, KEY)
    clock.now += 0.2
    first_of_next = await windows.hit(3, KEY)

    assert hits == [1, 2, 3]
    assert (last_in_window.hits, last_in_window.ends_at) == (4, 1_060.0)
    assert first_of_next.hits == 1
    assert first_of_next.ends_at == pytest.approx(1_120.1)
    assert (await windows.hit(3, ("user", "bob"))).hits == 1


async def test_an_ended_window_peeks_as_empty(clock: Clock) -> None:
    windows = LocalWindows()
    await windows.hit(3, KEY)

    clock.now += 61
    assert (await windows.peek(3, KEY)).hits == 0


async def test_ended_windows_are_swept_once_there_are_many(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rate_limit, "_SWEEP_AT", 2)
    windows = LocalWindows()
    for name in ("a", "b", "c"):
        await windows.hit(3, ("user", name))

    clock.now += 61
    await windows.hit(3, ("user", "d"))

    assert [(await windows.peek(3, ("user", n))).hits for n in "abcd"] == [0, 0, 0, 1]
    assert len(windows._counts) == 1


async def test_the_limiter_refuses_past_the_limit_with_the_reset_time(clock: Clock) -> None:
    limiter = RateLimiter(redis_url=None, per_user=2, per_address=1)
    quotas = [await limiter.spend_user("alice") for _ in range(2)]
    clock.now += 20

    with pytest.raises(TooManyRequests) as refused:
        await limiter.spend_user("alice")

    assert [q.remaining for q in quotas] == [1, 0]
    assert refused.value.headers is not None
    assert refused.value.headers["Retry-After"] == "40"
