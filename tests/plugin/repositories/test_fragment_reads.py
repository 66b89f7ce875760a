"""Fragment reads by id and by scope: get_by_id, get_many, find_at_scope."""

from __future__ import annotations

import uuid

import pytest
from repository_support import AppConfigRepositories

from scoped_app_config.domain.errors import AppConfigFragmentNotFound
from scoped_app_config.domain.types import FragmentId, ScopeRef, ScopeType
from scoped_app_config.models import FragmentRow


class TestGetById:
    async def test_returns_fragment_with_its_entry_rank(
        self, repositories: AppConfigRepositories, domain_scoped_fragment: FragmentRow
    ) -> None:
        found = await repositories.fragments.get_by_id(domain_scoped_fragment.id)

        assert found.config == domain_scoped_fragment.config
        assert (found.rank, found.allow_list_rank) == (domain_scoped_fragment.rank, 200)

    async def test_missing_raises(self, repositories: AppConfigRepositories) -> None:
        with pytest.raises(AppConfigFragmentNotFound):
            await repositories.fragments.get_by_id(FragmentId(uuid.uuid4()))


class TestGetMany:
    async def test_returns_existing_in_request_order(
        self, repositories: AppConfigRepositories, fragments_across_scopes: dict[str, FragmentRow]
    ) -> None:
        wanted = [fragments_across_scopes[key].id for key in ("menu:user", "theme:public")]

        found = await repositories.fragments.get_many(
            [wanted[0], FragmentId(uuid.uuid4()), wanted[1], wanted[0]]
        )

        assert [fragment.id for fragment in found] == wanted


class TestFindAtScope:
    async def test_returns_only_that_scope(
        self,
        repositories: AppConfigRepositories,
        fragments_across_scopes: dict[str, FragmentRow],
        known_domain: uuid.UUID,
    ) -> None:
        found = await repositories.fragments.find_at_scope(
            ScopeRef(ScopeType.DOMAIN, known_domain), ["theme", "menu", "absent"]
        )

        assert [fragment.id for fragment in found] == [
            fragments_across_scopes["menu:domain"].id,
            fragments_across_scopes["theme:domain"].id,
        ]

    async def test_public_scope(
        self, repositories: AppConfigRepositories, fragments_across_scopes: dict[str, FragmentRow]
    ) -> None:
        found = await repositories.fragments.find_at_scope(ScopeRef(ScopeType.PUBLIC), ["theme"])

        assert [fragment.id for fragment in found] == [fragments_across_scopes["theme:public"].id]
