"""Request bodies: the SDK's shapes are accepted, anything else is a validation error.

Every case runs through both `model_validate` (a parsed body) and `model_validate_json` (raw
bytes), because pydantic's strictness differs between the two input modes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel, ValidationError

from scoped_app_config.api.schemas.allow_list import CreateAllowListInput, UpdateAllowListInput
from scoped_app_config.api.schemas.app_config import (
    AdminGetAppConfigsInput,
    ExplainAppConfigInput,
    GetAppConfigsInput,
)
from scoped_app_config.api.schemas.common import ScopeRef, ScopeType
from scoped_app_config.api.schemas.definitions import CreateDefinitionInput
from scoped_app_config.api.schemas.fragments import (
    BulkDeleteFragmentsInput,
    CreateFragmentInput,
    MyFragmentsByNamesInput,
    MyUpsertFragmentsInput,
    ScopedFragmentsByNamesInput,
    ScopedUpsertFragmentsInput,
    UpdateFragmentInput,
)

DOMAIN_ID = "11111111-2222-3333-4444-555555555555"
USER_ID = "66666666-7777-8888-9999-000000000000"


M = TypeVar("M", bound=BaseModel)


def accept(model: type[M], payload: Any) -> M:
    parsed = model.model_validate(payload)
    assert model.model_validate_json(json.dumps(payload)) == parsed
    return parsed


def reject(model: type[BaseModel], payload: Any) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(payload)
    with pytest.raises(ValidationError):
        model.model_validate_json(json.dumps(payload))


class TestScopeRef:
    def test_public_without_scope_id_is_accepted(self) -> None:
        scope = accept(ScopeRef, {"scope_type": "public"})
        assert scope.scope_type is ScopeType.PUBLIC
        assert scope.scope_id is None

    def test_public_with_null_scope_id_is_accepted(self) -> None:
        assert accept(ScopeRef, {"scope_type": "public", "scope_id": None}).scope_id is None

    @pytest.mark.parametrize("scope_type", ["domain", "domain_user_defaults", "user"])
    def test_owned_scope_with_scope_id_is_accepted(self, scope_type: str) -> None:
        scope = accept(ScopeRef, {"scope_type": scope_type, "scope_id": DOMAIN_ID})
        assert scope.scope_id == uuid.UUID(DOMAIN_ID)

    def test_public_with_scope_id_is_rejected(self) -> None:
        reject(ScopeRef, {"scope_type": "public", "scope_id": DOMAIN_ID})

    @pytest.mark.parametrize("scope_type", ["domain", "domain_user_defaults", "user"])
    def test_owned_scope_without_scope_id_is_rejected(self, scope_type: str) -> None:
        reject(ScopeRef, {"scope_type": scope_type})
        reject(ScopeRef, {"scope_type": scope_type, "scope_id": None})

    @pytest.mark.parametrize(
        "payload",
        [
            {"scope_type": "project", "scope_id": DOMAIN_ID},
            {"scope_type": "PUBLIC"},
            {"scope_type": "domain", "scope_id": "not-a-uuid"},
            {"scope_type": "domain", "scope_id": 12},
            {"scope_type": "public", "owner": "x"},
        ],
    )
    def test_malformed_scope_is_rejected(self, payload: dict[str, Any]) -> None:
        reject(ScopeRef, payload)


class TestConfigNames:
    """The name-list rules every by-names and merged-read body shares."""

    @pytest.mark.parametrize(
        "model", [GetAppConfigsInput, MyFragmentsByNamesInput], ids=lambda m: m.__name__
    )
    def test_sdk_shape_is_accepted(self, model: type[BaseModel]) -> None:
        parsed = accept(model, {"config_names": ["theme", "menu", "theme"]})
        assert parsed.model_dump()["config_names"] == ["theme", "menu", "theme"]

    @pytest.mark.parametrize(
        "config_names",
        [[], [1], ["theme", None], "theme", ["x" * 129], [""], None],
        ids=["empty", "int", "null-item", "bare-string", "129-chars", "empty-name", "null"],
    )
    @pytest.mark.parametrize(
        "model", [GetAppConfigsInput, MyFragmentsByNamesInput], ids=lambda m: m.__name__
    )
    def test_invalid_names_are_rejected(self, model: type[BaseModel], config_names: Any) -> None:
        reject(model, {"config_names": config_names})

    def test_128_char_name_is_accepted(self) -> None:
        accept(GetAppConfigsInput, {"config_names": ["x" * 128]})

    def test_unknown_field_is_rejected(self) -> None:
        reject(GetAppConfigsInput, {"config_names": ["theme"], "scope": "public"})

    def test_missing_names_are_rejected(self) -> None:
        reject(GetAppConfigsInput, {})


class TestMergedReadInputs:
    def test_strict_defaults_to_false(self) -> None:
        assert accept(GetAppConfigsInput, {"config_names": ["theme"]}).strict is False

    def test_strict_true_is_accepted(self) -> None:
        assert accept(GetAppConfigsInput, {"config_names": ["a"], "strict": True}).strict is True

    @pytest.mark.parametrize("strict", ["true", 1, None])
    def test_non_boolean_strict_is_rejected(self, strict: Any) -> None:
        reject(GetAppConfigsInput, {"config_names": ["theme"], "strict": strict})

    def test_admin_read_names_a_user(self) -> None:
        parsed = accept(
            AdminGetAppConfigsInput,
            {"user_id": USER_ID, "config_names": ["theme"], "strict": True},
        )
        assert parsed.user_id == uuid.UUID(USER_ID)

    def test_admin_read_without_user_is_rejected(self) -> None:
        reject(AdminGetAppConfigsInput, {"config_names": ["theme"]})

    def test_explain_defaults_to_the_caller(self) -> None:
        assert accept(ExplainAppConfigInput, {"config_name": "theme"}).user_id is None

    def test_explain_for_a_user_is_accepted(self) -> None:
        accept(ExplainAppConfigInput, {"config_name": "theme", "user_id": USER_ID})

    @pytest.mark.parametrize(
        "payload",
        [{"config_name": ""}, {"config_name": ["theme"]}, {"config_names": ["theme"]}],
    )
    def test_invalid_explain_is_rejected(self, payload: dict[str, Any]) -> None:
        reject(ExplainAppConfigInput, payload)


class TestFragmentReadsAndUpserts:
    def test_scoped_by_names_sdk_shape_is_accepted(self) -> None:
        parsed = accept(
            ScopedFragmentsByNamesInput,
            {"scope": {"scope_type": "domain", "scope_id": DOMAIN_ID}, "config_names": ["a"]},
        )
        assert parsed.scope.scope_type is ScopeType.DOMAIN

    def test_scoped_upsert_sdk_shape_is_accepted(self) -> None:
        parsed = accept(
            ScopedUpsertFragmentsInput,
            {
                "scope": {"scope_type": "public"},
                "items": [{"config_name": "theme", "config": {"a": {"b": [1, None]}}}],
            },
        )
        assert parsed.items[0].config == {"a": {"b": [1, None]}}

    def test_my_upsert_accepts_an_empty_config(self) -> None:
        accept(MyUpsertFragmentsInput, {"items": [{"config_name": "theme", "config": {}}]})

    @pytest.mark.parametrize("config", [[1, 2], "{}", 1, None, True])
    def test_non_object_config_is_rejected(self, config: Any) -> None:
        reject(MyUpsertFragmentsInput, {"items": [{"config_name": "theme", "config": config}]})

    def test_empty_items_are_rejected(self) -> None:
        reject(MyUpsertFragmentsInput, {"items": []})

    def test_my_upsert_refuses_a_scope(self) -> None:
        reject(
            MyUpsertFragmentsInput,
            {"scope": {"scope_type": "public"}, "items": [{"config_name": "a", "config": {}}]},
        )

    def test_unknown_item_field_is_rejected(self) -> None:
        reject(
            MyUpsertFragmentsInput,
            {"items": [{"config_name": "a", "config": {}, "rank": 1}]},
        )

    def test_scoped_upsert_with_invalid_scope_is_rejected(self) -> None:
        reject(
            ScopedUpsertFragmentsInput,
            {"scope": {"scope_type": "user"}, "items": [{"config_name": "a", "config": {}}]},
        )


class TestFragmentCreateAndUpdate:
    def test_create_at_public_is_accepted(self) -> None:
        parsed = accept(
            CreateFragmentInput,
            {"config_name": "theme", "scope": {"scope_type": "public"}, "config": {"x": 1}},
        )
        assert parsed.scope.scope_id is None

    def test_create_with_rank_is_rejected(self) -> None:
        reject(
            CreateFragmentInput,
            {"config_name": "a", "scope": {"scope_type": "public"}, "config": {}, "rank": 1},
        )

    def test_create_with_list_config_is_rejected(self) -> None:
        reject(
            CreateFragmentInput,
            {"config_name": "a", "scope": {"scope_type": "public"}, "config": []},
        )

    @pytest.mark.parametrize(
        "payload", [{"config": {"a": 1}}, {"rank": 150}, {"config": {}, "rank": -5}]
    )
    def test_update_with_some_fields_is_accepted(self, payload: dict[str, Any]) -> None:
        accept(UpdateFragmentInput, payload)

    def test_update_leaves_unsent_fields_none(self) -> None:
        parsed = accept(UpdateFragmentInput, {"rank": 150})
        assert parsed.config is None
        assert parsed.model_fields_set == {"rank"}

    @pytest.mark.parametrize(
        "payload",
        [
            {},
            {"rank": "1"},
            {"rank": True},
            {"rank": 1.5},
            {"rank": 2**31},
            {"rank": None},
            {"config": None},
            {"config": "{}"},
            {"config": [1]},
            {"id": DOMAIN_ID, "rank": 1},
        ],
    )
    def test_invalid_update_is_rejected(self, payload: dict[str, Any]) -> None:
        reject(UpdateFragmentInput, payload)


class TestBulkDelete:
    def test_sdk_shape_is_accepted(self) -> None:
        assert accept(BulkDeleteFragmentsInput, {"ids": [DOMAIN_ID]}).ids == [uuid.UUID(DOMAIN_ID)]

    @pytest.mark.parametrize("ids", [[], ["nope"], DOMAIN_ID, [1]])
    def test_invalid_ids_are_rejected(self, ids: Any) -> None:
        reject(BulkDeleteFragmentsInput, {"ids": ids})


class TestDefinitionCreate:
    def test_sdk_shape_is_accepted(self) -> None:
        assert accept(CreateDefinitionInput, {"config_name": "theme"}).config_name == "theme"

    @pytest.mark.parametrize(
        "payload",
        [{"config_name": ""}, {"config_name": "x" * 129}, {"config_name": 5}, {}],
    )
    def test_invalid_name_is_rejected(self, payload: dict[str, Any]) -> None:
        reject(CreateDefinitionInput, payload)

    def test_unknown_field_is_rejected(self) -> None:
        reject(CreateDefinitionInput, {"config_name": "theme", "description": "x"})


class TestAllowListInputs:
    def test_create_without_rank_is_accepted(self) -> None:
        parsed = accept(CreateAllowListInput, {"config_name": "theme", "scope_type": "user"})
        assert parsed.rank is None
        assert parsed.scope_type is ScopeType.USER

    def test_create_with_rank_is_accepted(self) -> None:
        parsed = accept(
            CreateAllowListInput,
            {"config_name": "theme", "scope_type": "domain_user_defaults", "rank": 150},
        )
        assert parsed.rank == 150

    @pytest.mark.parametrize(
        "payload",
        [
            {"config_name": "theme", "scope_type": "user", "rank": "1"},
            {"config_name": "theme", "scope_type": "user", "rank": True},
            {"config_name": "theme", "scope_type": "group"},
            {"config_name": "theme"},
            {"config_name": "theme", "scope_type": "user", "scope_id": USER_ID},
        ],
    )
    def test_invalid_create_is_rejected(self, payload: dict[str, Any]) -> None:
        reject(CreateAllowListInput, payload)

    def test_update_sdk_shape_is_accepted(self) -> None:
        parsed = accept(UpdateAllowListInput, {"id": DOMAIN_ID, "rank": 400})
        assert parsed.rank == 400

    def test_update_with_only_the_id_is_accepted(self) -> None:
        assert accept(UpdateAllowListInput, {"id": DOMAIN_ID}).rank is None

    def test_update_without_the_id_is_accepted(self) -> None:
        assert accept(UpdateAllowListInput, {"rank": 1}).id is None

    @pytest.mark.parametrize(
        "payload",
        [{"rank": "400"}, {"rank": False}, {"id": "x"}, {"rank": 1, "scope_type": "user"}],
    )
    def test_invalid_update_is_rejected(self, payload: dict[str, Any]) -> None:
        reject(UpdateAllowListInput, payload)
