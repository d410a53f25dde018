"""Start the project's real Better Auth server (Node) and get tokens from it as a frontend does."""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx

from tests.helpers import ensure_node_packages

HARNESS = Path(__file__).parent / "better_auth"


def ensure_installed() -> None:
    """`npm ci` the pinned better-auth once; without Node, skip (but never in CI)."""
    ensure_node_packages(HARNESS, "the Better Auth interop tests")


@dataclass
class SignedInUser:
    user_id: str
    token: str


class BetterAuthInstance:
    """One Better Auth server with its own key pair."""

    def __init__(self, *args: str) -> None:
        ensure_installed()
        self._process = subprocess.Popen(
            ["node", "server.mjs", *args],
            cwd=HARNESS,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        started = json.loads(self._process.stdout.readline())
        self.url: str = started["url"]
        self.version: str = started["version"]

    def sign_up(self) -> tuple[SignedInUser, httpx.Client]:
        """A new user signed in through the real endpoints; the client keeps its session cookie."""
        client = httpx.Client(base_url=self.url, headers={"Origin": self.url}, timeout=10)
        email = f"user-{uuid4().hex[:12]}@example.com"
        signed_up = client.post(
            "/api/auth/sign-up/email",
            json={"email": email, "password": "correct-horse-battery", "name": "Test"},
        )
        assert signed_up.status_code == 200, signed_up.text
        user_id = signed_up.json()["user"]["id"]
        return SignedInUser(user_id=user_id, token=self.token(client)), client

    def token(self, client: httpx.Client) -> str:
        """GET /api/auth/token, as authClient.token() does."""
        response = client.get("/api/auth/token")
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)
