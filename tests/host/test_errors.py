"""Every error is problem JSON (WIRE.md §5); success JSON is application/json."""

from __future__ import annotations

import io
import json
import logging

import pytest

from plugin_host import AiohttpClient, HostClient
from reference_host.app import create_app
from reference_host.request_id import RequestIdLogFilter
from reference_host.settings import HostSettings
from signing import host_of, signed_headers

PROBLEM = "application/problem+json"
PROBS = "https://api.backend.ai/probs/"


async def test_unknown_path_is_url_not_found(client: HostClient) -> None:
    async with client.get("/v2/nowhere") as response:
        assert (response.status, response.content_type) == (404, PROBLEM)
        body = await response.json(content_type=None)
    assert body["type"] == PROBS + "url-not-found"
    assert body["title"] == "Unknown URL path"
    assert body["error_code"]


async def test_unknown_path_is_not_found_even_without_credentials_on_default_auth(
    client: HostClient,
) -> None:
    async with client.post("/probe/does-not-exist") as response:
        assert response.status == 404


async def test_wrong_method_is_method_not_allowed_with_allow_header(client: HostClient) -> None:
    async with client.delete("/probe/anonymous") as response:
        assert (response.status, response.content_type) == (405, PROBLEM)
        body = await response.json(content_type=None)
        assert "GET" in response.headers["Allow"]
    assert (body["type"], body["title"]) == (PROBS + "method-not-allowed", "Method not allowed")


@pytest.mark.parametrize(
    "payload",
    [b"{not json", b"", b"   ", b"NaN", b'{"x": Infinity}', b'{"x": "\xff"}'],
    ids=["syntax", "empty", "blank", "nan", "infinity", "invalid-utf8"],
)
async def test_malformed_json_body_is_generic_bad_request(
    client: HostClient, payload: bytes
) -> None:
    async with client.post(
        "/probe/echo", data=payload, headers={"Content-Type": "application/json"}
    ) as response:
        assert (response.status, response.content_type) == (400, PROBLEM)
        body = await response.json(content_type=None)
    assert (body["type"], body["title"]) == (
        PROBS + "generic-bad-request",
        "Malformed request body",
    )


async def test_valid_json_body_round_trips_as_application_json(client: HostClient) -> None:
    async with client.post("/probe/echo", json={"a": [1, 2.5, None]}) as response:
        assert (response.status, response.content_type) == (200, "application/json")
        assert await response.json() == {"received": {"a": [1, 2.5, None]}}


async def test_oversized_body_is_request_entity_too_large(client: HostClient) -> None:
    payload = b'"' + b"x" * (2 * 1024 * 1024) + b'"'
    async with client.post("/probe/echo", data=io.BytesIO(payload)) as response:
        assert (response.status, response.content_type) == (413, PROBLEM)
        body = await response.json(content_type=None)
    assert body["type"] == PROBS + "request-entity-too-large"


async def test_uncaught_exception_is_opaque_500_and_logged_with_request_id(
    client: HostClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdLogFilter())
    with caplog.at_level(logging.ERROR, logger="reference_host"):
        async with client.get("/probe/explode", headers={"X-Request-ID": "req-500"}) as response:
            assert (response.status, response.content_type) == (500, PROBLEM)
            assert response.headers["X-Request-ID"] == "req-500"
            text = await response.text()
    assert json.loads(text) == {
        "type": PROBS + "internal-server-error",
        "title": "Internal server error",
        "error_code": "api_request_internal-error",
    }
    assert "secret-token-123" not in text and "Traceback" not in text
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.exc_info is not None
    assert "secret-token-123" in str(record.exc_info[1])
    assert "req-500" in record.getMessage()
    assert getattr(record, "request_id", None) == "req-500"  # through RequestIdLogFilter


async def test_missing_api_version_is_accepted(client: HostClient) -> None:
    async with client.get("/probe/anonymous") as response:
        assert response.status == 200


@pytest.mark.parametrize("version", ["v4.20181214", "v9.20250723", "v10.20250101", "9.20250722"])
async def test_api_version_outside_range_is_rejected(client: HostClient, version: str) -> None:
    async with client.get("/probe/anonymous", headers={"X-BackendAI-Version": version}) as response:
        assert response.status == 400
        body = await response.json(content_type=None)
    assert (body["type"], body["title"]) == (
        PROBS + "generic-bad-request",
        "Unsupported API version.",
    )


class TestRequestId:
    async def test_given_request_id_is_echoed(self, client: HostClient) -> None:
        async with client.get("/probe/anonymous", headers={"X-Request-ID": "abc-123"}) as response:
            assert response.headers["X-Request-ID"] == "abc-123"

    async def test_missing_request_id_is_generated(self, client: HostClient) -> None:
        async with (
            client.get("/probe/anonymous") as first,
            client.get("/probe/anonymous") as second,
        ):
            assert len(first.headers["X-Request-ID"]) == 32
            assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]

    async def test_request_id_with_unsafe_characters_is_replaced(self, client: HostClient) -> None:
        async with client.get(
            "/probe/anonymous", headers={"X-Request-ID": "evil id\twith spaces"}
        ) as response:
            assert response.headers["X-Request-ID"] != "evil id\twith spaces"

    async def test_error_responses_carry_the_request_id(self, client: HostClient) -> None:
        async with client.get("/nowhere", headers={"X-Request-ID": "r-404"}) as response:
            assert (response.status, response.headers["X-Request-ID"]) == (404, "r-404")


async def test_an_unreachable_database_answers_503_problem_json_not_500(
    aiohttp_client: AiohttpClient,
) -> None:
    # Nothing listens on port 1: authenticating the keypair needs the database and cannot.
    app = create_app(HostSettings(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none"))
    client = await aiohttp_client(app)
    path = "/v2/app-config/my/get"
    headers = signed_headers("POST", path, "AKIAIOSFODNN7EXAMPLE", "secret", host_of(client))
    response = await client.post(path, json={"config_names": ["theme"]}, headers=headers)

    assert response.status == 503
    assert response.content_type == "application/problem+json"
    body = await response.json()
    assert body["type"] == "https://api.backend.ai/probs/service-unavailable"
    assert body["title"] == "Service unavailable"
    assert "Traceback" not in await response.text()
