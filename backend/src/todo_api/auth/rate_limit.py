"""Rate limits: per signed-in user, and per client address for requests without a valid token.

Counted in Redis when REDIS_URL is set (shared by every instance), else in this process.
If Redis cannot be reached the request is let through and a warning logged: an outage of
the limiter must not become an outage of the API.
"""

import logging
import math
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol

from limits import RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.storage import storage_from_string

from todo_api.errors import AppError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quota:
    """Where a caller stands against one limit, as RateLimit headers say it."""

    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
            "RateLimit-Policy": f"{self.limit};w=60",
        }


class TooManyRequests(AppError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, quota: Quota) -> None:
        headers = quota.headers() | {"Retry-After": str(max(quota.reset_seconds, 1))}
        super().__init__("Too many requests; slow down and retry after the given time.", headers)


WINDOW_SECONDS = 60  # every limit here is per minute


@dataclass(frozen=True)
class Window:
    hits: int  # requests counted in the current window
    ends_at: float  # time.time() when it ends


class Windows(Protocol):
    """Fixed one-minute windows of hits, per key."""

    async def hit(self, limit: int, key: tuple[str, str], cost: int = 1) -> Window: ...

    async def peek(self, limit: int, key: tuple[str, str]) -> Window: ...


class LocalWindows:
    """Windows counted in this process: one dictionary update per request.

    (Through `limits` the same count cost three storage calls and key formatting per
    request, a tenth of a task lookup.) A window's counter is dropped once it has ended.
    """

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], Window] = {}

    async def hit(self, limit: int, key: tuple[str, str], cost: int = 1) -> Window:
        now = time.time()
        window = self._counts.get(key)
        if window is None or window.ends_at <= now:
            if len(self._counts) > _SWEEP_AT:
                self._counts = {k: w for k, w in self._counts.items() if w.ends_at > now}
            window = Window(cost, now + WINDOW_SECONDS)
        else:
            window = Window(window.hits + cost, window.ends_at)
        self._counts[key] = window
        return window

    async def peek(self, limit: int, key: tuple[str, str]) -> Window:
        now = time.time()
        window = self._counts.get(key)
        return window if window is not None and window.ends_at > now else Window(0, now)


_SWEEP_AT = 100_000  # counters kept before ended ones are dropped


class RedisWindows:
    """Windows in Redis, shared by every instance (limits' storage and keys, redis-py client)."""

    def __init__(self, redis_url: str) -> None:
        storage = storage_from_string(_storage_uri(redis_url), implementation="redispy")
        assert isinstance(storage, Storage)  # the async+ scheme gives an asyncio storage
        self._storage = storage

    async def hit(self, limit: int, key: tuple[str, str], cost: int = 1) -> Window:
        name = RateLimitItemPerMinute(limit).key_for(*key)
        hits = await self._storage.incr(name, WINDOW_SECONDS, amount=cost)
        return Window(hits, await self._storage.get_expiry(name))

    async def peek(self, limit: int, key: tuple[str, str]) -> Window:
        name = RateLimitItemPerMinute(limit).key_for(*key)
        return Window(await self._storage.get(name), await self._storage.get_expiry(name))


class RateLimiter:
    def __init__(self, *, redis_url: str | None, per_user: int, per_address: int) -> None:
        self._windows: Windows = RedisWindows(redis_url) if redis_url else LocalWindows()
        self._per_user = per_user
        self._per_address = per_address

    async def spend_user(self, user_id: str, cost: int = 1) -> Quota:
        """`cost` requests by a signed-in user (a batch costs one per operation); raises
        TooManyRequests past the limit."""
        return await self._spend(self._per_user, ("user", user_id), cost)

    async def spend_address(self, address: str) -> Quota:
        """One request without a valid token from `address`; raises past the limit."""
        return await self._spend(self._per_address, ("address", address))

    async def check_address(self, address: str) -> None:
        """Refuse an address that has used up its anonymous quota, without spending any."""
        limit = self._per_address
        try:
            window = await self._windows.peek(limit, ("address", address))
        except Exception as exc:
            _storage_failed(exc)
            return
        if window.hits >= limit:
            raise TooManyRequests(_quota(limit, window))

    async def _spend(self, limit: int, key: tuple[str, str], cost: int = 1) -> Quota:
        try:
            window = await self._windows.hit(limit, key, cost)
        except Exception as exc:
            _storage_failed(exc)
            return Quota(limit=limit, remaining=limit, reset_seconds=WINDOW_SECONDS)
        quota = _quota(limit, window)
        if window.hits > limit:
            raise TooManyRequests(quota)
        return quota


def _quota(limit: int, window: Window) -> Quota:
    reset = max(0, math.ceil(window.ends_at - time.time()))
    return Quota(limit=limit, remaining=max(limit - window.hits, 0), reset_seconds=reset)


def _storage_uri(redis_url: str) -> str:
    return redis_url if redis_url.startswith("async+") else f"async+{redis_url}"


def _storage_failed(exc: Exception) -> None:
    logger.warning("rate limit storage unavailable (%s); request allowed", type(exc).__name__)
