"""When the next occurrence of a recurring task is due."""

from datetime import datetime

from dateutil.relativedelta import relativedelta

from todo_api.tasks.models import Frequency

_STEP = {
    Frequency.DAILY: lambda n: relativedelta(days=n),
    Frequency.WEEKLY: lambda n: relativedelta(weeks=n),
    # relativedelta keeps month ends sane: Jan 31 + 1 month is Feb 28 (or 29).
    Frequency.MONTHLY: lambda n: relativedelta(months=n),
}


def next_due(
    due_at: datetime | None, frequency: str, interval: int, *, now: datetime
) -> datetime | None:
    """The rule applied once to the due date, or to `now` for a task that had none; None
    when that is past the last representable instant (9999-12-31): the series ends."""
    try:
        return (due_at or now) + _STEP[Frequency(frequency)](interval)
    except (OverflowError, ValueError):  # past year 9999
        return None
