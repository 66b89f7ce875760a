"""Fragment routes through the host: success shapes and every error each route can give.

Role-by-scope permissions are in test_http_authorization_matrix.py; here each operation gets its
happy path, validation, not-found, conflict and permission scenarios with full bodies.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from api_scenarios import Callers, ThemeEverywhere, theme_config
from api_support import (
    Registration,
    assert_fragment_node,
    assert_ok,
    assert_problem,
    assert_search_page,
    register,
    scope,
    upsert,
)

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    CONFIGS,
    FRAGMENTS,
    Accounts,
)

VALIDATION = "app_config_request_validation_failed"
MALFORMED = "api_parsing_malformed-body"
WRITE_NOT_ALLOWED_TITLE = "Writing this app config at this scope is not allowed"


class TestScopedByNames:
    async def test_answers_one_element_per_name_with_null_where_the_scope_holds_none(
        self, callers: Callers, accounts: Accounts, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.domain_admin.post(
            f"{FRAGMENTS}/scoped/by-names",
            {
                "scope": scope("domain", accounts.domain_a),
                "config_names": ["theme", "menu", "theme"],
            },
        )
        body = assert_ok(response)
        assert isinstance(body, list) and len(body) == 3
        assert body[1] is None
        assert body[0] == body[2] == theme_fragments_everywhere.fragments["domain"]
        assert_fragment_node(
            body[0],
            config_name="theme",
            scope_type="domain",
            scope_id=accounts.domain_a,
            config=theme_config("domain"),
        )

    async def test_public_fragment_has_scope_id_null(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/by-names",
            {"scope": {"scope_type": "public", "scope_id": None}, "config_names": ["theme"]},
        )
        [node] = assert_ok(response)
        assert_fragment_node(
            node,
            config_name="theme",
            scope_type="public",
            scope_id=None,
            config=theme_config("public"),
        )
        assert node["entity_id"] == node["id"] == theme_fragments_everywhere.id_of("public")

    async def test_user_reads_own_user_scope(
        self, callers: Callers, accounts: Accounts, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/scoped/by-names",
            {"scope": scope("user", accounts.user["user_id"]), "config_names": ["theme"]},
        )
        assert assert_ok(response) == [theme_fragments_everywhere.fragments["user"]]

    async def test_domain_user_defaults_node_is_returned_when_that_scope_is_asked_for(
        self, callers: Callers, accounts: Accounts, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.domain_admin.post(
            f"{FRAGMENTS}/scoped/by-names",
            {
                "scope": scope("domain_user_defaults", accounts.domain_a),
                "config_names": ["theme"],
            },
        )
        [node] = assert_ok(response)
        assert node["scope_type"] == "domain_user_defaults"

    async def test_scope_other_than_own_is_forbidden_for_user(
        self, callers: Callers, accounts: Accounts
    ) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/scoped/by-names",
            {"scope": scope("domain_user_defaults", accounts.domain_a), "config_names": ["a"]},
        )
        assert_problem(
            response,
            403,
            "generic-forbidden",
            title="Insufficient privileges",
            error_code="app_config_access_forbidden",
            msg="You may not access app config fragments at scope "
            f"'domain_user_defaults' ({accounts.domain_a}).",
        )

    async def test_public_scope_is_forbidden_for_domain_admin(self, callers: Callers) -> None:
        response = await callers.domain_admin.post(
            f"{FRAGMENTS}/scoped/by-names", {"scope": scope("public"), "config_names": ["a"]}
        )
        assert_problem(
            response,
            403,
            "generic-forbidden",
            msg="You may not access app config fragments at scope 'public'.",
        )

    async def test_missing_domain_is_not_found_for_superadmin(self, callers: Callers) -> None:
        missing = uuid.uuid4()
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/by-names",
            {"scope": scope("domain", missing), "config_names": ["theme"]},
        )
        assert_problem(
            response,
            404,
            "entity-not-found",
            title="Domain not found",
            error_code="app_config_domain_lookup_not_found",
            msg=f"Domain {missing} not found.",
        )

    async def test_missing_user_is_not_found_for_superadmin(self, callers: Callers) -> None:
        missing = uuid.uuid4()
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/by-names",
            {"scope": scope("user", missing), "config_names": ["theme"]},
        )
        assert_problem(response, 404, "entity-not-found", title="User not found")

    async def test_public_scope_with_scope_id_is_bad_request(
        self, callers: Callers, accounts: Accounts
    ) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/by-names",
            {"scope": scope("public", accounts.domain_a), "config_names": ["theme"]},
        )
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert "scope_id must be absent or null for the public scope" in body["msg"]

    async def test_domain_scope_without_scope_id_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/by-names",
            {"scope": {"scope_type": "domain"}, "config_names": ["theme"]},
        )
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert "scope_id is required for the domain scope" in body["msg"]

    async def test_unknown_scope_type_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/by-names",
            {"scope": {"scope_type": "galaxy"}, "config_names": ["theme"]},
        )
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_empty_config_names_is_bad_request(
        self, callers: Callers, accounts: Accounts
    ) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/by-names",
            {"scope": scope("domain", accounts.domain_a), "config_names": []},
        )
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert body["data"]["errors"][0]["loc"] == "config_names"

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        response = await callers.anonymous.post(
            f"{FRAGMENTS}/scoped/by-names",
            {"scope": scope("public"), "config_names": ["theme"]},
        )
        assert_problem(
            response,
            401,
            "auth-failed",
            title="Unauthorized access",
            error_code="auth_request_unauthorized",
        )


class TestMyByNames:
    async def test_returns_own_user_fragments_and_null_for_missing(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/my/by-names", {"config_names": ["menu", "theme"]}
        )
        assert assert_ok(response) == [None, theme_fragments_everywhere.fragments["user"]]

    async def test_never_returns_another_users_fragment(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.domain_admin.post(
            f"{FRAGMENTS}/my/by-names", {"config_names": ["theme"]}
        )
        assert assert_ok(response) == [None]

    async def test_wrong_type_of_names_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(f"{FRAGMENTS}/my/by-names", {"config_names": "theme"})
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        response = await callers.anonymous.post(
            f"{FRAGMENTS}/my/by-names", {"config_names": ["theme"]}
        )
        assert_problem(response, 401, "auth-failed")


class TestScopedBulkUpsert:
    async def test_inserts_in_request_order_with_empty_failed(
        self,
        callers: Callers,
        accounts: Accounts,
        theme_registered_everywhere: Registration,
        menu_registered_everywhere: Registration,
    ) -> None:
        response = await callers.domain_admin.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {
                "scope": scope("domain", accounts.domain_a),
                "items": [
                    {"config_name": "menu", "config": {"items": ["a", "b"]}},
                    {"config_name": "theme", "config": {"color": "blue"}},
                ],
            },
        )
        body = assert_ok(response)
        assert set(body) == {"items", "failed"}
        assert body["failed"] == []
        menu, theme = body["items"]
        assert_fragment_node(
            menu,
            config_name="menu",
            scope_type="domain",
            scope_id=accounts.domain_a,
            config={"items": ["a", "b"]},
        )
        assert_fragment_node(
            theme,
            config_name="theme",
            scope_type="domain",
            scope_id=accounts.domain_a,
            config={"color": "blue"},
        )
        assert menu["allow_list_rank"] == theme["allow_list_rank"] == 200
        assert menu["rank"] == theme["rank"] == 100

    async def test_public_upsert_without_scope_id_key_answers_scope_id_null(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        [node] = await upsert(callers.superadmin, scope("public"), {"theme": {"a": 1}})
        assert_fragment_node(
            node, config_name="theme", scope_type="public", scope_id=None, config={"a": 1}
        )

    async def test_replacing_keeps_id_and_created_at(
        self,
        callers: Callers,
        accounts: Accounts,
        theme_fragments_everywhere: ThemeEverywhere,
    ) -> None:
        before = theme_fragments_everywhere.fragments["domain"]
        [after] = await upsert(
            callers.domain_admin, scope("domain", accounts.domain_a), {"theme": {"new": 1}}
        )
        assert after["id"] == before["id"]
        assert after["created_at"] == before["created_at"]
        assert after["rank"] == before["rank"]
        assert after["config"] == {"new": 1}
        assert after["updated_at"] >= before["updated_at"]

    async def test_unregistered_name_rejects_the_whole_request(
        self, callers: Callers, accounts: Accounts, theme_registered_everywhere: Registration
    ) -> None:
        target = scope("domain", accounts.domain_a)
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {
                "scope": target,
                "items": [
                    {"config_name": "theme", "config": {"kept": False}},
                    {"config_name": "unknown", "config": {}},
                ],
            },
        )
        assert_problem(
            response,
            403,
            "app-config-fragment-write-not-allowed",
            title=WRITE_NOT_ALLOWED_TITLE,
            error_code="app_config_fragment_write_not_allowed",
            msg="Writing app config 'unknown' at scope 'domain' is not allowed.",
        )
        by_names = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/by-names", {"scope": target, "config_names": ["theme"]}
        )
        assert assert_ok(by_names) == [None]

    async def test_name_without_entry_for_the_scope_type_is_not_allowed(
        self, callers: Callers, domain_value_locked: Registration
    ) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {
                "scope": scope("user", callers.user.user_id),
                "items": [{"config_name": "theme", "config": {"color": "red"}}],
            },
        )
        assert_problem(
            response,
            403,
            "app-config-fragment-write-not-allowed",
            msg="Writing app config 'theme' at scope 'user' is not allowed.",
        )

    async def test_repeated_name_in_one_request_is_bad_request(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {
                "scope": scope("public"),
                "items": [
                    {"config_name": "theme", "config": {"a": 1}},
                    {"config_name": "theme", "config": {"b": 2}},
                ],
            },
        )
        assert_problem(
            response,
            400,
            "generic-bad-request",
            title="Invalid parameters",
            error_code="app_config_request_invalid_parameters",
            msg="Each config name may appear only once per upsert.",
        )

    async def test_unknown_item_field_is_bad_request(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {
                "scope": scope("public"),
                "items": [{"config_name": "theme", "config": {}, "colour": "x"}],
            },
        )
        body = assert_problem(
            response,
            400,
            "generic-bad-request",
            title="Invalid request body",
            error_code=VALIDATION,
        )
        assert body["data"]["errors"][0]["loc"] == "items.0.colour"

    async def test_config_that_is_not_an_object_is_bad_request(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        for config in (["a"], "text", 3, None):
            response = await callers.superadmin.post(
                f"{FRAGMENTS}/scoped/bulk-upsert",
                {"scope": scope("public"), "items": [{"config_name": "theme", "config": config}]},
            )
            body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
            assert body["data"]["errors"][0]["loc"].startswith("items.0.config"), config

    async def test_129_character_name_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {"scope": scope("public"), "items": [{"config_name": "n" * 129, "config": {}}]},
        )
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert body["data"]["errors"][0]["loc"] == "items.0.config_name"

    async def test_empty_items_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/bulk-upsert", {"scope": scope("public"), "items": []}
        )
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_malformed_json_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/bulk-upsert", raw=b'{"scope": {"scope_type": "public"'
        )
        assert_problem(
            response,
            400,
            "generic-bad-request",
            title="Malformed request body",
            error_code=MALFORMED,
        )

    async def test_forbidden_scope_for_domain_admin(
        self, callers: Callers, accounts: Accounts, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.domain_admin.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {
                "scope": scope("domain", accounts.domain_b),
                "items": [{"config_name": "theme", "config": {}}],
            },
        )
        assert_problem(response, 403, "generic-forbidden", error_code="app_config_access_forbidden")

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        response = await callers.anonymous.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {"scope": scope("public"), "items": [{"config_name": "theme", "config": {}}]},
        )
        assert_problem(response, 401, "auth-failed")

    async def test_missing_user_scope_is_not_found_for_superadmin(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/scoped/bulk-upsert",
            {
                "scope": scope("user", uuid.uuid4()),
                "items": [{"config_name": "theme", "config": {}}],
            },
        )
        assert_problem(response, 404, "entity-not-found", title="User not found")


class TestMyBulkUpsert:
    async def test_writes_at_callers_own_user_scope(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/my/bulk-upsert",
            {"items": [{"config_name": "theme", "config": {"color": "red"}}]},
        )
        body = assert_ok(response)
        assert body["failed"] == []
        [node] = body["items"]
        assert_fragment_node(
            node,
            config_name="theme",
            scope_type="user",
            scope_id=callers.user.user_id,
            config={"color": "red"},
        )
        assert node["allow_list_rank"] == 300

    async def test_without_user_entry_is_not_allowed(
        self, callers: Callers, domain_value_locked: Registration
    ) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/my/bulk-upsert",
            {"items": [{"config_name": "theme", "config": {"color": "red"}}]},
        )
        assert_problem(
            response,
            403,
            "app-config-fragment-write-not-allowed",
            title=WRITE_NOT_ALLOWED_TITLE,
            msg="Writing app config 'theme' at scope 'user' is not allowed.",
        )

    async def test_the_same_name_twice_is_a_bad_request_and_writes_nothing(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/my/bulk-upsert",
            {
                "items": [
                    {"config_name": "theme", "config": {"color": "red"}},
                    {"config_name": "theme", "config": {"color": "blue"}},
                ]
            },
        )
        assert_problem(
            response,
            400,
            "generic-bad-request",
            error_code="app_config_request_invalid_parameters",
            msg="Each config name may appear only once per upsert.",
        )
        merged = assert_ok(
            await callers.user.post(f"{CONFIGS}/my/get", {"config_names": ["theme"]})
        )
        assert merged["app_configs"] == [{"config_name": "theme", "config": {}}]

    async def test_scope_in_body_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/my/bulk-upsert",
            {"scope": scope("public"), "items": [{"config_name": "theme", "config": {}}]},
        )
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert body["data"]["errors"][0]["loc"] == "scope"

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        response = await callers.anonymous.post(
            f"{FRAGMENTS}/my/bulk-upsert", {"items": [{"config_name": "theme", "config": {}}]}
        )
        assert_problem(response, 401, "auth-failed")


class TestCreateFragment:
    async def test_created_with_201_and_next_rank(
        self,
        callers: Callers,
        accounts: Accounts,
        theme_fragments_everywhere: ThemeEverywhere,
        menu_registered_everywhere: Registration,
    ) -> None:
        highest = max(f["rank"] for f in theme_fragments_everywhere.fragments.values())
        response = await callers.domain_admin.post(
            f"{FRAGMENTS}/",
            {
                "config_name": "theme",
                "scope": scope("user", accounts.domain_admin["user_id"]),
                "config": {"mine": True},
            },
        )
        body = assert_ok(response, 201)
        assert set(body) == {"app_config_fragment"}
        node = body["app_config_fragment"]
        assert_fragment_node(
            node,
            config_name="theme",
            scope_type="user",
            scope_id=accounts.domain_admin["user_id"],
            config={"mine": True},
        )
        assert node["rank"] == highest + 100
        first_menu = await callers.superadmin.post(
            f"{FRAGMENTS}/", {"config_name": "menu", "scope": scope("public"), "config": {}}
        )
        assert assert_ok(first_menu, 201)["app_config_fragment"]["rank"] == 100

    async def test_existing_fragment_is_a_conflict(
        self, callers: Callers, accounts: Accounts, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.domain_admin.post(
            f"{FRAGMENTS}/",
            {"config_name": "theme", "scope": scope("domain", accounts.domain_a), "config": {}},
        )
        assert_problem(
            response,
            409,
            "unique-constraint-violation",
            title="Unique constraint violation",
            error_code="app_config_write_conflict",
        )

    async def test_without_allow_list_entry_is_not_allowed(
        self, callers: Callers, domain_value_locked: Registration
    ) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/",
            {
                "config_name": "theme",
                "scope": scope("user", callers.user.user_id),
                "config": {"color": "red"},
            },
        )
        assert_problem(
            response,
            403,
            "app-config-fragment-write-not-allowed",
            msg="Writing app config 'theme' at scope 'user' is not allowed.",
        )

    async def test_forbidden_scope(
        self, callers: Callers, accounts: Accounts, theme_registered_everywhere: Registration
    ) -> None:
        response = await callers.user.post(
            f"{FRAGMENTS}/",
            {"config_name": "theme", "scope": scope("domain", accounts.domain_a), "config": {}},
        )
        assert_problem(response, 403, "generic-forbidden")

    async def test_missing_scope_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/", {"config_name": "theme", "config": {}}
        )
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert body["data"]["errors"][0]["loc"] == "scope"

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        response = await callers.anonymous.post(
            f"{FRAGMENTS}/", {"config_name": "theme", "scope": scope("public"), "config": {}}
        )
        assert_problem(response, 401, "auth-failed")


class TestGetFragment:
    async def test_returns_the_node(
        self, callers: Callers, accounts: Accounts, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("other_user")
        response = await callers.domain_admin.get(f"{FRAGMENTS}/{fragment_id}")
        node = assert_ok(response)
        assert node == theme_fragments_everywhere.fragments["other_user"]
        assert_fragment_node(
            node,
            config_name="theme",
            scope_type="user",
            scope_id=accounts.other_user["user_id"],
            config=theme_config("other_user"),
        )

    async def test_missing_id_is_entity_not_found(self, callers: Callers) -> None:
        missing = uuid.uuid4()
        response = await callers.superadmin.get(f"{FRAGMENTS}/{missing}")
        assert_problem(
            response,
            404,
            "entity-not-found",
            title="App config fragment not found",
            error_code="app_config_fragment_lookup_not_found",
            msg=f"App config fragment {missing} not found.",
        )

    async def test_invisible_fragment_looks_exactly_like_a_missing_one(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        hidden = theme_fragments_everywhere.id_of("other_user")
        missing = str(uuid.uuid4())
        hidden_body = assert_problem(
            await callers.user.get(f"{FRAGMENTS}/{hidden}"), 404, "entity-not-found"
        )
        missing_body = assert_problem(
            await callers.user.get(f"{FRAGMENTS}/{missing}"), 404, "entity-not-found"
        )
        assert hidden_body == {**missing_body, "msg": missing_body["msg"].replace(missing, hidden)}

    async def test_malformed_id_is_an_unknown_url(self, callers: Callers) -> None:
        response = await callers.superadmin.get(f"{FRAGMENTS}/not-a-uuid")
        assert_problem(
            response,
            404,
            "url-not-found",
            title="Unknown URL path",
            error_code="api_routing_url-not-found",
        )

    async def test_unsigned_request_is_unauthorized(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("public")
        response = await callers.anonymous.get(f"{FRAGMENTS}/{fragment_id}")
        assert_problem(response, 401, "auth-failed")


class TestUpdateFragment:
    async def test_replaces_config(
        self, callers: Callers, accounts: Accounts, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        before = theme_fragments_everywhere.fragments["user"]
        response = await callers.user.patch(
            f"{FRAGMENTS}/{before['id']}", {"config": {"replaced": True}}
        )
        body = assert_ok(response)
        assert set(body) == {"app_config_fragment"}
        node = body["app_config_fragment"]
        assert_fragment_node(
            node,
            config_name="theme",
            scope_type="user",
            scope_id=accounts.user["user_id"],
            config={"replaced": True},
        )
        assert (node["id"], node["rank"], node["created_at"]) == (
            before["id"],
            before["rank"],
            before["created_at"],
        )

    async def test_superadmin_sets_rank(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("public")
        response = await callers.superadmin.patch(f"{FRAGMENTS}/{fragment_id}", {"rank": 5000})
        node = assert_ok(response)["app_config_fragment"]
        assert node["rank"] == 5000
        assert node["config"] == theme_config("public")

    async def test_rank_by_non_superadmin_is_forbidden(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("domain")
        response = await callers.domain_admin.patch(f"{FRAGMENTS}/{fragment_id}", {"rank": 1})
        assert_problem(
            response,
            403,
            "generic-forbidden",
            error_code="app_config_access_forbidden",
            msg="Only a superadmin may re-rank a fragment.",
        )

    async def test_empty_body_object_is_bad_request(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("user")
        response = await callers.user.patch(f"{FRAGMENTS}/{fragment_id}", {})
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert "give at least one of config, rank" in body["msg"]

    async def test_null_config_is_bad_request(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("user")
        response = await callers.user.patch(f"{FRAGMENTS}/{fragment_id}", {"config": None})
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_missing_id_is_entity_not_found(self, callers: Callers) -> None:
        response = await callers.superadmin.patch(f"{FRAGMENTS}/{uuid.uuid4()}", {"config": {}})
        assert_problem(response, 404, "entity-not-found", title="App config fragment not found")

    async def test_invisible_fragment_is_not_found(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("domain_b")
        response = await callers.domain_admin.patch(f"{FRAGMENTS}/{fragment_id}", {"config": {}})
        assert_problem(response, 404, "entity-not-found", title="App config fragment not found")

    async def test_malformed_id_is_an_unknown_url(self, callers: Callers) -> None:
        response = await callers.superadmin.patch(f"{FRAGMENTS}/123", {"config": {}})
        assert_problem(response, 404, "url-not-found")

    async def test_unsigned_request_is_unauthorized(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("public")
        response = await callers.anonymous.patch(f"{FRAGMENTS}/{fragment_id}", {"config": {}})
        assert_problem(response, 401, "auth-failed")


class TestDeleteFragment:
    async def test_deletes_and_answers_the_id(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("user")
        response = await callers.user.delete(f"{FRAGMENTS}/{fragment_id}")
        assert assert_ok(response) == {"id": fragment_id}
        again = await callers.user.delete(f"{FRAGMENTS}/{fragment_id}")
        assert_problem(again, 404, "entity-not-found", title="App config fragment not found")

    async def test_invisible_fragment_is_not_found_and_kept(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("public")
        response = await callers.domain_admin.delete(f"{FRAGMENTS}/{fragment_id}")
        assert_problem(response, 404, "entity-not-found", title="App config fragment not found")
        assert assert_ok(await callers.superadmin.get(f"{FRAGMENTS}/{fragment_id}"))

    async def test_malformed_id_is_an_unknown_url(self, callers: Callers) -> None:
        response = await callers.superadmin.delete(f"{FRAGMENTS}/zzz")
        assert_problem(response, 404, "url-not-found")

    async def test_unsigned_request_is_unauthorized(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        fragment_id = theme_fragments_everywhere.id_of("public")
        response = await callers.anonymous.delete(f"{FRAGMENTS}/{fragment_id}")
        assert_problem(response, 401, "auth-failed")


class TestBulkDelete:
    async def test_reports_each_id_in_request_order(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        mine = theme_fragments_everywhere.id_of("user")
        hidden = theme_fragments_everywhere.id_of("other_user")
        missing = str(uuid.uuid4())
        response = await callers.user.post(
            f"{FRAGMENTS}/bulk-delete", {"ids": [hidden, mine, missing, mine]}
        )
        assert assert_ok(response) == {
            "items": [mine],
            "failed": [
                {"id": hidden, "message": f"App config fragment {hidden} not found."},
                {"id": missing, "message": f"App config fragment {missing} not found."},
            ],
        }
        assert_problem(await callers.user.get(f"{FRAGMENTS}/{mine}"), 404, "entity-not-found")
        assert assert_ok(await callers.superadmin.get(f"{FRAGMENTS}/{hidden}"))

    async def test_empty_ids_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(f"{FRAGMENTS}/bulk-delete", {"ids": []})
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_malformed_id_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(f"{FRAGMENTS}/bulk-delete", {"ids": ["nope"]})
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert body["data"]["errors"][0]["loc"] == "ids.0"

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        response = await callers.anonymous.post(
            f"{FRAGMENTS}/bulk-delete", {"ids": [str(uuid.uuid4())]}
        )
        assert_problem(response, 401, "auth-failed")


class TestAdminSearch:
    async def test_unfiltered_search_hides_domain_user_defaults(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.superadmin.post(f"{FRAGMENTS}/admin/search", {"limit": 50})
        items = assert_search_page(
            assert_ok(response), total_count=6, has_next=False, has_previous=False
        )
        assert "domain_user_defaults" not in {item["scope_type"] for item in items}
        expected = {
            key: node
            for key, node in theme_fragments_everywhere.fragments.items()
            if key != "domain_user_defaults"
        }
        assert sorted(items, key=lambda i: i["id"]) == sorted(
            expected.values(), key=lambda i: i["id"]
        )

    @pytest.mark.parametrize(
        ("scope_filter", "total_count"),
        [
            ({"equals": "domain_user_defaults"}, 1),
            ({"in_": ["domain_user_defaults", "public"]}, 2),
            ({"in": ["domain_user_defaults"]}, 1),
        ],
        ids=["equals", "in_", "in"],
    )
    async def test_filter_naming_domain_user_defaults_returns_them(
        self,
        callers: Callers,
        theme_fragments_everywhere: ThemeEverywhere,
        scope_filter: dict[str, Any],
        total_count: int,
    ) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/admin/search", {"filter": {"scope_type": scope_filter}}
        )
        items = assert_search_page(
            assert_ok(response), total_count=total_count, has_next=False, has_previous=False
        )
        assert theme_fragments_everywhere.fragments["domain_user_defaults"] in items

    async def test_default_page_is_newest_first_limit_10(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        names = [f"n{i:02}" for i in range(12)]
        for name in names:
            await register(callers.superadmin, name, {"public": None})
            await upsert(callers.superadmin, scope("public"), {name: {}})
        body = assert_ok(await callers.superadmin.post(f"{FRAGMENTS}/admin/search", {}))
        items = assert_search_page(body, total_count=12, has_next=True, has_previous=False)
        assert [item["config_name"] for item in items] == names[::-1][:10]

    async def test_offset_page_with_order_and_name_filter(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        body = assert_ok(
            await callers.superadmin.post(
                f"{FRAGMENTS}/admin/search",
                {
                    "filter": {"config_name": {"contains": "them"}},
                    "order": [{"field": "created_at"}],
                    "limit": 2,
                    "offset": 2,
                },
            )
        )
        items = assert_search_page(body, total_count=6, has_next=True, has_previous=True)
        assert [item["id"] for item in items] == [
            theme_fragments_everywhere.id_of("user"),
            theme_fragments_everywhere.id_of("other_user"),
        ]

    async def test_mixed_pagination_modes_are_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/admin/search", {"first": 1, "limit": 1}
        )
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert "pagination modes must not be mixed" in body["msg"]

    async def test_unknown_order_field_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/admin/search", {"order": [{"field": "size"}]}
        )
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_domain_admin_is_forbidden(self, callers: Callers) -> None:
        response = await callers.domain_admin.post(f"{FRAGMENTS}/admin/search", {})
        assert_problem(
            response,
            403,
            "generic-forbidden",
            title="Insufficient privileges",
            error_code="auth_request_forbidden",
        )

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        assert_problem(
            await callers.anonymous.post(f"{FRAGMENTS}/admin/search", {}), 401, "auth-failed"
        )


class TestExplain:
    async def test_names_the_fragment_behind_each_leaf(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.user.post(f"{FRAGMENTS}/explain", {"config_name": "theme"})
        body = assert_ok(response)
        fragments = theme_fragments_everywhere.fragments
        assert body["config_name"] == "theme"
        assert body["config"] == {
            "set_by": "user",
            "public": True,
            "domain_user_defaults": True,
            "domain": True,
            "user": True,
        }
        provenance: dict[str, Any] = body["provenance"]
        assert provenance["/set_by"]["fragment_id"] == fragments["user"]["id"]
        assert provenance["/public"] == {
            "fragment_id": fragments["public"]["id"],
            "scope_type": "public",
            "scope_id": None,
            "allow_list_rank": 100,
            "rank": fragments["public"]["rank"],
        }
        assert provenance["/domain"]["scope_type"] == "domain"

    async def test_user_of_other_domain_is_forbidden_for_domain_admin(
        self, callers: Callers, accounts: Accounts
    ) -> None:
        response = await callers.domain_admin.post(
            f"{FRAGMENTS}/explain",
            {"config_name": "theme", "user_id": str(accounts.other_domain_user["user_id"])},
        )
        assert_problem(response, 403, "generic-forbidden", error_code="app_config_access_forbidden")

    async def test_missing_user_is_not_found_for_superadmin(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{FRAGMENTS}/explain", {"config_name": "theme", "user_id": str(uuid.uuid4())}
        )
        assert_problem(response, 404, "entity-not-found", title="User not found")

    async def test_missing_config_name_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(f"{FRAGMENTS}/explain", {})
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        response = await callers.anonymous.post(f"{FRAGMENTS}/explain", {"config_name": "theme"})
        assert_problem(response, 401, "auth-failed")
