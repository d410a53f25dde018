"""Random interleaved operations by several users against a model of what each should see:
the API and the model never disagree (Hypothesis stateful testing, real server and database)."""

import os
from collections import Counter
from dataclasses import dataclass, field
from uuid import uuid4

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import hs256_token
from tests.faults.server import Server

USERS = ("ana", "ben", "cy")
titles = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40
).filter(lambda text: text.strip())
tag_lists = st.lists(st.sampled_from(["work", "home", "x"]), max_size=3)


@dataclass
class Expected:
    title: str
    completed: bool
    tags: list[str] = field(default_factory=list)


def machine_for(base_url: str) -> type[RuleBasedStateMachine]:
    class TasksMachine(RuleBasedStateMachine):
        tasks = Bundle("tasks")

        def __init__(self) -> None:
            super().__init__()
            run = uuid4().hex[:8]  # fresh users for every run: nothing left over from the last
            self.users = {name: f"{name}-{run}" for name in USERS}
            self.model: dict[str, dict[int, Expected]] = {user: {} for user in self.users.values()}
            self.http = httpx.Client(base_url=base_url, timeout=30)

        def call(self, method: str, user: str, path: str = "", **kwargs: object) -> httpx.Response:
            headers = {"Authorization": f"Bearer {hs256_token(user, lifetime=3600)}"}
            return self.http.request(method, f"/api/{user}/tasks{path}", headers=headers, **kwargs)  # type: ignore[arg-type]

        def owner_of(self, task_id: int) -> str | None:
            return next((user for user, tasks in self.model.items() if task_id in tasks), None)

        @rule(
            target=tasks,
            name=st.sampled_from(USERS),
            title=titles,
            tags=tag_lists,
            done=st.booleans(),
        )
        def create(self, name: str, title: str, tags: list[str], done: bool) -> int:
            user = self.users[name]
            response = self.call(
                "POST", user, json={"title": title, "tags": tags, "completed": done}
            )
            assert response.status_code == 201, response.text
            task_id = int(response.json()["id"])
            self.model[user][task_id] = Expected(title.strip(), done, list(dict.fromkeys(tags)))
            return task_id

        @rule(name=st.sampled_from(USERS), task_id=tasks, title=titles)
        def rename(self, name: str, task_id: int, title: str) -> None:
            user = self.users[name]
            response = self.call("PUT", user, f"/{task_id}", json={"title": title})
            self.expect(user, task_id, response)
            if response.status_code == 200:
                self.model[user][task_id].title = title.strip()

        @rule(name=st.sampled_from(USERS), task_id=tasks)
        def toggle(self, name: str, task_id: int) -> None:
            user = self.users[name]
            response = self.call("PATCH", user, f"/{task_id}/complete")
            self.expect(user, task_id, response)
            if response.status_code == 200:
                self.model[user][task_id].completed = not self.model[user][task_id].completed

        @rule(name=st.sampled_from(USERS), task_id=tasks)
        def delete(self, name: str, task_id: int) -> None:
            user = self.users[name]
            response = self.call("DELETE", user, f"/{task_id}")
            self.expect(user, task_id, response, success=204)
            if response.status_code == 204:
                del self.model[user][task_id]

        @rule(name=st.sampled_from(USERS), task_id=tasks)
        def read(self, name: str, task_id: int) -> None:
            user = self.users[name]
            response = self.call("GET", user, f"/{task_id}")
            self.expect(user, task_id, response)
            if response.status_code == 200:
                expected = self.model[user][task_id]
                body = response.json()
                assert (body["title"], body["completed"], body["tags"]) == (
                    expected.title,
                    expected.completed,
                    expected.tags,
                )

        def expect(
            self, user: str, task_id: int, response: httpx.Response, success: int = 200
        ) -> None:
            """Only the owner reaches a task; for anyone else it does not exist."""
            mine = self.owner_of(task_id) == user
            assert response.status_code == (success if mine else 404), response.text

        @invariant()
        def every_list_matches_the_model(self) -> None:
            for user, expected in self.model.items():
                response = self.call(
                    "GET", user, params={"limit": 500, "sort": "created", "order": "asc"}
                )
                listed = {
                    t["id"]: Expected(t["title"], t["completed"], t["tags"])
                    for t in response.json()
                }
                assert listed == expected
                assert int(response.headers["x-total-count"]) == len(expected)
                pending = self.call("GET", user, params={"status": "pending"})
                assert int(pending.headers["x-total-count"]) == sum(
                    not t.completed for t in expected.values()
                )
                counts = self.http.get(
                    f"/api/{user}/tags", headers={"Authorization": f"Bearer {hs256_token(user)}"}
                ).json()
                assert {c["tag"]: c["count"] for c in counts} == Counter(
                    tag for task in expected.values() for tag in task.tags
                )

        def teardown(self) -> None:
            self.http.close()

    return TasksMachine


def test_api_and_model_never_disagree(api_server: Server) -> None:
    run_state_machine_as_test(
        machine_for(api_server.base_url),
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            database=None,
            # CI replays the same examples every run, so a landing never hinges on luck;
            # local runs explore new ones.
            derandomize=bool(os.environ.get("CI")),
            suppress_health_check=list(HealthCheck),
        ),
    )
