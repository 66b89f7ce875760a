"""The host's Prometheus metrics: one registry per application, never the global one.

- HTTP requests: count by (method, route, status) and duration by (method, route), where
  `route` is the canonical route pattern (`/v2/app-config-fragments/{fragment_id}`), never the
  raw path, so label cardinality stays bounded.
- Layers (Backend.AI `LayerType` style, `contract.LayerMetrics`): operation count by
  (domain, layer, operation, success), duration, errors by `error_code`, in flight, retries.
  A layer label must be registered (by the host or a plugin's manifest) before it is used.

Both are updated several times per request, always from the worker's event loop: they are
`loop_metrics` families (plain additions, exported when the registry is scraped), not
prometheus_client's locked metric objects.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType

import attrs
from prometheus_client import CollectorRegistry

from reference_host.loop_metrics import (
    Counter,
    CounterFamily,
    FamiliesCollector,
    Gauge,
    GaugeFamily,
    Histogram,
    HistogramFamily,
)

UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"


class UnknownLayerError(LookupError):
    """A layer label was used without being registered."""


def error_code_of(exc: BaseException) -> str:
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, str) and code else type(exc).__name__


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = CounterFamily(
            "reference_host_http_requests",
            "HTTP requests served, by method, route pattern and status.",
            ["method", "route", "status"],
        )
        self._duration = HistogramFamily(
            "reference_host_http_request_duration_seconds",
            "HTTP request handling time, by method and route pattern.",
            ["method", "route"],
        )
        registry.register(FamiliesCollector([self._requests, self._duration]))

        # Labelled children, resolved once per label set (`labels()` costs more than `inc()`).
        self._counted: dict[tuple[str, str, int], Counter] = {}
        self._timed: dict[tuple[str, str], Histogram] = {}

    def record(self, *, method: str, route: str, status: int, seconds: float) -> None:
        if method not in KNOWN_METHODS:
            method = OTHER_METHOD  # a client picks the method: keep the label set bounded
        counted = self._counted.get((method, route, status))
        if counted is None:
            counted = self._requests.labels(method, route, str(status))
            self._counted[(method, route, status)] = counted
        timed = self._timed.get((method, route))
        if timed is None:
            timed = self._duration.labels(method, route)
            self._timed[(method, route)] = timed
        counted.inc()
        timed.observe(seconds)


@attrs.frozen
class _OperationSeries:
    labels: tuple[str, str, str]
    in_flight: Gauge
    duration: Histogram
    succeeded: Counter
    failed: Counter


class _Observation:
    """One observed operation: a plain class, as it wraps every cache and database call (a
    generator-based context manager costs several times more per use)."""

    __slots__ = ("_metrics", "_series", "_started")

    def __init__(self, metrics: HostLayerMetrics, series: _OperationSeries) -> None:
        self._metrics = metrics
        self._series = series
        self._started = 0.0

    async def __aenter__(self) -> None:
        self._series.in_flight.inc()
        self._started = time.perf_counter()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        series = self._series
        if exc is None:
            series.succeeded.inc()
        else:
            series.failed.inc()
            self._metrics._count_error(series, exc)
        series.in_flight.dec()
        series.duration.observe(time.perf_counter() - self._started)


class HostLayerMetrics:
    """`contract.LayerMetrics` over a host registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._layers: set[str] = set()
        self._series_by_operation: dict[tuple[str, str, str], _OperationSeries] = {}
        labels = ["domain", "layer", "operation"]
        self._operations = CounterFamily(
            "reference_host_layer_operations", "Layer operations, by outcome.", [*labels, "success"]
        )
        self._duration = HistogramFamily(
            "reference_host_layer_operation_duration_seconds", "Layer operation time.", labels
        )
        self._errors = CounterFamily(
            "reference_host_layer_errors",
            "Layer operation failures, by error code.",
            [*labels, "error_code"],
        )
        self._in_flight = GaugeFamily(
            "reference_host_layer_operations_in_flight",
            "Layer operations currently running.",
            labels,
        )
        self._retries = CounterFamily(
            "reference_host_layer_retries", "Layer operation retries.", labels
        )
        registry.register(
            FamiliesCollector(
                [self._operations, self._duration, self._errors, self._in_flight, self._retries]
            )
        )

    @property
    def layers(self) -> frozenset[str]:
        return frozenset(self._layers)

    def register_layers(self, labels: Iterable[str]) -> None:
        self._layers.update(labels)

    def _check(self, layer: str) -> None:
        if layer not in self._layers:
            raise UnknownLayerError(f"layer label {layer!r} is not registered")

    def _series(self, domain: str, layer: str, operation: str) -> _OperationSeries:
        """The labelled children of one operation, resolved once (label lookups are costly)."""
        key = (domain, layer, operation)
        series = self._series_by_operation.get(key)
        if series is None:
            self._check(layer)
            series = _OperationSeries(
                labels=key,
                in_flight=self._in_flight.labels(*key),
                duration=self._duration.labels(*key),
                succeeded=self._operations.labels(*key, "true"),
                failed=self._operations.labels(*key, "false"),
            )
            self._series_by_operation[key] = series
        return series

    def observe(self, *, domain: str, layer: str, operation: str) -> _Observation:
        return _Observation(self, self._series(domain, layer, operation))

    def _count_error(self, series: _OperationSeries, exc: BaseException) -> None:
        self._errors.labels(*series.labels, error_code_of(exc)).inc()

    def count_retry(self, *, domain: str, layer: str, operation: str) -> None:
        self._check(layer)
        self._retries.labels(domain, layer, operation).inc()


class HostMetrics:
    """Everything the host measures, on its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http = HttpMetrics(self.registry)
        self.layers = HostLayerMetrics(self.registry)
