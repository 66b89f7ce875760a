"""Response models: built from plain values, they dump exactly the WIRE.md §4 shapes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from scoped_app_config.api.schemas.allow_list import (
    AllowListNode,
    AllowListSearchPayload,
    AllowListWritePayload,
)
from scoped_app_config.api.schemas.app_config import (
    AppConfigNode,
    Contributor,
    ExplainAppConfigPayload,
    GetAppConfigsPayload,
)
from scoped_app_config.api.schemas.common import ProblemDetail, PurgePayload, ScopeType
from scoped_app_config.api.schemas.definitions import (
    DefinitionNode,
    DefinitionSearchPayload,
    DefinitionWritePayload,
)
from scoped_app_config.api.schemas.fragments import (
    BulkDeleteFragmentsPayload,
    FragmentDeleteFailure,
    FragmentNode,
    FragmentsByNamesPayload,
    FragmentUpsertFailure,
    FragmentWritePayload,
    UpsertFragmentsPayload,
)

FRAGMENT_ID = "0b7e4a7e-1111-2222-3333-444455556666"
USER_ID = "66666666-7777-8888-9999-000000000000"
CREATED = datetime(2026, 8, 23, 1, 2, 3, 456789, tzinfo=UTC)
UPDATED = datetime(2026, 8, 23, 10, 0, tzinfo=timezone(timedelta(hours=9)))


def public_fragment() -> FragmentNode:
    return FragmentNode(
        id=uuid.UUID(FRAGMENT_ID),
        config_name="theme",
        scope_type=ScopeType.PUBLIC,
        scope_id=None,
        config={"color": "dark", "sizes": [1, 2]},
        rank=100,
        allow_list_rank=100,
        created_at=CREATED,
        updated_at=UPDATED,
    )


def user_fragment_from_strings() -> FragmentNode:
    values: dict[str, Any] = {
        "id": FRAGMENT_ID,
        "config_name": "theme",
        "scope_type": "user",
        "scope_id": USER_ID,
        "config": {},
        "rank": 200,
        "allow_list_rank": 300,
        "created_at": CREATED,
        "updated_at": CREATED,
    }
    return FragmentNode.model_validate(values)


class TestFragmentNode:
    def test_public_fragment_dumps_the_wire_shape(self) -> None:
        assert public_fragment().model_dump(mode="json") == {
            "id": FRAGMENT_ID,
            "entity_id": FRAGMENT_ID,
            "config_name": "theme",
            "scope_type": "public",
            "scope_id": None,
            "config": {"color": "dark", "sizes": [1, 2]},
            "rank": 100,
            "allow_list_rank": 100,
            "created_at": "2026-08-23T01:02:03.456789Z",
            "updated_at": "2026-08-23T10:00:00+09:00",
        }

    def test_entity_id_equals_id(self) -> None:
        node = user_fragment_from_strings()
        assert node.entity_id == node.id == uuid.UUID(FRAGMENT_ID)

    def test_is_constructible_from_strings(self) -> None:
        dumped = user_fragment_from_strings().model_dump(mode="json")
        assert dumped["scope_type"] == "user"
        assert dumped["scope_id"] == USER_ID

    def test_dumped_timestamps_carry_a_timezone(self) -> None:
        dumped = public_fragment().model_dump(mode="json")
        for key in ("created_at", "updated_at"):
            assert datetime.fromisoformat(dumped[key]).tzinfo is not None

    def test_dump_validates_again(self) -> None:
        node = public_fragment()
        assert FragmentNode.model_validate(node.model_dump(mode="json")) == node
        assert FragmentNode.model_validate_json(node.model_dump_json()) == node

    def test_differing_entity_id_is_rejected(self) -> None:
        dumped = public_fragment().model_dump(mode="json")
        dumped["entity_id"] = USER_ID
        with pytest.raises(ValidationError):
            FragmentNode.model_validate(dumped)

    def test_naive_timestamp_is_rejected(self) -> None:
        with pytest.raises(ValidationError):
            FragmentNode.model_validate(
                {**public_fragment().model_dump(), "created_at": datetime(2026, 1, 1)}
            )

    @pytest.mark.parametrize(
        ("scope_type", "scope_id"), [("public", USER_ID), ("user", None), ("domain", None)]
    )
    def test_scope_id_must_be_null_exactly_for_public(
        self, scope_type: str, scope_id: str | None
    ) -> None:
        values = {**public_fragment().model_dump(), "scope_type": scope_type, "scope_id": scope_id}
        with pytest.raises(ValidationError):
            FragmentNode.model_validate(values)

    def test_unknown_field_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            FragmentNode.model_validate({**public_fragment().model_dump(), "scope": "public"})


class TestFragmentPayloads:
    def test_by_names_is_a_bare_array_with_nulls(self) -> None:
        payload = FragmentsByNamesPayload([public_fragment(), None])
        dumped = payload.model_dump(mode="json")
        assert isinstance(dumped, list)
        assert dumped[1] is None
        assert dumped[0]["entity_id"] == FRAGMENT_ID

    def test_by_names_is_constructible_from_dicts(self) -> None:
        payload = FragmentsByNamesPayload.model_validate(
            [None, public_fragment().model_dump(mode="json")]
        )
        assert payload.root[0] is None
        assert payload.root[1] == public_fragment()

    def test_upsert_payload_has_empty_failed_by_default(self) -> None:
        dumped = UpsertFragmentsPayload(items=[public_fragment()]).model_dump(mode="json")
        assert set(dumped) == {"items", "failed"}
        assert dumped["failed"] == []

    def test_upsert_failure_names_the_config(self) -> None:
        payload = UpsertFragmentsPayload(
            items=[], failed=[FragmentUpsertFailure(config_name="theme", message="no")]
        )
        assert payload.model_dump(mode="json")["failed"] == [
            {"config_name": "theme", "message": "no"}
        ]

    def test_bulk_delete_payload_dumps_ids_as_strings(self) -> None:
        payload = BulkDeleteFragmentsPayload(
            items=[uuid.UUID(FRAGMENT_ID)],
            failed=[FragmentDeleteFailure(id=uuid.UUID(USER_ID), message="Not found")],
        )
        assert payload.model_dump(mode="json") == {
            "items": [FRAGMENT_ID],
            "failed": [{"id": USER_ID, "message": "Not found"}],
        }

    def test_write_payload_wraps_the_node(self) -> None:
        dumped = FragmentWritePayload(app_config_fragment=public_fragment()).model_dump(mode="json")
        assert set(dumped) == {"app_config_fragment"}
        assert dumped["app_config_fragment"]["id"] == FRAGMENT_ID


class TestDefinitionAndAllowList:
    def test_definition_node_dumps_the_wire_shape(self) -> None:
        node = DefinitionNode(
            id=uuid.UUID(FRAGMENT_ID), config_name="theme", created_at=CREATED, updated_at=CREATED
        )
        assert DefinitionWritePayload(app_config_definition=node).model_dump(mode="json") == {
            "app_config_definition": {
                "id": FRAGMENT_ID,
                "entity_id": FRAGMENT_ID,
                "config_name": "theme",
                "created_at": "2026-08-23T01:02:03.456789Z",
                "updated_at": "2026-08-23T01:02:03.456789Z",
            }
        }

    def test_allow_list_node_dumps_the_wire_shape(self) -> None:
        node = AllowListNode.model_validate(
            {
                "id": FRAGMENT_ID,
                "config_name": "theme",
                "scope_type": "domain_user_defaults",
                "rank": 150,
                "created_at": CREATED,
                "updated_at": CREATED,
            }
        )
        dumped = AllowListWritePayload(app_config_allow_list=node).model_dump(mode="json")
        assert dumped["app_config_allow_list"] == {
            "id": FRAGMENT_ID,
            "entity_id": FRAGMENT_ID,
            "config_name": "theme",
            "scope_type": "domain_user_defaults",
            "rank": 150,
            "created_at": "2026-08-23T01:02:03.456789Z",
            "updated_at": "2026-08-23T01:02:03.456789Z",
        }

    def test_search_payloads_dump_page_info(self) -> None:
        node = DefinitionNode(
            id=uuid.UUID(FRAGMENT_ID), config_name="theme", created_at=CREATED, updated_at=CREATED
        )
        dumped = DefinitionSearchPayload(
            items=[node], total_count=11, has_next_page=True, has_previous_page=False
        ).model_dump(mode="json")
        assert set(dumped) == {"items", "total_count", "has_next_page", "has_previous_page"}
        assert dumped["total_count"] == 11
        empty = AllowListSearchPayload(
            items=[], total_count=0, has_next_page=False, has_previous_page=False
        )
        assert empty.model_dump(mode="json")["items"] == []

    def test_purge_payload_is_the_id(self) -> None:
        assert PurgePayload.model_validate({"id": FRAGMENT_ID}).model_dump(mode="json") == {
            "id": FRAGMENT_ID
        }


class TestMergedPayloads:
    def test_get_app_configs_payload_keeps_order_and_repeats(self) -> None:
        payload = GetAppConfigsPayload(
            app_configs=[
                AppConfigNode(config_name="theme", config={"a": 1}),
                AppConfigNode(config_name="menu", config={}),
                AppConfigNode(config_name="theme", config={"a": 1}),
            ]
        )
        assert payload.model_dump(mode="json") == {
            "app_configs": [
                {"config_name": "theme", "config": {"a": 1}},
                {"config_name": "menu", "config": {}},
                {"config_name": "theme", "config": {"a": 1}},
            ]
        }

    def test_explain_payload_maps_pointers_to_contributors(self) -> None:
        payload = ExplainAppConfigPayload(
            config_name="theme",
            config={"color": "dark"},
            provenance={
                "/color": Contributor(
                    fragment_id=uuid.UUID(FRAGMENT_ID),
                    scope_type=ScopeType.PUBLIC,
                    scope_id=None,
                    allow_list_rank=100,
                    rank=100,
                )
            },
        )
        assert payload.model_dump(mode="json")["provenance"] == {
            "/color": {
                "fragment_id": FRAGMENT_ID,
                "scope_type": "public",
                "scope_id": None,
                "allow_list_rank": 100,
                "rank": 100,
            }
        }


class TestProblemDetail:
    def test_optional_members_may_be_absent(self) -> None:
        problem = ProblemDetail(
            type="https://api.backend.ai/probs/entity-not-found",
            title="Entity not found",
            error_code="app-config_get_not-found",
        )
        assert problem.model_dump(exclude_none=True) == {
            "type": "https://api.backend.ai/probs/entity-not-found",
            "title": "Entity not found",
            "error_code": "app-config_get_not-found",
        }
