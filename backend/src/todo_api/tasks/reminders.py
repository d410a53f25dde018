"""Due reminders: every instance looks for them each REMINDER_INTERVAL_SECONDS, and each is
sent once, as a `reminder.due` change (the task's `reminded_at` is set).

Claimed in the database, so any number of instances may look at once: PostgreSQL skips
rows another instance has locked (FOR UPDATE SKIP LOCKED), and the mark itself only
succeeds once per reminder time. With no lower time bound, reminders that fell due while
every instance was down are sent at the next start.
"""

import logging
from datetime import datetime

from todo_api.db.types import utc_now
from todo_api.tasks.repository import TaskRepository

logger = logging.getLogger(__name__)

BATCH = 100


async def catch_up_reminders(repo: TaskRepository) -> None:
    """At start: send what fell due while no instance ran (a database still down is left to
    the periodic run; the API starts anyway)."""
    try:
        sent = await send_due_reminders(repo)
    except Exception as exc:
        logger.warning(
            "reminders: catching up failed (%s); retrying on schedule", type(exc).__name__
        )
        return
    if sent:
        logger.info("reminders: %d fell due while no instance ran, sent now", sent)


async def send_due_reminders(repo: TaskRepository, now: datetime | None = None) -> int:
    """Mark every reminder due at `now` (default: the clock) as sent; how many were."""
    now = now or utc_now()
    sent = 0
    while True:
        async with repo.transaction() as tx:
            due = await tx.due_reminders(now, limit=BATCH)
            # Counter rows are then locked in user order: two instances cannot deadlock.
            for task in sorted(due, key=lambda task: (task["user_id"], task["id"])):
                if await tx.mark_reminded(task, now) is not None:
                    sent += 1
        if len(due) < BATCH:
            return sent
