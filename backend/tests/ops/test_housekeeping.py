"""The app's own upkeep runs on its timer and survives a failing job."""

import asyncio

from todo_api.ops.housekeeping import housekeeping


async def test_jobs_run_on_their_timer_and_a_failure_does_not_stop_them() -> None:
    runs: list[str] = []

    async def purge() -> None:
        runs.append("purge")

    async def broken() -> None:
        runs.append("broken")
        raise ConnectionError("database away")

    async with housekeeping([broken, purge], every_seconds=0.05, first_after=0.01):
        await asyncio.sleep(0.2)
    stopped_at = len(runs)
    await asyncio.sleep(0.1)

    assert runs[:4] == ["broken", "purge", "broken", "purge"]
    assert len(runs) == stopped_at  # nothing runs once the block has ended
