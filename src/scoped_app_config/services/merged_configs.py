"""Merged reads: the hot path. Cache first, then one SQL statement for every miss, then merge.

The result keeps each merged config as JSON bytes, so cached views reach the response without
being parsed or re-encoded.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

import attrs
import orjson

from scoped_app_config.domain.errors import ContributorsMissing
from scoped_app_config.domain.models import FragmentData
from scoped_app_config.domain.types import DomainId, UserId
from scoped_app_config.merge import merge_configs
from scoped_app_config.repositories.fragment.cache_source import Viewer
from scoped_app_config.services.access_policy import AccessPolicy
from scoped_app_config.services.actor import Actor
from scoped_app_config.services.limits import RequestLimits
from scoped_app_config.services.ports import MergedViewSource

EMPTY_CONFIG_JSON = b"{}"


@attrs.frozen
class MergedConfig:
    config_name: str
    config_json: bytes


class MergedConfigService:
    def __init__(
        self,
        fragments: MergedViewSource,
        policy: AccessPolicy,
        limits: RequestLimits,
    ) -> None:
        self._fragments = fragments
        self._policy = policy
        self._limits = limits

    async def get_for_actor(
        self, actor: Actor, names: Sequence[str], *, strict: bool = False
    ) -> list[MergedConfig]:
        """public + the actor's domain (both domain scope types) + the actor's own fragments."""
        return await self._read(Viewer(actor.user_id, actor.domain_id), names, strict)

    async def get_public(self, names: Sequence[str], *, strict: bool = False) -> list[MergedConfig]:
        return await self._read(Viewer(), names, strict)

    async def get_for_user(
        self, actor: Actor, user_id: uuid.UUID, names: Sequence[str], *, strict: bool = False
    ) -> list[MergedConfig]:
        domain_id = await self._policy.require_user_readable(actor, user_id)
        return await self._read(Viewer(user_id, domain_id), names, strict)

    async def _read(self, viewer: Viewer, names: Sequence[str], strict: bool) -> list[MergedConfig]:
        self._limits.check_names(names)
        unique = list(dict.fromkeys(names))
        lookup = await self._fragments.lookup_merged_views(viewer, unique)
        views: dict[str, bytes] = dict(lookup.hits) if lookup is not None else {}
        # A cached "{}" may mean "nothing contributes" or "empty fragments": strict asks the DB.
        to_compute = [
            name
            for name in unique
            if name not in views or (strict and views[name] == EMPTY_CONFIG_JSON)
        ]
        contributed: set[str] = {name for name in views if name not in to_compute}
        if to_compute:
            rows = await self._fragments.list_visible_fragments(
                to_compute,
                UserId(viewer.user_id) if viewer.user_id is not None else None,
                DomainId(viewer.domain_id) if viewer.domain_id is not None else None,
            )
            by_name: dict[str, list[FragmentData]] = defaultdict(list)
            for row in rows:
                by_name[row.config_name].append(row)
            computed = {
                name: orjson.dumps(merge_configs(by_name.get(name, []))) for name in to_compute
            }
            contributed.update(by_name)
            views.update(computed)
            if lookup is not None:
                await self._fragments.store_merged_views(lookup, computed)
        if strict:
            missing = [name for name in unique if name not in contributed]
            if missing:
                raise ContributorsMissing(missing)
        return [MergedConfig(name, views[name]) for name in names]
