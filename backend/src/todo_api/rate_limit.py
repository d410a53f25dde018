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


class RateLimiter:
    def __init__(self, *, redis_url: str | None, per_user: int, per_address: int) -> None:
        # redis-py's asyncio client (the `redis` package), not limits' default coredis.
        options = {"implementation": "redispy"} if redis_url else {}
        storage = storage_from_string(_storage_uri(redis_url), **options)
        assert isinstance(storage, Storage)  # the async+ scheme gives an asyncio storage
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


def _storage_uri(redis_url: str | None) -> str:
    if redis_url is None:
        return "async+memory://"
    return redis_url if redis_url.startswith("async+") else f"async+{redis_url}"


def _storage_failed(exc: Exception) -> None:
    logger.warning("rate limit storage unavailable (%s); request allowed", type(exc).__name__)
