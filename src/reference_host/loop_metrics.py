"""Counters, gauges and histograms updated from one event loop, exported by a registry collector.

prometheus_client takes a lock on every update (~0.25 us per `inc`, ~0.6 us per `observe`),
so that metrics may be updated from any thread. A host worker updates its request and layer
metrics only from its event loop's thread, several times per request: here an update is a
plain addition, and the values reach the registry when it is scraped (`FamiliesCollector`), in
the exposition prometheus_client's own metric types produce (`_total` counters, cumulative
`_bucket`s with `le` labels, `_sum`, `_count`). Never update these from another thread.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar

from prometheus_client import Histogram as PrometheusHistogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

DEFAULT_BUCKETS: tuple[float, ...] = tuple(
    bound for bound in PrometheusHistogram.DEFAULT_BUCKETS if bound != float("inf")
)


class Counter:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class Gauge:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount


class Histogram:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        # bisect_left: the first bound >= value, as `le` (less than or equal) means.
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value


M = TypeVar("M", Counter, Gauge, Histogram)


class Family(Generic[M]):
    """One metric name: a child per label values, created on first use (`labels`)."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.children: dict[tuple[str, ...], M] = {}

    def _new_child(self) -> M:
        raise NotImplementedError

    def labels(self, *values: str) -> M:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = self._new_child()
        return child

    def export(self) -> Metric:
        raise NotImplementedError


def _export_values(
    metric: CounterMetricFamily | GaugeMetricFamily, family: Family[Counter] | Family[Gauge]
) -> Metric:
    for values, child in family.children.items():
        metric.add_metric(list(values), child.value)
    return metric


class CounterFamily(Family[Counter]):
    def _new_child(self) -> Counter:
        return Counter()

    def export(self) -> Metric:
        return _export_values(
            CounterMetricFamily(self.name, self.documentation, labels=self.labelnames), self
        )


class GaugeFamily(Family[Gauge]):
    def _new_child(self) -> Gauge:
        return Gauge()

    def export(self) -> Metric:
        return _export_values(
            GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames), self
        )


class HistogramFamily(Family[Histogram]):
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        bounds: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(name, documentation, labelnames)
        self.bounds = tuple(sorted(bounds))

    def _new_child(self) -> Histogram:
        return Histogram(self.bounds)

    def export(self) -> Metric:
        metric = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        les = [_le(bound) for bound in (*self.bounds, float("inf"))]
        for values, child in self.children.items():
            cumulative, buckets = 0, []
            for le, count in zip(les, child.counts, strict=True):
                cumulative += count
                buckets.append((le, float(cumulative)))
            metric.add_metric(list(values), buckets, child.sum)
        return metric


def _le(bound: float) -> str:
    """The `le` label of a bucket bound, as prometheus_client writes it ("0.005", "+Inf")."""
    return str(floatToGoString(bound))  # type: ignore[no-untyped-call]


class FamiliesCollector(Collector):
    """Exports families when the registry is scraped."""

    def __init__(self, families: Iterable[Family[Counter] | Family[Gauge] | Family[Histogram]]):
        self._families = tuple(families)

    def collect(self) -> Iterator[Metric]:
        for family in self._families:
            yield family.export()
