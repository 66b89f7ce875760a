"""Definition and allow-list routes (superadmin only): shapes, conflicts, not-found, cascades."""

from __future__ import annotations

import base64
import uuid

import pytest
from api_scenarios import Callers, ThemeEverywhere
from api_support import (
    Registration,
    assert_allow_list_node,
    assert_definition_node,
    assert_ok,
    assert_problem,
    assert_search_page,
    register,
)

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    ALLOW_LIST,
    DEFINITIONS,
    FRAGMENTS,
)

VALIDATION = "app_config_request_validation_failed"
CONFLICT = "unique-constraint-violation"


class TestCreateDefinition:
    async def test_created_with_201(self, callers: Callers) -> None:
        response = await callers.superadmin.post(f"{DEFINITIONS}/", {"config_name": "theme"})
        body = assert_ok(response, 201)
        assert set(body) == {"app_config_definition"}
        assert_definition_node(body["app_config_definition"], config_name="theme")

    async def test_128_character_name_is_accepted(self, callers: Callers) -> None:
        response = await callers.superadmin.post(f"{DEFINITIONS}/", {"config_name": "n" * 128})
        assert_definition_node(
            assert_ok(response, 201)["app_config_definition"], config_name="n" * 128
        )

    async def test_duplicate_is_a_conflict(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.superadmin.post(f"{DEFINITIONS}/", {"config_name": "theme"})
        assert_problem(
            response,
            409,
            CONFLICT,
            title="Unique constraint violation",
            error_code="app_config_write_conflict",
        )

    @pytest.mark.parametrize(
        "body",
        [{"config_name": "n" * 129}, {"config_name": ""}, {"config_name": 7}, {}, {"name": "x"}],
        ids=["129-chars", "empty", "not-a-string", "missing", "unknown-field"],
    )
    async def test_invalid_body_is_bad_request(
        self, callers: Callers, body: dict[str, object]
    ) -> None:
        response = await callers.superadmin.post(f"{DEFINITIONS}/", body)
        assert_problem(
            response,
            400,
            "generic-bad-request",
            title="Invalid request body",
            error_code=VALIDATION,
        )

    async def test_without_trailing_slash_is_not_the_create_route(self, callers: Callers) -> None:
        response = await callers.superadmin.post(DEFINITIONS, {"config_name": "theme"})
        assert_problem(response, 404, "url-not-found", title="Unknown URL path")

    async def test_malformed_json_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(f"{DEFINITIONS}/", raw=b"{'config_name': 1}")
        assert_problem(response, 400, "generic-bad-request", title="Malformed request body")

    async def test_domain_admin_is_forbidden(self, callers: Callers) -> None:
        response = await callers.domain_admin.post(f"{DEFINITIONS}/", {"config_name": "theme"})
        assert_problem(
            response,
            403,
            "generic-forbidden",
            title="Insufficient privileges",
            error_code="auth_request_forbidden",
        )

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        response = await callers.anonymous.post(f"{DEFINITIONS}/", {"config_name": "theme"})
        assert_problem(response, 401, "auth-failed", title="Unauthorized access")


class TestSearchDefinitions:
    async def test_filters_orders_and_pages(self, callers: Callers) -> None:
        for name in ("alpha", "beta", "gamma", "delta"):
            await register(callers.superadmin, name, {})
        response = await callers.superadmin.post(
            f"{DEFINITIONS}/search",
            {
                "filter": {"config_name": {"not_equals": "gamma"}},
                "order": [{"field": "config_name", "direction": "DESC"}],
                "limit": 2,
            },
        )
        items = assert_search_page(
            assert_ok(response), total_count=3, has_next=True, has_previous=False
        )
        assert [item["config_name"] for item in items] == ["delta", "beta"]
        for item in items:
            assert_definition_node(item, config_name=item["config_name"])

    async def test_cursor_pages_forward_and_back(self, callers: Callers) -> None:
        for name in ("a", "b", "c", "d", "e"):
            await register(callers.superadmin, name, {})
        by_name = {"order": [{"field": "config_name"}]}

        def cursor(node: dict[str, str]) -> str:
            return base64.b64encode(f"cursor:v1:{node['id']}".encode()).decode()

        first = assert_ok(
            await callers.superadmin.post(f"{DEFINITIONS}/search", {**by_name, "first": 2})
        )
        items = assert_search_page(first, total_count=5, has_next=True, has_previous=False)
        assert [i["config_name"] for i in items] == ["a", "b"]
        after = assert_ok(
            await callers.superadmin.post(
                f"{DEFINITIONS}/search", {**by_name, "first": 2, "after": cursor(items[1])}
            )
        )
        items = assert_search_page(after, total_count=5, has_next=True, has_previous=True)
        assert [i["config_name"] for i in items] == ["c", "d"]
        before = assert_ok(
            await callers.superadmin.post(
                f"{DEFINITIONS}/search", {**by_name, "last": 2, "before": cursor(items[0])}
            )
        )
        items = assert_search_page(before, total_count=5, has_next=True, has_previous=False)
        assert [i["config_name"] for i in items] == ["a", "b"]

    async def test_garbage_cursor_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{DEFINITIONS}/search", {"first": 1, "after": "garbage"}
        )
        assert_problem(
            response,
            400,
            "generic-bad-request",
            error_code="app_config_request_invalid_parameters",
            msg="Invalid pagination cursor.",
        )

    async def test_in_and_in_underscore_are_both_accepted(self, callers: Callers) -> None:
        for name in ("alpha", "beta", "gamma"):
            await register(callers.superadmin, name, {})
        for key in ("in", "in_"):
            response = await callers.superadmin.post(
                f"{DEFINITIONS}/search",
                {
                    "filter": {"config_name": {key: ["alpha", "gamma"]}},
                    "order": [{"field": "config_name"}],
                },
            )
            items = assert_search_page(
                assert_ok(response), total_count=2, has_next=False, has_previous=False
            )
            assert [item["config_name"] for item in items] == ["alpha", "gamma"]

    async def test_scope_type_filter_is_bad_request_for_definitions(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{DEFINITIONS}/search", {"filter": {"scope_type": {"equals": "public"}}}
        )
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_rank_order_is_bad_request_for_definitions(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{DEFINITIONS}/search", {"order": [{"field": "rank"}]}
        )
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_user_is_forbidden(self, callers: Callers) -> None:
        response = await callers.user.post(f"{DEFINITIONS}/search", {})
        assert_problem(response, 403, "generic-forbidden")


class TestGetDefinition:
    async def test_returns_the_node(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        definition = theme_registered_everywhere.definition
        response = await callers.superadmin.get(f"{DEFINITIONS}/{definition['id']}")
        assert assert_ok(response) == definition

    async def test_missing_id_is_entity_not_found(self, callers: Callers) -> None:
        missing = uuid.uuid4()
        response = await callers.superadmin.get(f"{DEFINITIONS}/{missing}")
        assert_problem(
            response,
            404,
            "entity-not-found",
            title="App config definition not found",
            error_code="app_config_definition_lookup_not_found",
            msg=f"App config definition {missing} not found.",
        )

    async def test_malformed_id_is_an_unknown_url(self, callers: Callers) -> None:
        response = await callers.superadmin.get(f"{DEFINITIONS}/theme")
        assert_problem(response, 404, "url-not-found", error_code="api_routing_url-not-found")

    async def test_user_is_forbidden(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        definition_id = theme_registered_everywhere.definition["id"]
        response = await callers.user.get(f"{DEFINITIONS}/{definition_id}")
        assert_problem(response, 403, "generic-forbidden")


class TestDeleteDefinition:
    async def test_purges_definition_entries_and_fragments(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        registration = theme_fragments_everywhere.registration
        definition_id = registration.definition["id"]
        response = await callers.superadmin.delete(f"{DEFINITIONS}/{definition_id}")
        assert assert_ok(response) == {"id": definition_id}
        assert_problem(
            await callers.superadmin.get(f"{DEFINITIONS}/{definition_id}"), 404, "entity-not-found"
        )
        for entry in registration.entries.values():
            assert_problem(
                await callers.superadmin.get(f"{ALLOW_LIST}/{entry['id']}"), 404, "entity-not-found"
            )
        for fragment_id in theme_fragments_everywhere.fragments:
            assert_problem(
                await callers.superadmin.get(
                    f"{FRAGMENTS}/{theme_fragments_everywhere.id_of(fragment_id)}"
                ),
                404,
                "entity-not-found",
            )

    async def test_missing_id_is_entity_not_found(self, callers: Callers) -> None:
        response = await callers.superadmin.delete(f"{DEFINITIONS}/{uuid.uuid4()}")
        assert_problem(response, 404, "entity-not-found", title="App config definition not found")

    async def test_malformed_id_is_an_unknown_url(self, callers: Callers) -> None:
        response = await callers.superadmin.delete(f"{DEFINITIONS}/1234")
        assert_problem(response, 404, "url-not-found")

    async def test_unsigned_request_is_unauthorized(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        definition_id = theme_registered_everywhere.definition["id"]
        response = await callers.anonymous.delete(f"{DEFINITIONS}/{definition_id}")
        assert_problem(response, 401, "auth-failed")


class TestCreateAllowListEntry:
    @pytest.mark.parametrize(
        ("scope_type", "default_rank"),
        [("public", 100), ("domain_user_defaults", 150), ("domain", 200), ("user", 300)],
    )
    async def test_default_rank_per_scope_type(
        self, callers: Callers, scope_type: str, default_rank: int
    ) -> None:
        await register(callers.superadmin, "theme", {})
        response = await callers.superadmin.post(
            f"{ALLOW_LIST}/", {"config_name": "theme", "scope_type": scope_type}
        )
        body = assert_ok(response, 201)
        assert set(body) == {"app_config_allow_list"}
        assert_allow_list_node(
            body["app_config_allow_list"],
            config_name="theme",
            scope_type=scope_type,
            rank=default_rank,
        )

    async def test_explicit_and_null_rank(self, callers: Callers) -> None:
        await register(callers.superadmin, "theme", {})
        explicit = await callers.superadmin.post(
            f"{ALLOW_LIST}/", {"config_name": "theme", "scope_type": "domain", "rank": 400}
        )
        assert assert_ok(explicit, 201)["app_config_allow_list"]["rank"] == 400
        null = await callers.superadmin.post(
            f"{ALLOW_LIST}/", {"config_name": "theme", "scope_type": "user", "rank": None}
        )
        assert assert_ok(null, 201)["app_config_allow_list"]["rank"] == 300

    async def test_duplicate_is_a_conflict(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.superadmin.post(
            f"{ALLOW_LIST}/", {"config_name": "theme", "scope_type": "user", "rank": 1}
        )
        assert_problem(response, 409, CONFLICT, error_code="app_config_write_conflict")

    async def test_unregistered_name_is_definition_not_found(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{ALLOW_LIST}/", {"config_name": "ghost", "scope_type": "public"}
        )
        assert_problem(
            response,
            404,
            "app-config-definition-not-found",
            title="App config definition not found",
            msg="App config 'ghost' is not registered.",
        )

    @pytest.mark.parametrize(
        "body",
        [
            {"config_name": "theme", "scope_type": "galaxy"},
            {"config_name": "theme", "scope_type": "user", "rank": "high"},
            {"config_name": "theme", "scope_type": "user", "rank": 1.5},
            {"config_name": "theme"},
            {"config_name": "theme", "scope_type": "user", "scope_id": None},
        ],
        ids=["unknown-scope-type", "rank-string", "rank-float", "no-scope-type", "extra-field"],
    )
    async def test_invalid_body_is_bad_request(
        self, callers: Callers, body: dict[str, object]
    ) -> None:
        response = await callers.superadmin.post(f"{ALLOW_LIST}/", body)
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_domain_admin_is_forbidden(self, callers: Callers) -> None:
        response = await callers.domain_admin.post(
            f"{ALLOW_LIST}/", {"config_name": "theme", "scope_type": "domain"}
        )
        assert_problem(response, 403, "generic-forbidden", error_code="auth_request_forbidden")


class TestSearchAllowList:
    async def test_unfiltered_search_hides_domain_user_defaults(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.superadmin.post(
            f"{ALLOW_LIST}/search", {"order": [{"field": "rank", "direction": "ASC"}]}
        )
        items = assert_search_page(
            assert_ok(response), total_count=3, has_next=False, has_previous=False
        )
        assert [(i["scope_type"], i["rank"]) for i in items] == [
            ("public", 100),
            ("domain", 200),
            ("user", 300),
        ]
        assert items[0] == theme_registered_everywhere.entries["public"]

    async def test_filter_naming_domain_user_defaults_returns_it(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.superadmin.post(
            f"{ALLOW_LIST}/search",
            {"filter": {"scope_type": {"not_equals": "domain_user_defaults"}}},
        )
        assert_search_page(assert_ok(response), total_count=3, has_next=False, has_previous=False)
        response = await callers.superadmin.post(
            f"{ALLOW_LIST}/search",
            {"filter": {"OR": [{"scope_type": {"equals": "domain_user_defaults"}}]}},
        )
        [item] = assert_search_page(
            assert_ok(response), total_count=1, has_next=False, has_previous=False
        )
        assert item == theme_registered_everywhere.entries["domain_user_defaults"]

    async def test_unknown_filter_key_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{ALLOW_LIST}/search", {"filter": {"rank": {"equals": 1}}}
        )
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_user_is_forbidden(self, callers: Callers) -> None:
        assert_problem(
            await callers.user.post(f"{ALLOW_LIST}/search", {}), 403, "generic-forbidden"
        )


class TestGetAllowListEntry:
    async def test_returns_the_node(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        entry = theme_registered_everywhere.entries["domain"]
        response = await callers.superadmin.get(f"{ALLOW_LIST}/{entry['id']}")
        assert assert_ok(response) == entry
        assert_allow_list_node(entry, config_name="theme", scope_type="domain", rank=200)

    async def test_missing_id_is_entity_not_found(self, callers: Callers) -> None:
        missing = uuid.uuid4()
        response = await callers.superadmin.get(f"{ALLOW_LIST}/{missing}")
        assert_problem(
            response,
            404,
            "entity-not-found",
            title="App config allow-list entry not found",
            error_code="app_config_allow_list_lookup_not_found",
            msg=f"App config allow-list entry {missing} not found.",
        )

    async def test_malformed_id_is_an_unknown_url(self, callers: Callers) -> None:
        assert_problem(await callers.superadmin.get(f"{ALLOW_LIST}/x"), 404, "url-not-found")


class TestUpdateAllowListEntry:
    async def test_sets_rank_and_path_id_wins(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        entry = theme_registered_everywhere.entries["domain"]
        other = theme_registered_everywhere.entries["user"]
        response = await callers.superadmin.patch(
            f"{ALLOW_LIST}/{entry['id']}", {"id": other["id"], "rank": 400}
        )
        body = assert_ok(response)
        assert set(body) == {"app_config_allow_list"}
        node = body["app_config_allow_list"]
        assert_allow_list_node(node, config_name="theme", scope_type="domain", rank=400)
        assert node["id"] == entry["id"]
        assert node["created_at"] == entry["created_at"]
        untouched = assert_ok(await callers.superadmin.get(f"{ALLOW_LIST}/{other['id']}"))
        assert untouched["rank"] == 300

    async def test_without_rank_leaves_it_unchanged(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        entry = theme_registered_everywhere.entries["public"]
        response = await callers.superadmin.patch(
            f"{ALLOW_LIST}/{entry['id']}", {"id": entry["id"]}
        )
        assert assert_ok(response)["app_config_allow_list"]["rank"] == 100

    async def test_missing_id_is_entity_not_found(self, callers: Callers) -> None:
        missing = str(uuid.uuid4())
        response = await callers.superadmin.patch(
            f"{ALLOW_LIST}/{missing}", {"id": missing, "rank": 1}
        )
        assert_problem(
            response, 404, "entity-not-found", title="App config allow-list entry not found"
        )

    async def test_rank_of_wrong_type_is_bad_request(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        entry_id = theme_registered_everywhere.entry_id("user")
        response = await callers.superadmin.patch(
            f"{ALLOW_LIST}/{entry_id}", {"id": entry_id, "rank": "400"}
        )
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_config_name_cannot_change(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        entry_id = theme_registered_everywhere.entry_id("user")
        response = await callers.superadmin.patch(
            f"{ALLOW_LIST}/{entry_id}", {"id": entry_id, "config_name": "menu"}
        )
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_malformed_json_is_bad_request(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        entry_id = theme_registered_everywhere.entry_id("user")
        response = await callers.superadmin.request(
            "PATCH", f"{ALLOW_LIST}/{entry_id}", raw=b"rank=4"
        )
        assert_problem(response, 400, "generic-bad-request", title="Malformed request body")

    async def test_domain_admin_is_forbidden(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        entry_id = theme_registered_everywhere.entry_id("domain")
        response = await callers.domain_admin.patch(
            f"{ALLOW_LIST}/{entry_id}", {"id": entry_id, "rank": 400}
        )
        assert_problem(response, 403, "generic-forbidden")


class TestDeleteAllowListEntry:
    async def test_purges_entry_and_the_fragments_it_admits(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        registration = theme_fragments_everywhere.registration
        entry_id = registration.entry_id("domain")
        response = await callers.superadmin.delete(f"{ALLOW_LIST}/{entry_id}")
        assert assert_ok(response) == {"id": entry_id}
        for key in ("domain", "domain_b"):
            fragment_id = theme_fragments_everywhere.id_of(key)
            assert_problem(
                await callers.superadmin.get(f"{FRAGMENTS}/{fragment_id}"),
                404,
                "entity-not-found",
            )
        still_there = theme_fragments_everywhere.id_of("user")
        assert assert_ok(await callers.superadmin.get(f"{FRAGMENTS}/{still_there}"))

    async def test_missing_id_is_entity_not_found(self, callers: Callers) -> None:
        response = await callers.superadmin.delete(f"{ALLOW_LIST}/{uuid.uuid4()}")
        assert_problem(
            response, 404, "entity-not-found", title="App config allow-list entry not found"
        )

    async def test_unsigned_request_is_unauthorized(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        entry_id = theme_registered_everywhere.entry_id("user")
        response = await callers.anonymous.delete(f"{ALLOW_LIST}/{entry_id}")
        assert_problem(response, 401, "auth-failed")
