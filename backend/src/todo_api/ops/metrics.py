"""Prometheus metrics: requests by route and status, latency, pool use, database errors.

Each app owns its registry (tests build their own). With several workers each process
reports its own figures.
"""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from todo_api.db.executor import Database

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "todo_api_requests",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "todo_api_request_duration_seconds",
            "Time to the end of the response, by route template and method.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.database_errors = Counter(
            "todo_api_database_errors",
            "Requests answered 503 because the database was unavailable.",
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._pool = _PoolCollector()
        self.registry.register(self._pool)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request; the labelled children are looked up once per label set."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def watch_database(self, database: Database | None) -> None:
        self._pool.database = database


class _PoolCollector(Collector):
    """Reads the pool's state when scraped, so requests pay nothing for it."""

    def __init__(self) -> None:
        self.database: Database | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = self.database.pool_state() if self.database is not None else None
        if state is None:
            return
        in_use = GaugeMetricFamily("todo_api_db_pool_in_use", "Connections checked out.")
        in_use.add_metric([], state.in_use)
        idle = GaugeMetricFamily("todo_api_db_pool_idle", "Connections idle in the pool.")
        idle.add_metric([], state.idle)
        size = GaugeMetricFamily("todo_api_db_pool_size", "Configured pool size.")
        size.add_metric([], state.size)
        yield from (in_use, idle, size)
