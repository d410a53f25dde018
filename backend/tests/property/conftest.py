"""Property-based tests run against a real `todo-api serve` process on each database."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.server import Server


@pytest.fixture
def api_server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    # Generous limits: the fuzzer sends thousands of requests, signed and unsigned.
    server = Server(
        database_url,
        tmp_path,
        RATE_LIMIT_PER_MINUTE="1000000",
        RATE_LIMIT_ANONYMOUS_PER_MINUTE="1000000",
    )
    server.wait_ready()
    yield server
    server.stop()
