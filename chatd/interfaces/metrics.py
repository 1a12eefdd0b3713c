"""GET /metrics: this process's numbers in the Prometheus text format (prometheus-client).

Each process keeps a registry of its own and is scraped on its own: chatd's processes share
nothing but PostgreSQL and Redis, so there is no multiprocess mode to set up. Request latency is
a prometheus Histogram; everything counted on the delivery path stays a plain int where it is
counted and is read only when /metrics is scraped (ReadAtScrape).
"""

import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # any path no route knows: one label value, whatever was asked

Reading = Callable[[], float | Mapping[str, float]]


class PlainHistogram:
    """Latencies by one label, in plain ints: observe() is a bisect and two additions."""

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.bounds = bounds
        self.counts: defaultdict[str, list[int]] = defaultdict(lambda: [0] * (len(bounds) + 1))
        self.sums: defaultdict[str, float] = defaultdict(float)

    def observe(self, label: str, seconds: float) -> None:
        self.counts[label][bisect_left(self.bounds, seconds)] += 1
        self.sums[label] += seconds

    def family(self, name: str, doc: str, label: str) -> HistogramMetricFamily:
        family = HistogramMetricFamily(name, doc, labels=[label])
        for value, counts in list(self.counts.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*self.bounds, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
            family.add_metric([value], buckets, sum_value=self.sums[value])
        return family


# Client frames are answered in interfaces/ws.py, which has no app at hand: one per process.
WS_FRAME_SECONDS = PlainHistogram()


def timed_handlers(handlers: dict[str, Callable[..., Awaitable[Any]]]) -> dict[str, Any]:
    """The WebSocket frame handlers, each timed into WS_FRAME_SECONDS by frame type."""

    def timed(kind: str, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def handle(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return await handler(*args)
            finally:
                WS_FRAME_SECONDS.observe(kind, time.perf_counter() - started)

        return handle

    return {kind: timed(kind, handler) for kind, handler in handlers.items()}


class ReadAtScrape(Collector):
    """Counters and gauges whose values are read from the objects that keep them, per scrape."""

    def __init__(self) -> None:
        self._readings: list[tuple[type, str, str, str | None, Reading]] = []
        self._histograms: list[tuple[PlainHistogram, str, str, str]] = []

    def counter(self, name: str, doc: str, read: Reading, *, label: str | None = None) -> None:
        self._readings.append((CounterMetricFamily, name, doc, label, read))

    def gauge(self, name: str, doc: str, read: Reading, *, label: str | None = None) -> None:
        self._readings.append((GaugeMetricFamily, name, doc, label, read))

    def histogram(self, name: str, doc: str, histogram: PlainHistogram, *, label: str) -> None:
        self._histograms.append((histogram, name, doc, label))

    def collect(self) -> Iterator[Metric]:
        for family_type, name, doc, label, read in self._readings:
            family = family_type(name, doc, labels=[label] if label else None)
            value = read()
            if isinstance(value, Mapping):
                for key, number in sorted(value.items()):
                    family.add_metric([str(key)], number)
            else:
                family.add_metric([], value)
            yield family
        for histogram, name, doc, label in self._histograms:
            yield histogram.family(name, doc, label)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "chatd_http_request_duration_seconds",
            "HTTP requests by method, route and status (WebSocket sessions excluded)",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "chatd_http_requests_in_flight",
            "HTTP requests being answered (WebSocket sessions excluded)",
            registry=self.registry,
        )
        self.read_at_scrape = ReadAtScrape()
        self.registry.register(self.read_at_scrape)
        self.read_at_scrape.histogram(
            "chatd_ws_frame_duration_seconds",
            "WebSocket client frames, from parsed to answered, by type",
            WS_FRAME_SECONDS,
            label="type",
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
def http_metrics(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> Awaitable[web.StreamResponse]:
    route = route_of(request)
    if route == "/ws":  # a session, not a request: its frames are timed one by one
        # Handed on, not awaited: no frame of this middleware stays with every open socket.
        return handler(request)
    return _timed(request, handler, route)


async def _timed(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    route: str,
) -> web.StreamResponse:
    metrics, started, status = request.app[METRICS], time.perf_counter(), 500
    metrics.in_flight.inc()
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics.in_flight.dec()
        method = request.method if request.method in METHODS else "other"
        elapsed = time.perf_counter() - started
        metrics.requests.labels(method, route, str(status)).observe(elapsed)


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_metrics_route(app: web.Application) -> None:
    app[METRICS] = Metrics()
    app.router.add_get("/metrics", metrics)
