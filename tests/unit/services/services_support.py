"""In-memory fakes of what the services depend on (repository Protocol, account directory)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from reference_host.contract import AccountView, Role
from scoped_app_config.domain.models import FragmentData
from scoped_app_config.domain.types import DomainId, FragmentId, ScopeType, UserId
from scoped_app_config.repositories.fragment.cache_source import CacheLookup, Viewer

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def fragment(
    name: str,
    scope_type: ScopeType,
    scope_id: uuid.UUID | None,
    config: Mapping[str, Any],
    *,
    allow_list_rank: int,
    rank: int = 100,
) -> FragmentData:
    return FragmentData(
        id=FragmentId(uuid.uuid4()),
        config_name=name,
        scope_type=scope_type,
        scope_id=scope_id,
        rank=rank,
        allow_list_rank=allow_list_rank,
        config=config,
        created_at=NOW,
        updated_at=NOW,
    )


class InMemoryAccounts:
    def __init__(self) -> None:
        self.users: dict[uuid.UUID, AccountView] = {}
        self.domains: set[uuid.UUID] = set()

    def add_user(self, domain_id: uuid.UUID, role: Role = Role.USER) -> uuid.UUID:
        user_id = uuid.uuid4()
        self.domains.add(domain_id)
        self.users[user_id] = AccountView(user_id=user_id, domain_id=domain_id, role=role)
        return user_id

    async def domain_exists(self, domain_id: uuid.UUID) -> bool:
        return domain_id in self.domains

    async def find_user(self, user_id: uuid.UUID) -> AccountView | None:
        return self.users.get(user_id)


class FakeMergedViews:
    """Visible-fragment rows kept in a list, and a cache that counts what it was asked."""

    def __init__(self, *, cache: bool = True) -> None:
        self.rows: list[FragmentData] = []
        self.cached: dict[tuple[uuid.UUID | None, str], bytes] = {}
        self.cache_enabled = cache
        self.database_reads: list[list[str]] = []

    async def lookup_merged_views(
        self, viewer: Viewer, config_names: Sequence[str]
    ) -> CacheLookup | None:
        if not self.cache_enabled:
            return None
        hits = {
            name: self.cached[(viewer.user_id, name)]
            for name in config_names
            if (viewer.user_id, name) in self.cached
        }
        return CacheLookup(viewer=viewer, hits=hits, tags={name: b"t" for name in config_names})

    async def store_merged_views(self, lookup: CacheLookup, views: Mapping[str, bytes]) -> None:
        for name, config_json in views.items():
            self.cached[(lookup.viewer.user_id, name)] = config_json

    async def list_visible_fragments(
        self, config_names: Sequence[str], user_id: UserId | None, domain_id: DomainId | None
    ) -> list[FragmentData]:
        self.database_reads.append(list(config_names))
        visible = [
            row
            for row in self.rows
            if row.config_name in config_names
            and (
                row.scope_type is ScopeType.PUBLIC
                or (row.scope_type is ScopeType.USER and row.scope_id == user_id)
                or (
                    row.scope_type not in (ScopeType.PUBLIC, ScopeType.USER)
                    and row.scope_id == domain_id
                )
            )
        ]
        return sorted(visible, key=lambda row: (row.allow_list_rank, row.rank))
