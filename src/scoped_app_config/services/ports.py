"""What the read service needs from the layer below, as a Protocol (tests use in-memory fakes)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Protocol

from scoped_app_config.domain.models import FragmentData
from scoped_app_config.domain.types import DomainId, UserId
from scoped_app_config.repositories.fragment.cache_source import CacheLookup, Viewer


class MergedViewSource(Protocol):
    async def lookup_merged_views(
        self, viewer: Viewer, config_names: Sequence[str]
    ) -> CacheLookup | None: ...

    async def store_merged_views(self, lookup: CacheLookup, views: Mapping[str, bytes]) -> None: ...

    # Awaitable rather than `async def`: the repository's resilience policy wraps the method.
    def list_visible_fragments(
        self, config_names: Sequence[str], user_id: UserId | None, domain_id: DomainId | None
    ) -> Awaitable[list[FragmentData]]: ...
