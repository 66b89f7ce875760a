"""Fragment reads and writes: access policy, limits and the allow-list write gate."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from scoped_app_config.domain.errors import AccessDenied, AppConfigFragmentNotFound
from scoped_app_config.domain.models import (
    BulkPurgeResult,
    FragmentData,
    FragmentPurgeFailure,
    SearchResult,
)
from scoped_app_config.domain.types import DomainId, FragmentId, ScopeRef, ScopeType, UserId
from scoped_app_config.merge import MergeExplanation, explain_merge
from scoped_app_config.query import SearchQuery
from scoped_app_config.repositories.fragment.creators import (
    FragmentBulkUpserter,
    FragmentCreator,
    FragmentUpsertItem,
)
from scoped_app_config.repositories.fragment.purgers import FragmentBulkPurger, FragmentPurger
from scoped_app_config.repositories.fragment.repository import AppConfigFragmentRepository
from scoped_app_config.repositories.fragment.updaters import FragmentUpdater, FragmentUpdateSpec
from scoped_app_config.services.access_policy import AccessPolicy
from scoped_app_config.services.actor import Actor
from scoped_app_config.services.limits import RequestLimits


@attrs.frozen
class FragmentChange:
    """A fragment's new config and/or rank (None leaves it as it is)."""

    config: Mapping[str, Any] | None = None
    rank: int | None = None


class FragmentService:
    def __init__(
        self,
        fragments: AppConfigFragmentRepository,
        policy: AccessPolicy,
        limits: RequestLimits,
    ) -> None:
        self._fragments = fragments
        self._policy = policy
        self._limits = limits

    @staticmethod
    def own_scope(actor: Actor) -> ScopeRef:
        return ScopeRef(ScopeType.USER, actor.user_id)

    async def find_by_names(
        self, actor: Actor, scope: ScopeRef, names: Sequence[str]
    ) -> list[FragmentData | None]:
        """One element per requested name, None where the scope holds no fragment of it."""
        self._limits.check_names(names)
        await self._policy.require_scope(actor, scope)
        found = await self._fragments.find_at_scope(scope, list(dict.fromkeys(names)))
        by_name = {fragment.config_name: fragment for fragment in found}
        return [by_name.get(name) for name in names]

    async def bulk_upsert(
        self, actor: Actor, scope: ScopeRef, items: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[FragmentData]:
        """All or nothing; each item is inserted or replaces its config; request order kept."""
        self._limits.check_items(len(items))
        for name, config in items:
            self._limits.check_document(name, config)
        await self._policy.require_scope(actor, scope)
        upserter = FragmentBulkUpserter(
            scope=scope,
            items=[FragmentUpsertItem(config_name=name, config=config) for name, config in items],
        )
        return await self._fragments.bulk_upsert(upserter)

    async def create(
        self, actor: Actor, scope: ScopeRef, config_name: str, config: Mapping[str, Any]
    ) -> FragmentData:
        self._limits.check_document(config_name, config)
        await self._policy.require_scope(actor, scope)
        return await self._fragments.create(
            FragmentCreator(config_name=config_name, scope=scope, config=config)
        )

    async def get(self, actor: Actor, fragment_id: uuid.UUID) -> FragmentData:
        fragment = await self._fragments.get_by_id(FragmentId(fragment_id))
        await self._policy.require_visible(actor, fragment)
        return fragment

    async def update(
        self, actor: Actor, fragment_id: uuid.UUID, change: FragmentChange
    ) -> FragmentData:
        fragment = await self.get(actor, fragment_id)
        if change.rank is not None and not actor.is_superadmin:
            raise AccessDenied("Only a superadmin may re-rank a fragment.")
        if change.config is not None:
            self._limits.check_document(fragment.config_name, change.config)
        spec = FragmentUpdateSpec(config=change.config, rank=change.rank)
        return await self._fragments.update(FragmentUpdater(fragment.id, spec))

    async def purge(self, actor: Actor, fragment_id: uuid.UUID) -> FragmentData:
        fragment = await self.get(actor, fragment_id)
        return await self._fragments.purge(FragmentPurger(fragment.id))

    async def bulk_purge(self, actor: Actor, ids: Sequence[uuid.UUID]) -> BulkPurgeResult:
        """Per-item results; an id the actor may not see fails exactly like a missing one."""
        self._limits.check_items(len(ids))
        unique = [FragmentId(i) for i in dict.fromkeys(ids)]
        visible = {
            fragment.id
            for fragment in await self._fragments.get_many(unique)
            if await self._policy.may_manage(actor, fragment.scope)
        }
        result = await self._fragments.bulk_purge(
            FragmentBulkPurger([i for i in unique if i in visible])
        )
        failures = {failure.id: failure for failure in result.failed}
        for fragment_id in unique:
            if fragment_id not in visible:
                message = AppConfigFragmentNotFound(fragment_id).message
                failures[fragment_id] = FragmentPurgeFailure(fragment_id, message)
        return BulkPurgeResult(
            purged=result.purged, failed=[failures[i] for i in unique if i in failures]
        )

    async def admin_search(self, query: SearchQuery) -> SearchResult[FragmentData]:
        return await self._fragments.admin_search(query)

    async def explain(
        self, actor: Actor, config_name: str, user_id: uuid.UUID | None
    ) -> MergeExplanation:
        """The merged config of one name with, for every leaf, the fragment that supplied it."""
        target = actor.user_id if user_id is None else user_id
        domain_id = await self._policy.require_user_readable(actor, target)
        rows = await self._fragments.list_visible_fragments(
            [config_name], UserId(target), DomainId(domain_id)
        )
        return explain_merge(rows)
