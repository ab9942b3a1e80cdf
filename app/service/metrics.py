"""`GET /metrics` (SPEC 1): Prometheus text format, one registry per app (never the process-wide
default one, so two apps in one process, as in the tests, count apart)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Handlers wait on GitHub: from a few milliseconds to a minute of rate-limit wait.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _GitHubCollector(Collector):
    """Read from the GitHub client at scrape time; the client exists only once the app runs."""

    def __init__(self) -> None:
        self.source: Callable[[], tuple[int, int | None]] | None = None

    def collect(self) -> Iterator[Metric]:
        requests, remaining = self.source() if self.source else (0, None)
        yield CounterMetricFamily(
            "baton_github_requests", "HTTP requests sent to GitHub's API", value=requests
        )
        gauge = GaugeMetricFamily(
            "baton_github_rate_limit_remaining",
            "x-ratelimit-remaining of the latest GitHub response (absent before the first)",
        )
        if remaining is not None:
            gauge.add_metric([], remaining)
        yield gauge


class Metrics:
    def __init__(self, depth: Callable[[], int], dead_letters: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.accepted = Counter(
            "baton_deliveries_accepted", "Deliveries stored and answered 202", ["event"],
            registry=r,
        )  # fmt: skip
        self.handled = Counter("baton_deliveries_handled", "Deliveries handled", registry=r)
        self.retried = Counter(
            "baton_deliveries_retried", "Failed or rate-limited tries put back", registry=r
        )
        self.dead = Counter("baton_deliveries_dead", "Deliveries out of tries", registry=r)
        # Kept counts: a scrape costs the same whatever the backlog.
        Gauge("baton_queue_depth", "Deliveries waiting", registry=r).set_function(depth)
        Gauge("baton_dead_letters", "Dead letters kept", registry=r).set_function(dead_letters)
        self.handler_seconds = Histogram(
            "baton_handler_duration_seconds", "Time to handle one delivery, every try",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self._github = _GitHubCollector()
        r.register(self._github)

    def watch_github(self, source: Callable[[], tuple[int, int | None]]) -> None:
        """`source()` -> (requests sent, rate-limit remaining or None)."""
        self._github.source = source
