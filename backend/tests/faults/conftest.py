"""Fault tests: a PostgreSQL of their own that they stop and start, and real server processes."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.faults.cluster import Cluster
from todo_api.db import migrate


def cluster_directory() -> Path:
    # Not pytest's tmp_path: its parents are private to root, and PostgreSQL runs as postgres.
    return Path(tempfile.mkdtemp(prefix="todo-api-pg-"))


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    directory = cluster_directory()
    server = Cluster(directory)
    server.start()
    migrate.upgrade(make_settings(server.url()))
    yield server
    server.stop("immediate")
    shutil.rmtree(directory, ignore_errors=True)
