"""The composition root: builds sources, repositories and services from the host's context."""

from __future__ import annotations

from reference_host.contract import PluginContext
from scoped_app_config.api.keys import PluginServices
from scoped_app_config.merge import DocumentLimits
from scoped_app_config.metrics import CacheOutcomeMetrics
from scoped_app_config.plugin_config import PluginConfig
from scoped_app_config.repositories.allow_list.db_source import AppConfigAllowListDBSource
from scoped_app_config.repositories.allow_list.repository import AppConfigAllowListRepository
from scoped_app_config.repositories.base.db_source import create_session_factory
from scoped_app_config.repositories.definition.db_source import AppConfigDefinitionDBSource
from scoped_app_config.repositories.definition.repository import AppConfigDefinitionRepository
from scoped_app_config.repositories.fragment.cache_source import (
    AppConfigFragmentCacheSource,
    CacheGuard,
)
from scoped_app_config.repositories.fragment.cache_source.multiplexed import MultiplexedConnection
from scoped_app_config.repositories.fragment.cache_source.view_cache import GuardedViewCache
from scoped_app_config.repositories.fragment.db_source import AppConfigFragmentDBSource
from scoped_app_config.repositories.fragment.repository import AppConfigFragmentRepository
from scoped_app_config.services.access_policy import AccessPolicy
from scoped_app_config.services.fragments import FragmentService
from scoped_app_config.services.limits import RequestLimits
from scoped_app_config.services.merged_configs import MergedConfigService
from scoped_app_config.services.policy_admin import PolicyAdminService


def build_view_cache(context: PluginContext, config: PluginConfig) -> GuardedViewCache | None:
    if context.redis is None:
        return None
    guard = CacheGuard(
        timeout_seconds=config.cache_timeout_seconds,
        layer_metrics=context.layer_metrics,
        outcomes=CacheOutcomeMetrics(context.metrics_registry),
    )
    source = AppConfigFragmentCacheSource(
        context.redis,
        ttl_seconds=config.cache_ttl_seconds,
        multiplexed=MultiplexedConnection.for_client(context.redis),
    )
    return GuardedViewCache(source, guard)


def build_services(
    context: PluginContext, config: PluginConfig, view_cache: GuardedViewCache | None
) -> PluginServices:
    sessions = create_session_factory(context.engine)
    metrics = context.layer_metrics
    fragments = AppConfigFragmentRepository(
        AppConfigFragmentDBSource(sessions, metrics), context.accounts, metrics, view_cache
    )
    definitions = AppConfigDefinitionRepository(
        AppConfigDefinitionDBSource(sessions, metrics), metrics, view_cache
    )
    allow_list = AppConfigAllowListRepository(
        AppConfigAllowListDBSource(sessions, metrics), metrics, view_cache
    )
    limits = RequestLimits(
        document=DocumentLimits(max_depth=config.max_depth, max_bytes=config.max_fragment_bytes),
        max_names_per_request=config.max_names_per_request,
        max_items_per_request=config.max_items_per_request,
    )
    policy = AccessPolicy(context.accounts)
    return PluginServices(
        merged_configs=MergedConfigService(fragments, policy, limits),
        fragments=FragmentService(fragments, policy, limits),
        policy_admin=PolicyAdminService(definitions, allow_list),
        config=config,
    )
