"""Merged reads: my/get, public/get and admin/get (shape, order, repeats, strict, errors)."""

from __future__ import annotations

import uuid

from api_scenarios import Callers, ThemeEverywhere
from api_support import Registration, assert_ok, assert_problem, register, scope, upsert

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import (  # type: ignore[import-not-found, unused-ignore]
    CONFIGS,
    Accounts,
)

VALIDATION = "app_config_request_validation_failed"

USER_A_THEME = {
    "set_by": "user",
    "public": True,
    "domain_user_defaults": True,
    "domain": True,
    "user": True,
}


class TestMyGet:
    async def test_merges_public_domain_defaults_domain_and_own_user(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.user.post(f"{CONFIGS}/my/get", {"config_names": ["theme"]})
        assert assert_ok(response) == {
            "app_configs": [{"config_name": "theme", "config": USER_A_THEME}]
        }

    async def test_keeps_request_order_repeats_names_and_gives_empty_config(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.user.post(
            f"{CONFIGS}/my/get", {"config_names": ["nothing", "theme", "nothing", "theme"]}
        )
        assert assert_ok(response) == {
            "app_configs": [
                {"config_name": "nothing", "config": {}},
                {"config_name": "theme", "config": USER_A_THEME},
                {"config_name": "nothing", "config": {}},
                {"config_name": "theme", "config": USER_A_THEME},
            ]
        }

    async def test_other_domain_user_sees_only_public_and_own_domain(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        assert await callers.other_domain_user.merged_config("theme") == {
            "set_by": "other_domain_user",
            "public": True,
            "domain_b": True,
            "other_domain_user": True,
        }

    async def test_admin_without_user_fragment_sees_domain_view(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        assert await callers.domain_admin.merged_config("theme") == {
            "set_by": "domain",
            "public": True,
            "domain_user_defaults": True,
            "domain": True,
        }

    async def test_registered_name_without_fragments_gives_empty_config(
        self, callers: Callers, theme_registered_everywhere: Registration
    ) -> None:
        # A definition alone contributes nothing: every merged read gives {}.
        assert await callers.user.merged_config("theme") == {}
        await register(callers.superadmin, "menu", {"public": None})
        assert await callers.anonymous.merged("menu", path=f"{CONFIGS}/public/get") == {"menu": {}}

    async def test_strict_names_every_missing_name(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.user.post(
            f"{CONFIGS}/my/get",
            {"config_names": ["ghost", "theme", "phantom", "ghost"], "strict": True},
        )
        assert_problem(
            response,
            404,
            "app-config-not-found",
            title="App config not found",
            error_code="app_config_merged_read_not_found",
            msg="Nothing contributes to app config(s): 'ghost', 'phantom'",
        )

    async def test_strict_succeeds_when_an_empty_fragment_contributes(
        self, callers: Callers, accounts: Accounts, theme_registered_everywhere: Registration
    ) -> None:
        await upsert(callers.superadmin, scope("domain", accounts.domain_a), {"theme": {}})
        for _ in range(2):  # the second read comes from the cache
            response = await callers.user.post(
                f"{CONFIGS}/my/get", {"config_names": ["theme"], "strict": True}
            )
            assert assert_ok(response) == {"app_configs": [{"config_name": "theme", "config": {}}]}

    async def test_strict_that_is_not_a_boolean_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(
            f"{CONFIGS}/my/get", {"config_names": ["theme"], "strict": "yes"}
        )
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert body["data"]["errors"][0]["loc"] == "strict"

    async def test_user_id_in_body_is_refused(self, callers: Callers, accounts: Accounts) -> None:
        response = await callers.user.post(
            f"{CONFIGS}/my/get",
            {"config_names": ["theme"], "user_id": str(accounts.other_user["user_id"])},
        )
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert body["data"]["errors"][0]["loc"] == "user_id"

    async def test_empty_names_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(f"{CONFIGS}/my/get", {"config_names": []})
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_non_string_name_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(f"{CONFIGS}/my/get", {"config_names": [1]})
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_body_that_is_not_an_object_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(f"{CONFIGS}/my/get", ["theme"])
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)

    async def test_malformed_json_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(f"{CONFIGS}/my/get", raw=b"{config_names:")
        assert_problem(
            response,
            400,
            "generic-bad-request",
            title="Malformed request body",
            error_code="api_parsing_malformed-body",
        )

    async def test_empty_body_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.post(f"{CONFIGS}/my/get")
        assert_problem(response, 400, "generic-bad-request", title="Malformed request body")

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        response = await callers.anonymous.post(f"{CONFIGS}/my/get", {"config_names": ["theme"]})
        assert_problem(
            response,
            401,
            "auth-failed",
            title="Unauthorized access",
            error_code="auth_request_unauthorized",
        )


class TestPublicGet:
    async def test_anonymous_caller_gets_public_fragments_only(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.anonymous.post(
            f"{CONFIGS}/public/get", {"config_names": ["theme", "other"]}
        )
        assert assert_ok(response) == {
            "app_configs": [
                {"config_name": "theme", "config": {"set_by": "public", "public": True}},
                {"config_name": "other", "config": {}},
            ]
        }

    async def test_signed_caller_still_gets_public_view_only(
        self, callers: Callers, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        configs = await callers.user.merged("theme", path=f"{CONFIGS}/public/get")
        assert configs == {"theme": {"set_by": "public", "public": True}}

    async def test_strict_missing_is_not_found(self, callers: Callers) -> None:
        response = await callers.anonymous.post(
            f"{CONFIGS}/public/get", {"config_names": ["ghost"], "strict": True}
        )
        assert_problem(
            response,
            404,
            "app-config-not-found",
            msg="Nothing contributes to app config(s): 'ghost'",
        )

    async def test_domain_fragment_alone_does_not_satisfy_strict_public_read(
        self, callers: Callers, domain_value_locked: Registration
    ) -> None:
        response = await callers.anonymous.post(
            f"{CONFIGS}/public/get", {"config_names": ["theme"], "strict": True}
        )
        assert_problem(response, 404, "app-config-not-found")

    async def test_unknown_field_is_bad_request(self, callers: Callers) -> None:
        response = await callers.anonymous.post(
            f"{CONFIGS}/public/get", {"config_names": ["theme"], "scope": "public"}
        )
        assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)


class TestAdminGet:
    async def test_superadmin_reads_any_users_view(
        self, callers: Callers, accounts: Accounts, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.superadmin.post(
            f"{CONFIGS}/admin/get",
            {"user_id": str(accounts.user["user_id"]), "config_names": ["theme", "theme"]},
        )
        assert assert_ok(response) == {
            "app_configs": [
                {"config_name": "theme", "config": USER_A_THEME},
                {"config_name": "theme", "config": USER_A_THEME},
            ]
        }

    async def test_domain_admin_reads_own_domain_user(
        self, callers: Callers, accounts: Accounts, theme_fragments_everywhere: ThemeEverywhere
    ) -> None:
        response = await callers.domain_admin.post(
            f"{CONFIGS}/admin/get",
            {"user_id": str(accounts.other_user["user_id"]), "config_names": ["theme"]},
        )
        [entry] = assert_ok(response)["app_configs"]
        assert entry["config"]["set_by"] == "other_user"

    async def test_domain_admin_may_not_read_other_domain_user(
        self, callers: Callers, accounts: Accounts
    ) -> None:
        response = await callers.domain_admin.post(
            f"{CONFIGS}/admin/get",
            {"user_id": str(accounts.other_domain_user["user_id"]), "config_names": ["theme"]},
        )
        assert_problem(
            response,
            403,
            "generic-forbidden",
            title="Insufficient privileges",
            error_code="app_config_access_forbidden",
            msg="You may not read this user's app configs.",
        )

    async def test_domain_admin_cannot_probe_for_missing_users(self, callers: Callers) -> None:
        response = await callers.domain_admin.post(
            f"{CONFIGS}/admin/get", {"user_id": str(uuid.uuid4()), "config_names": ["theme"]}
        )
        assert_problem(response, 403, "generic-forbidden")

    async def test_user_is_forbidden(self, callers: Callers) -> None:
        response = await callers.user.post(
            f"{CONFIGS}/admin/get",
            {"user_id": str(callers.user.user_id), "config_names": ["theme"]},
        )
        assert_problem(response, 403, "generic-forbidden", error_code="auth_request_forbidden")

    async def test_missing_user_is_not_found_for_superadmin(self, callers: Callers) -> None:
        missing = uuid.uuid4()
        response = await callers.superadmin.post(
            f"{CONFIGS}/admin/get", {"user_id": str(missing), "config_names": ["theme"]}
        )
        assert_problem(
            response,
            404,
            "entity-not-found",
            title="User not found",
            error_code="app_config_user_lookup_not_found",
            msg=f"User {missing} not found.",
        )

    async def test_strict_missing_is_not_found(self, callers: Callers, accounts: Accounts) -> None:
        response = await callers.superadmin.post(
            f"{CONFIGS}/admin/get",
            {"user_id": str(accounts.user["user_id"]), "config_names": ["x"], "strict": True},
        )
        assert_problem(response, 404, "app-config-not-found")

    async def test_malformed_user_id_is_bad_request(self, callers: Callers) -> None:
        response = await callers.superadmin.post(
            f"{CONFIGS}/admin/get", {"user_id": "me", "config_names": ["theme"]}
        )
        body = assert_problem(response, 400, "generic-bad-request", error_code=VALIDATION)
        assert body["data"]["errors"][0]["loc"] == "user_id"

    async def test_unsigned_request_is_unauthorized(self, callers: Callers) -> None:
        response = await callers.anonymous.post(
            f"{CONFIGS}/admin/get", {"user_id": str(uuid.uuid4()), "config_names": ["theme"]}
        )
        assert_problem(response, 401, "auth-failed")


class TestTransport:
    """Host behaviour every route shares, checked once on the plugin's routes."""

    async def test_unsupported_api_version_is_bad_request(self, callers: Callers) -> None:
        response = await callers.user.request(
            "POST", f"{CONFIGS}/my/get", {"config_names": ["x"]}, version="v99.20990101"
        )
        assert_problem(response, 400, "generic-bad-request", title="Unsupported API version.")

    async def test_oldest_supported_api_version_is_accepted(self, callers: Callers) -> None:
        response = await callers.user.request(
            "POST", f"{CONFIGS}/my/get", {"config_names": ["x"]}, version="v4.20181215"
        )
        assert assert_ok(response) == {"app_configs": [{"config_name": "x", "config": {}}]}

    async def test_unknown_path_under_the_prefix_is_url_not_found(self, callers: Callers) -> None:
        response = await callers.user.post(f"{CONFIGS}/my/nothing", {})
        assert_problem(response, 404, "url-not-found")

    async def test_wrong_method_is_method_not_allowed(self, callers: Callers) -> None:
        response = await callers.user.get(f"{CONFIGS}/my/get")
        assert_problem(response, 405, "method-not-allowed")
