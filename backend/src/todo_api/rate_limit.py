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

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
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


class LocalWindows(Storage):
    """limits' fixed windows counted in this process, at a dictionary lookup per request.

    (limits' own memory storage sweeps every key on each hit, which made the limiter cost
    more than verifying the token.) Every counter expires when its window ends; a window
    is WINDOW seconds long, as every limit here is per minute.
    """

    STORAGE_SCHEME = None  # built directly, never from a URI

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[str, tuple[float, int]] = {}  # key -> (window end, hits)

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        end, hits = self._live(key, now)
        if hits == 0:
            end = now + expiry
            if len(self._counts) > _SWEEP_AT:
                self._sweep(now)
        self._counts[key] = (end, hits + amount)
        return hits + amount

    async def get(self, key: str) -> int:
        return self._live(key, time.time())[1]

    async def get_expiry(self, key: str) -> float:
        end, hits = self._live(key, time.time())
        return end if hits else time.time()

    async def check(self) -> bool:
        return True

    async def reset(self) -> int | None:
        count = len(self._counts)
        self._counts.clear()
        return count

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)

    def _live(self, key: str, now: float) -> tuple[float, int]:
        end, hits = self._counts.get(key, (0.0, 0))
        return (end, hits) if end > now else (0.0, 0)

    def _sweep(self, now: float) -> None:
        self._counts = {key: entry for key, entry in self._counts.items() if entry[0] > now}


_SWEEP_AT = 100_000  # counters kept before expired ones are dropped


class RateLimiter:
    def __init__(self, *, redis_url: str | None, per_user: int, per_address: int) -> None:
        if redis_url:
            # redis-py's asyncio client (the `redis` package), not limits' default coredis.
            storage = storage_from_string(_storage_uri(redis_url), implementation="redispy")
            assert isinstance(storage, Storage)  # the async+ scheme gives an asyncio storage
        else:
            storage = LocalWindows()
        self._limiter = FixedWindowRateLimiter(storage)
        self._per_user = RateLimitItemPerMinute(per_user)
        self._per_address = RateLimitItemPerMinute(per_address)

    async def spend_user(self, user_id: str) -> Quota:
        """One request by a signed-in user; raises TooManyRequests past the limit."""
        return await self._spend(self._per_user, "user", user_id)

    async def spend_address(self, address: str) -> Quota:
        """One request without a valid token from `address`; raises past the limit."""
        return await self._spend(self._per_address, "address", address)

    async def check_address(self, address: str) -> None:
        """Refuse an address that has used up its anonymous quota, without spending any."""
        try:
            allowed = await self._limiter.test(self._per_address, "address", address)
        except Exception as exc:
            _storage_failed(exc)
            return
        if not allowed:
            raise TooManyRequests(await self._quota(self._per_address, "address", address))

    async def _spend(self, item: RateLimitItem, *identity: str) -> Quota:
        try:
            allowed = await self._limiter.hit(item, *identity)
            quota = await self._quota(item, *identity)
        except Exception as exc:
            _storage_failed(exc)
            return Quota(limit=item.amount, remaining=item.amount, reset_seconds=60)
        if not allowed:
            raise TooManyRequests(quota)
        return quota

    async def _quota(self, item: RateLimitItem, *identity: str) -> Quota:
        stats = await self._limiter.get_window_stats(item, *identity)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Quota(limit=item.amount, remaining=stats.remaining, reset_seconds=reset)


def _storage_uri(redis_url: str) -> str:
    return redis_url if redis_url.startswith("async+") else f"async+{redis_url}"


def _storage_failed(exc: Exception) -> None:
    logger.warning("rate limit storage unavailable (%s); request allowed", type(exc).__name__)
