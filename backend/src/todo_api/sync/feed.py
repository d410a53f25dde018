"""The change feed: a user's task changes in the order they committed, from a token.

Every write of a user's tasks bumps the user's change counter (`task_counts.changes`)
under that row's lock, held until commit, and stores the new value on the task
(`change_seq`) or, for a deletion, on its tombstone. For one user the counter therefore
orders writes as they committed: a reader that has seen place n has seen every change up
to n, whatever order concurrent transactions started in. A task changed twice appears once,
at its newest place, with its newest content.

A token is (place, task id, floor): the feed continues after that position. A snapshot
(no token) lists the live tasks from place -1 with floor = the counter as the snapshot read
it, so that tombstones of deletions the snapshot already reflects are not sent, and those
after it are. Tokens are opaque to clients and bound to their user.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    Select,
    and_,
    bindparam,
    false,
    func,
    not_,
    select,
    true,
    tuple_,
    union_all,
)

from todo_api.db.executor import Database, Row
from todo_api.errors import BadRequest, Gone
from todo_api.tasks.counts import ALL_TASKS
from todo_api.tasks.models import TASK_COUNTS, TASK_FIELDS, TASK_ID_MAX, TASK_TOMBSTONES, TASKS

MAX_TOKEN_LENGTH = 200
_VERSION = "c1"
_SNAPSHOT_START = -1  # before every place, 0 included (tasks written before the feed existed)


class InvalidChangeToken(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"The change token is not valid: {reason}. Start again without `since`.")


class ChangeTokenExpired(Gone):
    def __init__(self, retention_days: float) -> None:
        super().__init__(
            f"The change token is older than the {retention_days:g} days deleted tasks are "
            "remembered, so deletions since then are unknown. Resync: call without `since` "
            "for a snapshot of the current tasks and a new token."
        )


@dataclass(frozen=True)
class FeedPosition:
    """After the change at (place, task id); tombstones only after `floor` (see module)."""

    place: int
    task_id: int
    floor: int

    def after(self, place: int, task_id: int) -> FeedPosition:
        return FeedPosition(place, task_id, max(self.floor, place))

    def encode(self, owner: str) -> str:
        raw = json.dumps([_VERSION, _owner_tag(owner), self.place, self.task_id, self.floor])
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()

    @classmethod
    def decode(cls, token: str, owner: str) -> FeedPosition:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidChangeToken("it is too long")
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, ValueError, RecursionError) as exc:
            raise InvalidChangeToken("it is not a token this server issued") from exc
        if not isinstance(decoded, list) or len(decoded) != 5 or decoded[0] != _VERSION:
            raise InvalidChangeToken("it is not a token this server issued")
        if decoded[1] != _owner_tag(owner):
            raise InvalidChangeToken("it belongs to another user")
        place, task_id, floor = decoded[2:]
        if not all(type(value) is int for value in (place, task_id, floor)):
            raise InvalidChangeToken("it is not a token this server issued")
        if not (
            _SNAPSHOT_START <= place <= floor and 0 <= task_id <= TASK_ID_MAX and floor < 2**63
        ):
            raise InvalidChangeToken("it is not a token this server issued")
        return cls(place, task_id, floor)


def _owner_tag(owner: str) -> str:
    return hashlib.sha256(owner.encode()).hexdigest()[:16]


def now_position(changes: int) -> FeedPosition:
    """The position after every change so far (`changes`: the user's counter)."""
    return FeedPosition(changes, TASK_ID_MAX, changes)


@dataclass(frozen=True)
class Change:
    place: int
    task_id: int
    task: Row | None  # None: the task was deleted
    position: FeedPosition  # the token after this change

    @property
    def kind(self) -> str:
        """The event kind of a live stream."""
        task = self.task
        if task is None:
            return "task.deleted"
        if task["version"] == 1:
            return "task.created"
        reminded = task["reminded_at"]
        if reminded is not None and reminded >= task["updated_at"]:
            return "reminder.due"  # the last change was the reminder being sent
        return "task.updated"


@dataclass(frozen=True)
class ChangePage:
    changes: list[Change]
    next: FeedPosition
    has_more: bool


def _page_statement(*, snapshot: bool) -> Select[Any]:
    owner: BindParameter[str] = bindparam("owner")
    page_size: BindParameter[int] = bindparam("page_size")
    upserts = (
        select(
            TASKS.c.change_seq.label("place"),
            TASKS.c.id.label("item"),
            false().label("deleted"),
        )
        .where(TASKS.c.user_id == owner)
        .where(tuple_(TASKS.c.change_seq, TASKS.c.id) > tuple_(bindparam("place"), bindparam("id")))
        .order_by(TASKS.c.change_seq, TASKS.c.id)
        .limit(page_size)
    )
    items: Any = select(upserts.subquery())
    if not snapshot:  # a snapshot's deletions are already reflected: no tombstones
        tombstones = (
            select(TASK_TOMBSTONES.c.seq, TASK_TOMBSTONES.c.task_id, true())
            .where(TASK_TOMBSTONES.c.user_id == owner)
            .where(
                tuple_(TASK_TOMBSTONES.c.seq, TASK_TOMBSTONES.c.task_id)
                > tuple_(bindparam("tomb_place"), bindparam("tomb_id"))
            )
            .order_by(TASK_TOMBSTONES.c.seq, TASK_TOMBSTONES.c.task_id)
            .limit(page_size)
        )
        items = union_all(items, select(tombstones.subquery()))
    items = items.subquery("items")
    user_row = and_(TASK_COUNTS.c.user_id == owner, TASK_COUNTS.c.tag == bindparam("user_row"))
    # The counter and the purge mark, read in the same snapshot as the changes.
    head = select(
        func.coalesce(select(TASK_COUNTS.c.changes).where(user_row).scalar_subquery(), 0).label(
            "head_changes"
        ),
        func.coalesce(select(TASK_COUNTS.c.forgotten).where(user_row).scalar_subquery(), 0).label(
            "head_forgotten"
        ),
    ).subquery("head")
    changed = items.outerjoin(TASKS, and_(TASKS.c.id == items.c.item, not_(items.c.deleted)))
    return (
        select(
            head.c.head_changes,
            head.c.head_forgotten,
            items.c.place,
            items.c.item,
            items.c.deleted,
            *TASK_FIELDS,
        )
        .select_from(head.outerjoin(changed, true()))
        .order_by(items.c.place, items.c.item)
        .limit(page_size)
    )


_SNAPSHOT_PAGE = _page_statement(snapshot=True)
_FEED_PAGE = _page_statement(snapshot=False)
_TASK_KEYS = [column.key for column in TASK_FIELDS]


async def read_changes(
    db: Database,
    owner: str,
    start: FeedPosition | None,
    *,
    limit: int,
    retention_days: float,
) -> ChangePage:
    """Up to `limit` changes after `start` (None: a snapshot of the live tasks)."""
    params: dict[str, Any] = {"owner": owner, "page_size": limit + 1, "user_row": ALL_TASKS}
    if start is None:
        statement = _SNAPSHOT_PAGE
        params |= {"place": _SNAPSHOT_START, "id": 0}
    else:
        statement = _FEED_PAGE
        tombstones_after = (
            (start.place, start.task_id)
            if start.place >= start.floor
            else (start.floor, TASK_ID_MAX)
        )
        params |= {
            "place": start.place,
            "id": start.task_id,
            "tomb_place": tombstones_after[0],
            "tomb_id": tombstones_after[1],
        }
    rows = await db.all(statement, params)
    head = rows[0]
    if start is None:
        start = FeedPosition(_SNAPSHOT_START, 0, int(head["head_changes"]))
    elif head["head_forgotten"] > max(start.place, start.floor):
        raise ChangeTokenExpired(retention_days)
    position = start
    changes = []
    for row in rows[:limit]:
        if row["item"] is None:
            break  # no changes: the one row is the head's
        position = position.after(int(row["place"]), int(row["item"]))
        task = None if row["deleted"] else {key: row[key] for key in _TASK_KEYS}
        changes.append(Change(position.place, position.task_id, task, position))
    return ChangePage(changes, position, has_more=len(rows) > limit)
