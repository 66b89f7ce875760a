"""/metrics: the host registry's exposition, with request and layer metrics."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from plugin_host import HostClient
from reference_host.metrics import HostMetrics, UnknownLayerError


async def scrape(client: HostClient) -> str:
    async with client.get("/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return await response.text()


async def test_metrics_count_requests_by_route_pattern_not_raw_path(client: HostClient) -> None:
    for item in ("a", "b"):
        async with client.get(f"/probe/layered/{item}") as response:
            assert response.status == 200
    text = await scrape(client)
    assert (
        'reference_host_http_requests_total{method="GET",route="/probe/layered/{item}",'
        'status="200"} 2.0' in text
    )
    assert "/probe/layered/a" not in text
    assert "reference_host_http_request_duration_seconds_bucket" in text


async def test_metrics_label_unmatched_paths_with_a_fixed_route(client: HostClient) -> None:
    async with client.get("/random/path/123"):
        pass
    text = await scrape(client)
    assert 'route="unmatched",status="404"' in text
    assert "/random/path/123" not in text


async def test_metrics_expose_plugin_layer_operations(client: HostClient) -> None:
    async with client.get("/probe/layered/x") as response:
        assert await response.json() == {"greeting": "hello"}
    text = await scrape(client)
    assert (
        'reference_host_layer_operations_total{domain="probe",layer="probe_repository",'
        'operation="read",success="true"} 1.0' in text
    )
    assert "reference_host_layer_operation_duration_seconds_count" in text


class TestLayerMetrics:
    async def test_failure_is_counted_by_error_code(self) -> None:
        metrics = HostMetrics()
        metrics.layers.register_layers(["thing_repository"])

        class Missing(Exception):
            error_code = "thing_get_not-found"

        with pytest.raises(Missing):
            async with metrics.layers.observe(
                domain="d", layer="thing_repository", operation="get"
            ):
                raise Missing

        labels = {"domain": "d", "layer": "thing_repository", "operation": "get"}
        registry = metrics.registry
        assert (
            registry.get_sample_value(
                "reference_host_layer_errors_total", labels | {"error_code": "thing_get_not-found"}
            )
            == 1.0
        )
        assert (
            registry.get_sample_value(
                "reference_host_layer_operations_total", labels | {"success": "false"}
            )
            == 1.0
        )
        assert registry.get_sample_value("reference_host_layer_operations_in_flight", labels) == 0.0

    async def test_error_without_code_is_counted_by_class_name(self) -> None:
        metrics = HostMetrics()
        metrics.layers.register_layers(["thing_repository"])
        with pytest.raises(KeyError):
            async with metrics.layers.observe(
                domain="d", layer="thing_repository", operation="get"
            ):
                raise KeyError("k")
        assert (
            metrics.registry.get_sample_value(
                "reference_host_layer_errors_total",
                {
                    "domain": "d",
                    "layer": "thing_repository",
                    "operation": "get",
                    "error_code": "KeyError",
                },
            )
            == 1.0
        )

    async def test_unregistered_layer_label_raises(self) -> None:
        metrics = HostMetrics()
        with pytest.raises(UnknownLayerError):
            async with metrics.layers.observe(domain="d", layer="nope", operation="get"):
                pass
        with pytest.raises(UnknownLayerError):
            metrics.layers.count_retry(domain="d", layer="nope", operation="get")

    def test_retries_are_counted(self) -> None:
        metrics = HostMetrics()
        metrics.layers.register_layers(["thing_db_source"])
        metrics.layers.count_retry(domain="d", layer="thing_db_source", operation="upsert")
        assert (
            metrics.registry.get_sample_value(
                "reference_host_layer_retries_total",
                {"domain": "d", "layer": "thing_db_source", "operation": "upsert"},
            )
            == 1.0
        )

    def test_each_app_has_its_own_registry_not_the_global_one(self) -> None:
        first, second = HostMetrics(), HostMetrics()
        assert first.registry is not second.registry
        assert REGISTRY.get_sample_value("reference_host_http_requests_total") is None


async def test_requests_refused_by_auth_are_counted_too(client: HostClient) -> None:
    async with client.get("/probe/authenticated") as response:
        assert response.status == 401
    async with client.request("PROPFIND", "/probe/authenticated") as response:
        assert response.status == 405

    text = await scrape(client)
    assert 'method="GET",route="/probe/authenticated",status="401"} 1.0' in text
    # A client picks the method: unusual ones share one label value.
    assert 'method="other",route="unmatched",status="405"} 1.0' in text
    assert "PROPFIND" not in text
