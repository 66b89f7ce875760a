"""Fragment admin_search and scoped_search: scopes, existence checks, OR-ing."""

from __future__ import annotations

import uuid

import pytest
from repository_support import AppConfigRepositories

from scoped_app_config.domain.errors import (
    AppConfigDefinitionNotFound,
    DomainNotFound,
    InvalidParameters,
    UserNotFound,
)
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.models import FragmentRow
from scoped_app_config.query import SearchQuery
from scoped_app_config.repositories.fragment import ConfigNameSearchScope, ScopeSearchScope

ALL = SearchQuery.build(limit=100)


class TestAdminSearch:
    async def test_sees_every_fragment(
        self, repositories: AppConfigRepositories, fragments_across_scopes: dict[str, FragmentRow]
    ) -> None:
        result = await repositories.fragments.admin_search(ALL)

        assert {item.id for item in result.items} == {
            row.id for row in fragments_across_scopes.values()
        }
        assert result.total_count == len(fragments_across_scopes)


class TestScopedSearch:
    async def test_restricted_to_one_name(
        self, repositories: AppConfigRepositories, fragments_across_scopes: dict[str, FragmentRow]
    ) -> None:
        result = await repositories.fragments.scoped_search([ConfigNameSearchScope("menu")], ALL)

        assert {item.id for item in result.items} == {
            row.id for key, row in fragments_across_scopes.items() if key.startswith("menu:")
        }

    async def test_scopes_are_or_ed(
        self,
        repositories: AppConfigRepositories,
        fragments_across_scopes: dict[str, FragmentRow],
        known_user: uuid.UUID,
    ) -> None:
        scopes = [ScopeSearchScope(ScopeType.USER, known_user), ScopeSearchScope(ScopeType.PUBLIC)]

        result = await repositories.fragments.scoped_search(scopes, ALL)

        assert {item.id for item in result.items} == {
            fragments_across_scopes[key].id
            for key in ("theme:user", "menu:user", "theme:public", "menu:public")
        }

    async def test_domain_scope_excludes_domain_user_defaults(
        self,
        repositories: AppConfigRepositories,
        fragments_across_scopes: dict[str, FragmentRow],
        known_domain: uuid.UUID,
    ) -> None:
        result = await repositories.fragments.scoped_search(
            [ScopeSearchScope(ScopeType.DOMAIN, known_domain)], ALL
        )

        assert {item.id for item in result.items} == {
            fragments_across_scopes["theme:domain"].id,
            fragments_across_scopes["menu:domain"].id,
        }

    async def test_unregistered_name_is_rejected(
        self, repositories: AppConfigRepositories, fragments_across_scopes: dict[str, FragmentRow]
    ) -> None:
        with pytest.raises(AppConfigDefinitionNotFound):
            await repositories.fragments.scoped_search([ConfigNameSearchScope("nope")], ALL)

    async def test_unknown_domain_is_rejected(self, repositories: AppConfigRepositories) -> None:
        with pytest.raises(DomainNotFound):
            await repositories.fragments.scoped_search(
                [ScopeSearchScope(ScopeType.DOMAIN_USER_DEFAULTS, uuid.uuid4())], ALL
            )

    async def test_unknown_user_is_rejected(self, repositories: AppConfigRepositories) -> None:
        with pytest.raises(UserNotFound):
            await repositories.fragments.scoped_search(
                [ScopeSearchScope(ScopeType.USER, uuid.uuid4())], ALL
            )

    async def test_no_scope_is_invalid(self, repositories: AppConfigRepositories) -> None:
        with pytest.raises(InvalidParameters):
            await repositories.fragments.scoped_search([], ALL)
