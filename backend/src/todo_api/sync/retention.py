"""Tombstones are kept TOMBSTONE_RETENTION_DAYS, then purged by the app's housekeeping.

Purging a user's tombstones raises their `forgotten` mark to the newest place purged: a
feed token from before it may have missed those deletions, and gets a 410.
"""

from datetime import datetime, timedelta

from sqlalchemy import BindParameter, bindparam, case, delete, update

from todo_api.db.executor import Database
from todo_api.db.types import UTCDateTime, utc_now
from todo_api.tasks.counts import ALL_TASKS
from todo_api.tasks.models import TASK_COUNTS, TASK_TOMBSTONES

_PURGE = (
    delete(TASK_TOMBSTONES)
    .where(TASK_TOMBSTONES.c.deleted_at < bindparam("before", type_=UTCDateTime()))
    .returning(TASK_TOMBSTONES.c.user_id, TASK_TOMBSTONES.c.seq)
)
_place: BindParameter[int] = bindparam("place")
_FORGET = (
    update(TASK_COUNTS)
    .where(TASK_COUNTS.c.user_id == bindparam("owner"), TASK_COUNTS.c.tag == ALL_TASKS)
    .values(
        forgotten=case((TASK_COUNTS.c.forgotten < _place, _place), else_=TASK_COUNTS.c.forgotten)
    )
)


async def purge_tombstones(db: Database, retention_days: float, now: datetime | None = None) -> int:
    """Delete tombstones older than `retention_days`; how many were."""
    before = (now or utc_now()) - timedelta(days=retention_days)
    async with db.transaction() as tx:
        purged = await tx.all(_PURGE, {"before": before})
        newest: dict[str, int] = {}
        for row in purged:
            newest[row["user_id"]] = max(newest.get(row["user_id"], 0), int(row["seq"]))
        for owner in sorted(newest):  # counter rows in user order, as the reminders lock them
            await tx.all(_FORGET, {"owner": owner, "place": newest[owner]})
    return len(purged)
