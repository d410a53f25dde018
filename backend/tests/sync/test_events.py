"""Live events from real server processes: replay and resume without gap or duplicate,
heartbeats, token expiry, shutdown, isolation, and (PostgreSQL) across instances."""

import asyncio
import json
import time
from pathlib import Path
from statistics import median

import httpx
import pytest

from tests.conftest import fetch_value, postgres_only
from tests.helpers import assert_problem
from tests.sync.servers import Event, EventReader, auth, events, server


async def test_changes_arrive_as_events_and_resume_after_the_last_one(
    database_url: str, tmp_path: Path, user_id: str
) -> None:
    with server(database_url, tmp_path) as api:
        async with httpx.AsyncClient(base_url=api.url, headers=auth(user_id)) as rest:
            tasks = f"/api/{user_id}/tasks"
            async with events(api.url, user_id) as stream:
                task = (await rest.post(tasks, json={"title": "live"})).json()
                created = await stream.next()
                gone = (await rest.post(tasks, json={"title": "doomed"})).json()
                await stream.next()
                await rest.put(f"{tasks}/{task['id']}", json={"title": "renamed"})
                updated = await stream.next()

            assert (created.event, json.loads(created.data)["title"]) == ("task.created", "live")
            assert (updated.event, json.loads(updated.data)["title"]) == ("task.updated", "renamed")

            # Missed while disconnected: exactly these, once, in order, then live again.
            await rest.patch(f"{tasks}/{task['id']}/complete")
            other = (await rest.post(tasks, json={"title": "other"})).json()
            await rest.delete(f"{tasks}/{gone['id']}")
            headers = auth(user_id) | {"Last-Event-ID": updated.id or ""}
            async with events(api.url, user_id, headers=headers) as stream:
                replayed = [await stream.next() for _ in range(3)]
                await rest.put(f"{tasks}/{other['id']}", json={"priority": "high"})
                live = await stream.next()

    assert [e.event for e in replayed] == ["task.updated", "task.created", "task.deleted"]
    assert json.loads(replayed[0].data)["completed"] is True
    assert json.loads(replayed[1].data)["id"] == other["id"]
    assert json.loads(replayed[2].data) == {"id": gone["id"]}
    assert (live.event, json.loads(live.data)["priority"]) == ("task.updated", "high")
    assert len({e.id for e in [created, updated, *replayed, live]}) == 6


async def test_streams_are_per_user(database_url: str, tmp_path: Path, user_id: str) -> None:
    other = f"{user_id}-other"
    with server(database_url, tmp_path) as api:
        async with httpx.AsyncClient(base_url=api.url) as rest:
            refused = await rest.get(f"/api/{other}/events", headers=auth(user_id))
            assert_problem(refused, 403)
            bad = await rest.get(
                f"/api/{user_id}/events", headers=auth(user_id), params={"since": "nope"}
            )
            assert_problem(bad, 400)
            async with events(api.url, user_id) as stream:
                await rest.post(
                    f"/api/{other}/tasks", json={"title": "not yours"}, headers=auth(other)
                )
                await rest.post(
                    f"/api/{user_id}/tasks", json={"title": "yours"}, headers=auth(user_id)
                )
                event = await stream.next()
    assert json.loads(event.data)["title"] == "yours"


async def test_idle_streams_get_heartbeats_and_end_when_the_token_expires(
    database_url: str, tmp_path: Path, user_id: str
) -> None:
    env = {"EVENTS_HEARTBEAT_SECONDS": "0.5", "JWT_LEEWAY_SECONDS": "0"}
    with server(database_url, tmp_path, **env) as api:
        async with events(api.url, user_id, headers=auth(user_id, lifetime=3)) as stream:
            beat = await stream.next(comments=True)
            started = time.monotonic()
            assert await stream.ended(within=10)
    assert beat.comments == ["keep-alive"]
    assert time.monotonic() - started < 5


async def test_open_streams_end_cleanly_when_the_server_stops(
    database_url: str, tmp_path: Path, user_id: str
) -> None:
    with server(database_url, tmp_path) as api:
        async with events(api.url, user_id) as stream:
            await asyncio.sleep(0.5)
            stopping = asyncio.get_running_loop().run_in_executor(None, api.stop)
            assert await stream.ended(within=10)  # the response ended, not the connection cut
            log = await stopping
    assert "Application shutdown complete" in log
    assert "timeout graceful shutdown exceeded" not in log


@postgres_only
async def test_a_write_on_one_instance_reaches_a_stream_on_another(
    database_url: str, tmp_path: Path, user_id: str
) -> None:
    delays = []
    with server(database_url, tmp_path) as first, server(database_url, tmp_path) as second:
        async with (
            events(first.url, user_id) as stream,
            httpx.AsyncClient(base_url=second.url, headers=auth(user_id)) as rest,
        ):
            await asyncio.sleep(0.5)  # the listener of a freshly started instance is up
            for n in range(20):
                response = await rest.post(f"/api/{user_id}/tasks", json={"title": f"t{n}"})
                written = time.monotonic()
                event = await stream.next(within=2)
                delays.append(time.monotonic() - written)
                assert json.loads(event.data)["id"] == response.json()["id"]
    assert max(delays) < 1.0, delays
    print(
        f"cross-instance delivery: p50 {median(delays) * 1000:.1f} ms, "
        f"max {max(delays) * 1000:.1f} ms"
    )


@pytest.mark.parametrize("pause", [0.0])
async def test_reminders_arrive_as_events_once(
    database_url: str, tmp_path: Path, user_id: str, pause: float
) -> None:
    with server(database_url, tmp_path, REMINDER_INTERVAL_SECONDS="0.2") as api:
        async with (
            httpx.AsyncClient(base_url=api.url, headers=auth(user_id)) as rest,
            events(api.url, user_id) as stream,
        ):
            remind_at = time.time() + 1.5
            body = {"title": "call mum", "remind_at": _iso(remind_at)}
            task = (await rest.post(f"/api/{user_id}/tasks", json=body)).json()
            assert (await stream.next()).event == "task.created"
            reminder = await stream.next(within=10)
            arrived = time.time()
            with pytest.raises(TimeoutError):
                await stream.next(within=1.5)  # once only
            stored = (await rest.get(f"/api/{user_id}/tasks/{task['id']}")).json()
    assert reminder.event == "reminder.due"
    assert json.loads(reminder.data)["id"] == task["id"]
    assert 0 <= arrived - remind_at < 5
    assert stored["reminded_at"] is not None


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + (
        f".{int(timestamp % 1 * 1000):03d}Z"
    )


@postgres_only
async def test_streams_recover_when_the_listen_connection_is_killed(
    database_url: str, tmp_path: Path, user_id: str
) -> None:
    env = {"EVENTS_HEARTBEAT_SECONDS": "1"}
    with server(database_url, tmp_path, **env) as first, server(database_url, tmp_path) as second:
        async with (
            events(first.url, user_id) as stream,
            httpx.AsyncClient(base_url=second.url, headers=auth(user_id)) as rest,
        ):
            await asyncio.sleep(0.5)
            killed = await fetch_value(
                database_url,
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'todo-api live events' "
                "AND datname = current_database()",  # not other test workers' servers
            )
            task = (await rest.post(f"/api/{user_id}/tasks", json={"title": "after"})).json()
            event = await _skipping_comments(stream, within=5)
    assert killed == 2  # each instance's own LISTEN connection
    assert json.loads(event.data)["id"] == task["id"]


async def _skipping_comments(stream: EventReader, within: float) -> Event:
    async with asyncio.timeout(within):
        while True:
            event = await stream.next(within=within)
            if event.event != "message":
                return event


# SQLite: PostgreSQL's NOTIFY reaches every process (the cross-instance test above).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_streams_see_writes_served_by_another_worker_process(
    database_url: str, tmp_path: Path, user_id: str
) -> None:
    env = {"EVENTS_HEARTBEAT_SECONDS": "1"}
    with server(database_url, tmp_path, "--workers", "2", **env) as api:
        async with (
            events(api.url, user_id) as stream,
            httpx.AsyncClient(base_url=api.url, headers=auth(user_id)) as rest,
        ):
            # New connections: the kernel spreads them over both workers.
            written = set()
            for n in range(6):
                async with httpx.AsyncClient(base_url=api.url, headers=auth(user_id)) as one:
                    response = await one.post(f"/api/{user_id}/tasks", json={"title": f"t{n}"})
                    written.add(response.json()["id"])
            seen: set[int] = set()
            async with asyncio.timeout(10):
                while seen != written:
                    event = await _skipping_comments(stream, within=10)
                    seen.add(json.loads(event.data)["id"])
            assert rest.is_closed is False
    assert seen == written
