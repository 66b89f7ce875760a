"""list_visible_fragments: exactly the rows that apply to one user, in merge order, one query."""

from __future__ import annotations

import uuid

from repository_support import AppConfigRepositories

from scoped_app_config.domain.types import DomainId, UserId
from scoped_app_config.merge import MergeSource, merge_configs
from scoped_app_config.models import FragmentRow


class TestListVisibleFragments:
    async def test_returns_own_scopes_in_merge_order_in_one_statement(
        self,
        repositories: AppConfigRepositories,
        fragments_across_scopes: dict[str, FragmentRow],
        known_user: uuid.UUID,
        known_domain: uuid.UUID,
        statement_log: list[str],
    ) -> None:
        visible_scopes = ("public", "domain_user_defaults", "domain", "user")
        # Allow-list ranks are the defaults (100 < 150 < 200 < 300); names tie-break by rank.
        expected = [
            fragments_across_scopes[f"{name}:{scope}"].id
            for scope in visible_scopes
            for name in ("theme", "menu")
        ]

        visible = await repositories.fragments.list_visible_fragments(
            ["theme", "menu"], UserId(known_user), DomainId(known_domain)
        )

        assert [fragment.id for fragment in visible] == expected
        assert len(statement_log) == 1

    async def test_without_user_or_domain_returns_public_only(
        self,
        repositories: AppConfigRepositories,
        fragments_across_scopes: dict[str, FragmentRow],
    ) -> None:
        visible = await repositories.fragments.list_visible_fragments(["theme"], None, None)

        assert [fragment.id for fragment in visible] == [fragments_across_scopes["theme:public"].id]

    async def test_unrequested_names_are_left_out(
        self,
        repositories: AppConfigRepositories,
        fragments_across_scopes: dict[str, FragmentRow],
        known_user: uuid.UUID,
        known_domain: uuid.UUID,
    ) -> None:
        visible = await repositories.fragments.list_visible_fragments(
            ["menu", "unknown"], UserId(known_user), DomainId(known_domain)
        )

        assert {fragment.config_name for fragment in visible} == {"menu"}
        assert len(visible) == 4

    async def test_rows_satisfy_the_merge_engine_protocol(
        self,
        repositories: AppConfigRepositories,
        fragments_across_scopes: dict[str, FragmentRow],
        known_user: uuid.UUID,
        known_domain: uuid.UUID,
    ) -> None:
        visible: list[MergeSource] = list(
            await repositories.fragments.list_visible_fragments(
                ["theme"], UserId(known_user), DomainId(known_domain)
            )
        )

        assert merge_configs(visible) == {"set_by": "theme:user"}
