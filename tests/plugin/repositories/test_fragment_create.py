"""Fragment creation: rank assignment, the write gate and conflicts."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from repository_support import AppConfigRepositories

from scoped_app_config.domain.errors import AppConfigDefinitionNotFound, Conflict, WriteNotAllowed
from scoped_app_config.domain.types import ScopeRef, ScopeType
from scoped_app_config.models import AllowListRow, FragmentRow
from scoped_app_config.repositories.fragment import FragmentCreator


def _user_fragment(config_name: str) -> FragmentCreator:
    return FragmentCreator(config_name, ScopeRef(ScopeType.USER, uuid.uuid4()), {"a": 1})


class TestCreate:
    async def test_create_returns_fragment_with_entry_rank(
        self,
        repositories: AppConfigRepositories,
        theme_allowed_everywhere: dict[ScopeType, AllowListRow],
        known_domain: uuid.UUID,
    ) -> None:
        scope = ScopeRef(ScopeType.DOMAIN, known_domain)

        created = await repositories.fragments.create(
            FragmentCreator("theme", scope, {"color": "red"})
        )

        assert created.scope == scope
        assert created.config == {"color": "red"}
        assert created.allow_list_rank == theme_allowed_everywhere[ScopeType.DOMAIN].rank
        assert await repositories.fragments.get_by_id(created.id) == created

    async def test_duplicate_natural_key_is_conflict(
        self, repositories: AppConfigRepositories, domain_scoped_fragment: FragmentRow
    ) -> None:
        scope = ScopeRef(domain_scoped_fragment.scope_type, domain_scoped_fragment.scope_id)

        with pytest.raises(Conflict):
            await repositories.fragments.create(FragmentCreator("theme", scope, {}))

    async def test_duplicate_public_fragment_is_conflict(
        self,
        repositories: AppConfigRepositories,
        theme_allowed_only_publicly: AllowListRow,
    ) -> None:
        public = FragmentCreator("theme", ScopeRef(ScopeType.PUBLIC), {})
        await repositories.fragments.create(public)

        with pytest.raises(Conflict):
            await repositories.fragments.create(public)


class TestWriteGate:
    async def test_scope_without_allow_list_entry_is_not_allowed(
        self,
        repositories: AppConfigRepositories,
        theme_allowed_only_publicly: AllowListRow,
    ) -> None:
        with pytest.raises(WriteNotAllowed) as raised:
            await repositories.fragments.create(_user_fragment("theme"))

        assert str(raised.value) == "Writing app config 'theme' at scope 'user' is not allowed."

    async def test_unregistered_name_is_definition_not_found(
        self, repositories: AppConfigRepositories
    ) -> None:
        with pytest.raises(AppConfigDefinitionNotFound) as raised:
            await repositories.fragments.create(_user_fragment("unregistered"))

        assert raised.value.slug == "app-config-definition-not-found"


class TestRankAssignment:
    async def test_ranks_step_by_hundred_per_name_independently(
        self,
        repositories: AppConfigRepositories,
        theme_allowed_everywhere: dict[ScopeType, AllowListRow],
        menu_allowed_everywhere: dict[ScopeType, AllowListRow],
    ) -> None:
        ranks: dict[str, list[int]] = {"theme": [], "menu": []}
        for name in ("theme", "menu", "theme", "theme", "menu"):
            ranks[name].append((await repositories.fragments.create(_user_fragment(name))).rank)

        assert ranks == {"theme": [100, 200, 300], "menu": [100, 200]}

    async def test_rank_follows_current_maximum(
        self, repositories: AppConfigRepositories, domain_scoped_fragment: FragmentRow
    ) -> None:
        created = await repositories.fragments.create(_user_fragment("theme"))

        assert created.rank == domain_scoped_fragment.rank + 100

    async def test_concurrent_creates_get_distinct_consecutive_ranks(
        self,
        repositories: AppConfigRepositories,
        theme_allowed_everywhere: dict[ScopeType, AllowListRow],
    ) -> None:
        """Each create runs in its own task and transaction; the parent row lock serialises them."""
        created = await asyncio.gather(
            *(repositories.fragments.create(_user_fragment("theme")) for _ in range(50))
        )

        assert sorted(fragment.rank for fragment in created) == list(range(100, 5001, 100))
