"""A JWKS cache: keys chosen by `kid`, refreshed on expiry or on an unknown `kid` (rate-limited).

A refresh that fails keeps the keys already held, so a JWKS outage does not stop a
warm API; with no keys at all it raises `JwksUnavailable` (a fast 503, never a hang).
"""

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

logger = logging.getLogger(__name__)


class UnknownKeyId(Exception):
    """No key in the JWKS has this `kid`."""


class JwksUnavailable(Exception):
    """The JWKS could not be fetched and no keys are cached."""


class JwksCache:
    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        max_age: float,
        min_refresh_interval: float,
        timeout: float,
    ) -> None:
        self.url = url
        self._http = http
        self._max_age = max_age
        self._min_refresh_interval = min_refresh_interval
        self._timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()

    async def get_key(self, kid: str) -> jwt.PyJWK:
        now = time.monotonic()
        key = self._keys.get(kid)
        if key is not None and now - self._fetched_at < self._max_age:
            return key
        if now - self._attempted_at >= self._min_refresh_interval:
            await self._refresh(since=now)
        elif not self._keys:
            raise JwksUnavailable("no keys cached and the last fetch was too recent to retry")
        key = self._keys.get(kid)
        if key is None:
            raise UnknownKeyId(kid)
        return key

    async def _refresh(self, *, since: float) -> None:
        async with self._lock:
            if self._attempted_at >= since:
                return  # another request refreshed while this one waited
            self._attempted_at = time.monotonic()
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError) as exc:
                logger.warning(
                    "JWKS fetch failed (%s); %d cached keys kept",
                    type(exc).__name__,
                    len(self._keys),
                )
                if not self._keys:
                    raise JwksUnavailable("the JWKS could not be fetched") from exc
                return
            self._keys = keys
            self._fetched_at = time.monotonic()

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        response = await self._http.get(self.url, timeout=self._timeout)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWK set")
        keys = {}
        for entry in document["keys"]:
            key = _signing_key(entry)
            if key is not None and key.key_id:
                keys[key.key_id] = key
        logger.info("JWKS fetched: %d signing keys", len(keys))
        return keys


def _signing_key(entry: Any) -> jwt.PyJWK | None:
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    if entry.get("kty") == "oct":
        return None  # a symmetric key has no business in a public key set
    try:
        return jwt.PyJWK(entry)
    except jwt.PyJWTError as exc:
        logger.warning("JWKS key %r skipped: %s", entry.get("kid"), exc)
        return None
