"""Merged reads (the hot path): the merged JSON bytes are spliced into the response as is."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import orjson
from aiohttp import web

from reference_host.contract import current_caller
from scoped_app_config.api.from_wire import actor_of
from scoped_app_config.api.keys import services_of
from scoped_app_config.api.openapi import build_openapi
from scoped_app_config.api.problems import parse_body
from scoped_app_config.api.schemas.app_config import AdminGetAppConfigsInput, GetAppConfigsInput
from scoped_app_config.services.merged_configs import MergedConfig


@functools.lru_cache(maxsize=4096)  # names are registered definitions: a bounded set
def _item_prefix(config_name: str) -> bytes:
    return b'{"config_name":' + orjson.dumps(config_name) + b',"config":'


def merged_response(configs: Sequence[MergedConfig]) -> web.Response:
    """`{"app_configs": [{"config_name": ..., "config": ...}]}` without re-encoding configs."""
    # One join: the configs are most of the body, and each concatenation would copy them again.
    parts = [b'{"app_configs":[']
    for config in configs:
        parts += (_item_prefix(config.config_name), config.config_json, b"},")
    if configs:
        parts[-1] = b"}"
    parts.append(b"]}")
    return web.Response(body=b"".join(parts), content_type="application/json")


async def get_my_app_configs(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, GetAppConfigsInput, services.config.max_body_bytes)
    actor = actor_of(current_caller(request))
    configs = await services.merged_configs.get_for_actor(
        actor, body.config_names, strict=body.strict
    )
    return merged_response(configs)


async def get_public_app_configs(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, GetAppConfigsInput, services.config.max_body_bytes)
    return merged_response(
        await services.merged_configs.get_public(body.config_names, strict=body.strict)
    )


async def get_user_app_configs(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    body = await parse_body(request, AdminGetAppConfigsInput, services.config.max_body_bytes)
    actor = actor_of(current_caller(request))
    configs = await services.merged_configs.get_for_user(
        actor, body.user_id, body.config_names, strict=body.strict
    )
    return merged_response(configs)


@functools.cache
def _openapi_body() -> bytes:
    return orjson.dumps(build_openapi())


async def get_openapi_document(request: web.Request) -> web.StreamResponse:
    return web.Response(body=_openapi_body(), content_type="application/json")
