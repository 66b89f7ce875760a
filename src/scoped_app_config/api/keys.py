"""Typed application keys of the plugin's sub-applications."""

from __future__ import annotations

import attrs
from aiohttp import web

from scoped_app_config.plugin_config import PluginConfig
from scoped_app_config.services.fragments import FragmentService
from scoped_app_config.services.merged_configs import MergedConfigService
from scoped_app_config.services.policy_admin import PolicyAdminService


@attrs.frozen
class PluginServices:
    merged_configs: MergedConfigService
    fragments: FragmentService
    policy_admin: PolicyAdminService
    config: PluginConfig


SERVICES_KEY = web.AppKey("scoped_app_config.services", PluginServices)


def services_of(request: web.Request) -> PluginServices:
    # Every sub-application holds the services, and it is `request.app` in its handlers: a
    # plain lookup, where `config_dict` builds a chain of every application per call.
    return request.app[SERVICES_KEY]
