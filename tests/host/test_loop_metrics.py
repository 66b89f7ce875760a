"""The loop-local metric families expose exactly what prometheus_client's own metric types
expose for the same updates (minus the `_created` timestamps), so a scraper cannot tell."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from reference_host.loop_metrics import (
    CounterFamily,
    FamiliesCollector,
    GaugeFamily,
    HistogramFamily,
)

LABELS = st.sampled_from([("GET", "/a"), ("POST", "/a"), ("GET", "/b/{id}")])
UPDATES = st.lists(
    st.tuples(
        LABELS,
        st.floats(min_value=0, max_value=30, allow_nan=False),
        st.sampled_from(["inc", "dec"]),
    ),
    max_size=40,
)


def exposition(registry: CollectorRegistry) -> list[str]:
    return [
        line for line in generate_latest(registry).decode().splitlines() if "_created" not in line
    ]


@given(UPDATES)
def test_the_exposition_is_prometheus_clients_for_the_same_updates(
    updates: list[tuple[tuple[str, str], float, str]],
) -> None:
    reference, ours = CollectorRegistry(), CollectorRegistry()
    names = ["method", "route"]
    counter = Counter("t_requests", "Requests.", names, registry=reference)
    histogram = Histogram("t_seconds", "Time.", names, registry=reference)
    gauge = Gauge("t_in_flight", "Running.", names, registry=reference)
    counters = CounterFamily("t_requests", "Requests.", names)
    histograms = HistogramFamily("t_seconds", "Time.", names)
    gauges = GaugeFamily("t_in_flight", "Running.", names)
    ours.register(FamiliesCollector([counters, histograms, gauges]))

    for labels, value, direction in updates:
        counter.labels(*labels).inc(value)
        counters.labels(*labels).inc(value)
        histogram.labels(*labels).observe(value)
        histograms.labels(*labels).observe(value)
        if direction == "inc":
            gauge.labels(*labels).inc()
            gauges.labels(*labels).inc()
        else:
            gauge.labels(*labels).dec()
            gauges.labels(*labels).dec()

    assert exposition(ours) == exposition(reference)


def test_a_value_on_a_bucket_bound_is_counted_in_that_bucket() -> None:
    registry = CollectorRegistry()
    histograms = HistogramFamily("t_seconds", "Time.", [], bounds=[0.1, 1.0])
    registry.register(FamiliesCollector([histograms]))

    histograms.labels().observe(0.1)

    assert registry.get_sample_value("t_seconds_bucket", {"le": "0.1"}) == 1.0
    assert registry.get_sample_value("t_seconds_bucket", {"le": "+Inf"}) == 1.0


def test_labels_must_match_the_family() -> None:
    with pytest.raises(ValueError, match="takes labels"):
        CounterFamily("t_requests", "Requests.", ["method"]).labels("GET", "extra")
