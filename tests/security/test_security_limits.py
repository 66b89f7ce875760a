"""Limits (issue 6, point 2): body size (413), document depth and size, names and items per
request (400 naming the limit), all configurable through
`HostSettings.plugin_config={"scoped_app_config": {...}}`.

The 413 tests talk HTTP/1.1 over a raw socket, so they control exactly how much of the body has
been sent when the answer arrives.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Final

import pytest
from security_support import (
    Caller,
    Reply,
    assert_problem,
    callers_for,
    reply_of,
    reseed_world,
    scope,
)
from sqlalchemy.ext.asyncio import AsyncEngine

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    Accounts,
    HostClient,
    MakeClient,
)
from scoped_app_config.plugin_config import PluginConfig

UPSERT: Final = "/v2/app-config-fragments/scoped/bulk-upsert"
MY_GET: Final = "/v2/app-config/my/get"
ANSWER_TIMEOUT: Final = 2.0

SMALL_LIMITS: Final = {
    "max_body_bytes": 4096,
    "max_depth": 3,
    "max_fragment_bytes": 256,
    "max_names_per_request": 3,
    "max_items_per_request": 2,
}


async def _raw_exchange(
    client: HostClient, caller: Caller, path: str, head_extra: dict[str, str], chunks: list[bytes]
) -> Reply:
    """Send the request head and `chunks` (nothing more), then read one answer."""
    assert client.server.host is not None and client.server.port is not None
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        headers = {
            **caller.headers("POST", path),
            "Host": f"{client.server.host}:{client.server.port}",
            **head_extra,
        }
        head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode("latin-1") + b"\r\n")
        for chunk in chunks:
            writer.write(chunk)
        await writer.drain()
        return await asyncio.wait_for(_read_answer(reader), ANSWER_TIMEOUT)
    finally:
        writer.close()


async def _read_answer(reader: asyncio.StreamReader) -> Reply:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    content_type = headers.get("content-type", "").split(";")[0].strip()
    return await reply_of(status, content_type, body)


@pytest.fixture
async def small_limits(
    make_client: MakeClient, accounts: Accounts, db_engine: AsyncEngine
) -> HostClient:
    await reseed_world(db_engine, accounts)
    return await make_client(plugin_config=SMALL_LIMITS)


async def test_a_declared_length_over_the_limit_is_refused_with_413_before_the_body_arrives(
    small_limits: HostClient, accounts: Accounts
) -> None:
    superadmin = callers_for(small_limits, accounts).superadmin
    reply = await _raw_exchange(
        small_limits,
        superadmin,
        UPSERT,
        {"Content-Length": str(50 * 1024 * 1024)},
        [b'{"scope": {"scope_type": "public"}, "items": ['],  # 50 MiB announced, 46 bytes sent
    )

    body = assert_problem(reply, 413, "request-entity-too-large")
    assert "4096" in body["msg"]


async def test_the_default_body_limit_refuses_a_declared_two_mebibytes_with_413(
    make_client: MakeClient, accounts: Accounts
) -> None:
    client = await make_client()
    reply = await _raw_exchange(
        client,
        callers_for(client, accounts).user,
        MY_GET,
        {"Content-Length": str(2 * 1024 * 1024)},
        [b'{"config_names": ['],
    )

    assert_problem(reply, 413, "request-entity-too-large")


async def test_a_chunked_body_over_the_limit_is_refused_with_413(
    small_limits: HostClient, accounts: Accounts
) -> None:
    superadmin = callers_for(small_limits, accounts).superadmin
    payload = json.dumps({"config_names": ["x" * 100] * 100}).encode()  # ~10 KB > 4096
    chunks = [b"%x\r\n%s\r\n" % (len(payload), payload), b"0\r\n\r\n"]
    reply = await _raw_exchange(
        small_limits, superadmin, MY_GET, {"Transfer-Encoding": "chunked"}, chunks
    )

    assert_problem(reply, 413, "request-entity-too-large")


async def test_a_chunked_body_over_the_limit_is_refused_before_it_is_read_whole(
    small_limits: HostClient, accounts: Accounts
) -> None:
    superadmin = callers_for(small_limits, accounts).superadmin
    first = b'{"config_names": [' + b'"xxxxxxxxxx",' * 800  # 10 KB > 4096, body unfinished
    reply = await _raw_exchange(
        small_limits,
        superadmin,
        MY_GET,
        {"Transfer-Encoding": "chunked"},
        [b"%x\r\n%s\r\n" % (len(first), first)],
    )

    assert_problem(reply, 413, "request-entity-too-large")


async def test_a_body_limit_configured_above_one_mebibyte_admits_a_two_mebibyte_body(
    make_client: MakeClient, accounts: Accounts, db_engine: AsyncEngine
) -> None:
    await reseed_world(db_engine, accounts)
    client = await make_client(plugin_config={"max_body_bytes": 8 * 1024 * 1024})
    user = callers_for(client, accounts).user
    padding = " " * (2 * 1024 * 1024)
    reply = await user.send("POST", MY_GET, b'{"config_names": ["theme"]}' + padding.encode())

    assert reply.status == 200, reply


def _nested(depth: int) -> dict[str, Any]:
    document: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        document = {"d": document}
    return document


async def test_a_config_deeper_than_the_configured_depth_is_a_400_naming_the_limit(
    small_limits: HostClient, accounts: Accounts
) -> None:
    domain_admin = callers_for(small_limits, accounts).domain_admin
    target = scope("domain", accounts.domain_a)

    at_limit = await domain_admin.post(
        UPSERT, {"scope": target, "items": [{"config_name": "theme", "config": _nested(3)}]}
    )
    over = await domain_admin.post(
        UPSERT, {"scope": target, "items": [{"config_name": "theme", "config": _nested(4)}]}
    )

    assert at_limit.status == 200, at_limit
    body = assert_problem(over, 400, "generic-bad-request")
    assert body["error_code"] == "app_config_request_limit_exceeded"
    assert "depth 4 exceeds the limit of 3" in body["msg"]


async def test_a_config_larger_than_the_configured_size_is_a_400_naming_the_limit(
    small_limits: HostClient, accounts: Accounts
) -> None:
    domain_admin = callers_for(small_limits, accounts).domain_admin
    target = scope("domain", accounts.domain_a)
    over = await domain_admin.post(
        UPSERT, {"scope": target, "items": [{"config_name": "theme", "config": {"v": "x" * 300}}]}
    )

    body = assert_problem(over, 400, "generic-bad-request")
    assert "exceeds the limit of 256 bytes" in body["msg"]


async def test_more_items_than_configured_is_a_400_naming_the_limit(
    small_limits: HostClient, accounts: Accounts
) -> None:
    user = callers_for(small_limits, accounts).user
    items = [{"config_name": f"n{i}", "config": {}} for i in range(3)]
    over = await user.post("/v2/app-config-fragments/my/bulk-upsert", {"items": items})
    ids = [str(accounts.domain_a)] * 3
    delete_over = await user.post("/v2/app-config-fragments/bulk-delete", {"ids": ids})

    for reply in (over, delete_over):
        body = assert_problem(reply, 400, "generic-bad-request")
        assert "3 items exceed the limit of 2 items per request" in body["msg"]


async def test_more_names_than_configured_is_a_400_naming_the_limit(
    small_limits: HostClient, accounts: Accounts
) -> None:
    callers = callers_for(small_limits, accounts)
    names = {"config_names": ["theme", "menu", "a", "b"]}
    for caller, path in (
        (callers.user, MY_GET),
        (callers.anonymous, "/v2/app-config/public/get"),
        (callers.user, "/v2/app-config-fragments/my/by-names"),
    ):
        body = assert_problem(await caller.post(path, names), 400, "generic-bad-request")
        assert "4 config names exceed the limit of 3 names per request" in body["msg"]
    at_limit = await callers.user.post(MY_GET, {"config_names": ["theme", "menu", "a"]})
    assert at_limit.status == 200, at_limit


async def test_the_default_limits_are_the_documented_ones() -> None:
    defaults = PluginConfig()
    assert (
        defaults.max_body_bytes,
        defaults.max_depth,
        defaults.max_fragment_bytes,
        defaults.max_names_per_request,
        defaults.max_items_per_request,
    ) == (1024 * 1024, 32, 256 * 1024, 100, 100)


async def test_a_limit_below_its_floor_is_refused_at_start_up(make_client: MakeClient) -> None:
    with pytest.raises(Exception, match="max_body_bytes"):
        await make_client(plugin_config={"max_body_bytes": 10})
