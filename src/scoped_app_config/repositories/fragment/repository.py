"""Fragment repository: the resilience-observed facade the services call.

It orchestrates three sources: the host's account directory (existence checks of search
scopes), the db_source, and the merged-view cache. Reads of merged views go cache first (the
service merges what misses); every write invalidates the generation of each changed
fragment's scope after its transaction committed and before it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reference_host.contract import AccountDirectory, LayerMetrics
from scoped_app_config.domain.errors import InvalidParameters
from scoped_app_config.domain.models import BulkPurgeResult, FragmentData, SearchResult
from scoped_app_config.domain.types import DomainId, FragmentId, ScopeRef, UserId
from scoped_app_config.query import SearchQuery
from scoped_app_config.repositories.base.resilience import (
    FRAGMENT_REPOSITORY_LAYER,
    repository_policy,
)
from scoped_app_config.repositories.fragment.cache_source import (
    CacheLookup,
    Viewer,
    fragment_generation_key,
)
from scoped_app_config.repositories.fragment.cache_source.view_cache import GuardedViewCache
from scoped_app_config.repositories.fragment.creators import FragmentBulkUpserter, FragmentCreator
from scoped_app_config.repositories.fragment.db_source import AppConfigFragmentDBSource
from scoped_app_config.repositories.fragment.purgers import FragmentBulkPurger, FragmentPurger
from scoped_app_config.repositories.fragment.types import FragmentSearchScope, ScopeSearchScope
from scoped_app_config.repositories.fragment.updaters import FragmentUpdater

_policy = repository_policy(FRAGMENT_REPOSITORY_LAYER)


class AppConfigFragmentRepository:
    def __init__(
        self,
        db_source: AppConfigFragmentDBSource,
        accounts: AccountDirectory,
        layer_metrics: LayerMetrics,
        view_cache: GuardedViewCache | None = None,
    ) -> None:
        self._db_source = db_source
        self._accounts = accounts
        self._layer_metrics = layer_metrics
        self._view_cache = view_cache

    async def _invalidate(self, fragments: Sequence[FragmentData]) -> None:
        if self._view_cache is not None and fragments:
            await self._view_cache.invalidate(
                [
                    fragment_generation_key(f.scope_type, f.scope_id, f.config_name)
                    for f in fragments
                ]
            )

    async def lookup_merged_views(
        self, viewer: Viewer, config_names: Sequence[str]
    ) -> CacheLookup | None:
        """Cached merged views, and what to store misses under; None when there is no cache
        (or it cannot be trusted right now): compute everything and store nothing."""
        if self._view_cache is None:
            return None
        return await self._view_cache.lookup(viewer, config_names)

    async def store_merged_views(self, lookup: CacheLookup, views: Mapping[str, bytes]) -> None:
        """Store views computed from rows read after `lookup` (never raises)."""
        if self._view_cache is not None:
            await self._view_cache.store(lookup, views)

    @property
    def layer_metrics(self) -> LayerMetrics:
        return self._layer_metrics

    @_policy
    async def create(self, creator: FragmentCreator) -> FragmentData:
        """Create with the next rank of its name (max + 100).

        Raises definition-not-found (unregistered name), WriteNotAllowed (no allow-list entry
        for the scope type) or Conflict (the scope already has a fragment of this name).
        """
        fragment = await self._db_source.create(creator)
        await self._invalidate([fragment])
        return fragment

    @_policy
    async def get_by_id(self, fragment_id: FragmentId) -> FragmentData:
        return await self._db_source.get_by_id(fragment_id)

    @_policy
    async def get_many(self, fragment_ids: Sequence[FragmentId]) -> list[FragmentData]:
        """The existing fragments among the ids, in request order; missing ids are skipped."""
        return await self._db_source.get_many(fragment_ids)

    @_policy
    async def find_at_scope(
        self, scope: ScopeRef, config_names: Sequence[str]
    ) -> list[FragmentData]:
        """The scope's fragments of the given names (at most one per name)."""
        return await self._db_source.find_at_scope(scope, config_names)

    @_policy
    async def update(self, updater: FragmentUpdater) -> FragmentData:
        fragment = await self._db_source.update(updater)
        await self._invalidate([fragment])
        return fragment

    @_policy
    async def purge(self, purger: FragmentPurger) -> FragmentData:
        fragment = await self._db_source.purge(purger)
        await self._invalidate([fragment])
        return fragment

    @_policy
    async def admin_search(self, query: SearchQuery) -> SearchResult[FragmentData]:
        """Global search, for superadmin and internal callers only."""
        return await self._db_source.admin_search(query)

    @_policy
    async def scoped_search(
        self, scopes: Sequence[FragmentSearchScope], query: SearchQuery
    ) -> SearchResult[FragmentData]:
        """Search within any of the scopes (at least one), after checking every scope exists."""
        if not scopes:
            raise InvalidParameters("A scoped search needs at least one scope.")
        for scope in scopes:
            if isinstance(scope, ScopeSearchScope):
                await scope.check_exists(self._accounts)
        return await self._db_source.scoped_search(scopes, query)

    @_policy
    async def bulk_upsert(self, upserter: FragmentBulkUpserter) -> list[FragmentData]:
        fragments = await self._db_source.bulk_upsert(upserter)
        await self._invalidate(fragments)
        return fragments

    @_policy
    async def bulk_purge(self, purger: FragmentBulkPurger) -> BulkPurgeResult:
        result = await self._db_source.bulk_purge(purger)
        await self._invalidate(result.purged)
        return result

    @_policy
    async def list_visible_fragments(
        self, config_names: Sequence[str], user_id: UserId | None, domain_id: DomainId | None
    ) -> list[FragmentData]:
        return await self._db_source.list_visible_fragments(config_names, user_id, domain_id)
