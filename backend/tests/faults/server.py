"""Run `todo-api serve` as a real process, as production does."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET
from tests.faults.cluster import free_port
from tests.helpers import environment_without_settings


class Server:
    def __init__(self, database_url: str, cwd: Path, *, workers: int = 1, **settings: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # `settings` may override the URL (e.g. to add application_name).
        env = environment_without_settings(
            **{"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": TEST_SECRET, **settings}
        )
        env.setdefault("RATE_LIMIT_PER_MINUTE", "1000000")  # load tests measure faults, not limits
        command = [sys.executable, "-m", "todo_api.cli", "serve", "--port", str(self.port)]
        # A file, not a pipe: nobody reads a pipe while the test runs, and a full pipe would
        # block the server's logging, and with it the whole event loop.
        self._log = (cwd / f"server-{self.port}.log").open("w+b")
        self.process = subprocess.Popen(
            [*command, "--workers", str(workers), "--no-access-log"],
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if httpx.get(f"{self.base_url}/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server not ready: {self.stop()}")

    def stop(self) -> str:
        """SIGTERM, as an orchestrator sends; returns everything the server printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.output()

    def output(self) -> str:
        self.process.wait(timeout=30)
        self._log.seek(0)
        return self._log.read().decode(errors="replace")
