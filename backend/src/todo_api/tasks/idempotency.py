"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): a retried write runs once.

The first request with a key runs; its response (status, body, and the headers that matter)
is stored in the same database transaction as its write, so the effect and the record
commit or vanish together. A retry with the same key, method, path and body gets that
response again, byte for byte, with `Idempotent-Replayed: true`. The same key with another
method, path or body is a 422; the same key while the first request runs is a 409. A 4xx
is stored and replayed (it wrote nothing); a 5xx is not (a retry runs again). Keys belong
to a user and expire after `IDEMPOTENCY_KEY_TTL_SECONDS`.
"""

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import orjson
from fastapi import Request, Response
from sqlalchemy import bindparam, delete, select

from todo_api.db.executor import Database, Row
from todo_api.db.types import UTCDateTime, utc_now
from todo_api.errors import AppError, BadRequest, Conflict, UnprocessableContent, error_response
from todo_api.tasks.models import IDEMPOTENCY_RECORDS
from todo_api.tasks.repository import TaskRepository
from todo_api.web.headers import header_values

REPLAYED = "Idempotent-Replayed"
# What a replay carries besides the body: what the client acts on, never Set-Cookie or Date.
_KEPT_HEADERS = ("content-type", "location", "etag", "link")
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # 1-255 visible ASCII characters
_BARE_KEY = re.compile(r"[\x21\x23-\x7e]{1,255}")  # unquoted: no '"' (that is an sf-string)
_SF_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')

Handler = Callable[[TaskRepository], Awaitable[Response]]


class InvalidKey(BadRequest):
    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key must be one header of 1-255 visible ASCII characters, "
            'bare or quoted ("...").'
        )


class KeyInFlight(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still running; retry shortly.",
            headers={"Retry-After": "1"},
        )


class KeyReused(UnprocessableContent):
    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was used for another request (method, path or body); "
            "use a new key for a new request."
        )


def idempotency_key(request: Request) -> str | None:
    """The request's key (an sf-string or a bare token), or None; a 400 if malformed."""
    values = header_values(request, b"idempotency-key")
    if not values:
        return None
    if len(values) > 1:
        raise InvalidKey
    value = values[0].strip()
    quoted = _SF_STRING.fullmatch(value)
    if quoted is not None:
        value = quoted.group(1).replace('\\"', '"').replace("\\\\", "\\")
        if not _KEY.fullmatch(value):
            raise InvalidKey
    elif not _BARE_KEY.fullmatch(value):
        raise InvalidKey
    return value


def fingerprint(request: Request, body: Any) -> str:
    """What binds a key to one request: its method, path and (parsed, canonical) body."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + canonical)
    return digest.hexdigest()


async def respond_once(
    request: Request,
    repo: TaskRepository,
    *,
    owner: str,
    key: str,
    request_hash: str,
    ttl_seconds: int,
    retry_after: int,
    handler: Handler,
) -> Response:
    """Run `handler` once for this key, in one transaction with the stored response."""
    try:
        async with repo.claimed(owner, key) as tx:
            if tx is None:
                raise KeyInFlight
            record = await _record(tx.db, owner, key)
            if record is not None and record["created_at"] > utc_now() - timedelta(
                seconds=ttl_seconds
            ):
                if record["request_hash"] != request_hash:
                    raise KeyReused
                return _replay(record)
            if record is not None:  # expired: as if never sent
                await tx.db.all(_FORGET, {"owner": owner, "key": key})
            response = await handler(tx)
            await _remember(tx.db, owner, key, request_hash, response)
            return response
    except (KeyInFlight, KeyReused):
        raise
    except AppError as error:
        if error.status_code >= 500:
            raise  # not the request's answer: a retry runs again
        # The refused write was rolled back with its transaction, and the key released:
        # claim it again to store the refusal, unless a retry got in first.
        response = error_response(error, retry_after=retry_after)
        async with repo.claimed(owner, key) as tx:
            if tx is None:
                return response  # a retry is running: its answer will be the one kept
            record = await _record(tx.db, owner, key)
            if record is not None:
                return _replay(record)
            await _remember(tx.db, owner, key, request_hash, response)
        return response


async def purge_expired(db: Database, ttl_seconds: int) -> None:
    """Forget keys older than their lifetime (run by the app's housekeeping)."""
    await db.all(_PURGE, {"before": utc_now() - timedelta(seconds=ttl_seconds)})


_OWNED = (IDEMPOTENCY_RECORDS.c.user_id == bindparam("owner")) & (
    IDEMPOTENCY_RECORDS.c.key == bindparam("key")
)
_READ = select(IDEMPOTENCY_RECORDS).where(_OWNED)
_FORGET = delete(IDEMPOTENCY_RECORDS).where(_OWNED)
_PURGE = delete(IDEMPOTENCY_RECORDS).where(
    IDEMPOTENCY_RECORDS.c.created_at < bindparam("before", type_=UTCDateTime())
)


async def _record(db: Database, owner: str, key: str) -> Row | None:
    return await db.first(_READ, {"owner": owner, "key": key})


async def _remember(
    db: Database, owner: str, key: str, request_hash: str, response: Response
) -> None:
    """Store the response (inside the key's claim, after finding no record for it)."""
    headers = {name: value for name, value in response.headers.items() if name in _KEPT_HEADERS}
    statement = IDEMPOTENCY_RECORDS.insert().values(
        user_id=owner,
        key=key,
        request_hash=request_hash,
        status=response.status_code,
        headers=headers,
        body=bytes(response.body).decode(),
        created_at=utc_now(),
    )
    await db.all(statement)


def _replay(record: Row) -> Response:
    headers = {**record["headers"], REPLAYED: "true"}
    return Response(record["body"].encode(), status_code=record["status"], headers=headers)
