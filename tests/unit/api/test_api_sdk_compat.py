"""Cross-check with the official SDK (backend.ai-client 26.9.6) in its own Python 3.13 venv.

The SDK builds every request body the way its client sends it (our models must accept each),
and validates our response dumps with its own response models. Skipped without the SDK venv
(`SDK_VENV_PYTHON`, default `.venv-sdk/bin/python`).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from scoped_app_config.api.schemas.allow_list import (
    AllowListNode,
    AllowListSearchPayload,
    AllowListWritePayload,
    CreateAllowListInput,
    UpdateAllowListInput,
)
from scoped_app_config.api.schemas.app_config import (
    AppConfigNode,
    GetAppConfigsInput,
    GetAppConfigsPayload,
)
from scoped_app_config.api.schemas.common import PurgePayload, ScopeType
from scoped_app_config.api.schemas.definitions import (
    CreateDefinitionInput,
    DefinitionNode,
    DefinitionSearchPayload,
    DefinitionWritePayload,
)
from scoped_app_config.api.schemas.fragments import (
    BulkDeleteFragmentsInput,
    BulkDeleteFragmentsPayload,
    FragmentDeleteFailure,
    FragmentNode,
    FragmentsByNamesPayload,
    FragmentSearchPayload,
    MyFragmentsByNamesInput,
    MyUpsertFragmentsInput,
    ScopedFragmentsByNamesInput,
    ScopedUpsertFragmentsInput,
    UpsertFragmentsPayload,
)
from scoped_app_config.api.schemas.search import (
    AllowListSearchInput,
    DefinitionSearchInput,
    FragmentSearchInput,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
SDK_PYTHON = Path(os.environ.get("SDK_VENV_PYTHON", REPO_ROOT / ".venv-sdk" / "bin" / "python"))

# Runs under the SDK's interpreter: reads our dumps on stdin, answers JSON on stdout.
SDK_SCRIPT = r"""
import json, sys, uuid
from datetime import UTC, datetime
from ai.backend.common.data.app_config.types import AppConfigScopeType as T
from ai.backend.common.dto.manager.query import DateTimeFilter, StringFilter
from ai.backend.common.dto.manager.v2.common import OrderDirection
from ai.backend.common.dto.manager.v2.app_config import request as ac_req, response as ac_res
from ai.backend.common.dto.manager.v2.app_config_fragment import (
    request as fr_req, response as fr_res, types as fr_types)
from ai.backend.common.dto.manager.v2.app_config_definition import (
    request as de_req, response as de_res, types as de_types)
from ai.backend.common.dto.manager.v2.app_config_allow_list import (
    request as al_req, response as al_res, types as al_types)

def sent(model):  # what V2 typed_request puts on the wire
    return model.model_dump(mode="json", exclude_none=True, exclude_unset=True)

U = uuid.UUID("11111111-2222-3333-4444-555555555555")
when = datetime(2026, 1, 1, tzinfo=UTC)
requests = {
    "GetAppConfigsInput": [sent(ac_req.MyGetAppConfigsInput(config_names=["a", "b"])),
                           sent(ac_req.PublicGetAppConfigsInput(config_names=["a"]))],
    "ScopedFragmentsByNamesInput": [
        sent(fr_req.ScopedAppConfigFragmentsByNamesInput(
            scope=fr_req.AppConfigScopeRef(scope_type=T.PUBLIC), config_names=["a"])),
        sent(fr_req.ScopedAppConfigFragmentsByNamesInput(
            scope=fr_req.AppConfigScopeRef(scope_type=T.DOMAIN, scope_id=U),
            config_names=["a"]))],
    "ScopedUpsertFragmentsInput": [sent(fr_req.ScopedUpsertAppConfigFragmentsInput(
        scope=fr_req.AppConfigScopeRef(scope_type=T.USER, scope_id=U),
        items=[fr_req.AppConfigFragmentUpsertItem(config_name="a", config={"x": [1]})]))],
    "MyFragmentsByNamesInput": [sent(fr_req.MyAppConfigFragmentsByNamesInput(config_names=["a"]))],
    "MyUpsertFragmentsInput": [sent(fr_req.MyUpsertAppConfigFragmentsInput(
        items=[fr_req.AppConfigFragmentUpsertItem(config_name="a", config={})]))],
    "BulkDeleteFragmentsInput": [sent(fr_req.BulkPurgeAppConfigFragmentInput(ids=[U]))],
    "FragmentSearchInput": [sent(fr_req.AdminSearchAppConfigFragmentInput(
        filter=fr_req.AppConfigFragmentFilter(
            config_name=StringFilter(in_=["a"], i_not_in=["b"]),
            scope_type=fr_types.AppConfigScopeTypeFilter(in_=[T.USER], not_equals=T.PUBLIC),
            created_at=DateTimeFilter(after=when),
            AND=[fr_req.AppConfigFragmentFilter(updated_at=DateTimeFilter(before=when))],
            NOT=[fr_req.AppConfigFragmentFilter(config_name=StringFilter(i_contains="x"))]),
        order=[fr_req.AppConfigFragmentOrder(field=fr_types.AppConfigFragmentOrderField.SCOPE_TYPE),
               fr_req.AppConfigFragmentOrder(field=fr_types.AppConfigFragmentOrderField.CREATED_AT,
                                             direction=OrderDirection.DESC)],
        last=3, before="Y3Vyc29y")),
        sent(fr_req.AdminSearchAppConfigFragmentInput(limit=5, offset=10))],
    "CreateDefinitionInput": [sent(de_req.CreateAppConfigDefinitionInput(config_name="a"))],
    "DefinitionSearchInput": [sent(de_req.SearchAppConfigDefinitionsInput(
        filter=de_req.AppConfigDefinitionFilter(
            OR=[de_req.AppConfigDefinitionFilter(config_name=StringFilter(starts_with="t"))]),
        order=[de_req.AppConfigDefinitionOrder(
            field=de_types.AppConfigDefinitionOrderField.CONFIG_NAME)],
        first=10))],
    "CreateAllowListInput": [
        sent(al_req.CreateAppConfigAllowListInput(config_name="a", scope_type=T.USER)),
        sent(al_req.CreateAppConfigAllowListInput(config_name="a", scope_type=T.DOMAIN, rank=400))],
    "UpdateAllowListInput": [sent(al_req.UpdateAppConfigAllowListInput(id=U, rank=1)),
                             sent(al_req.UpdateAppConfigAllowListInput(id=U))],
    "AllowListSearchInput": [sent(al_req.SearchAppConfigAllowListInput(
        filter=al_req.AppConfigAllowListFilter(
            scope_type=al_types.AppConfigScopeTypeFilter(equals=T.DOMAIN)),
        order=[al_req.AppConfigAllowListOrder(
            field=al_types.AppConfigAllowListOrderField.RANK, direction=OrderDirection.DESC)]))],
}
response_models = {
    "GetAppConfigsPayload": ac_res.GetAppConfigsPayload,
    "FragmentsByNamesPayload": fr_res.AppConfigFragmentsByNamesPayload,
    "UpsertFragmentsPayload": fr_res.UpsertAppConfigFragmentsPayload,
    "FragmentNode": fr_res.AppConfigFragmentNode,
    "PurgePayload": fr_res.PurgeAppConfigFragmentPayload,
    "BulkDeleteFragmentsPayload": fr_res.BulkPurgeAppConfigFragmentPayload,
    "FragmentSearchPayload": fr_res.SearchAppConfigFragmentPayload,
    "DefinitionWritePayload": de_res.CreateAppConfigDefinitionPayload,
    "DefinitionNode": de_res.AppConfigDefinitionNode,
    "DefinitionSearchPayload": de_res.SearchAppConfigDefinitionsPayload,
    "DefinitionPurgePayload": de_res.PurgeAppConfigDefinitionPayload,
    "AllowListWritePayload": al_res.CreateAppConfigAllowListPayload,
    "AllowListUpdatePayload": al_res.UpdateAppConfigAllowListPayload,
    "AllowListNode": al_res.AppConfigAllowListNode,
    "AllowListSearchPayload": al_res.SearchAppConfigAllowListPayload,
}
responses = {}
for name, body in json.load(sys.stdin).items():
    try:
        response_models[name].model_validate(body)
        responses[name] = "ok"
    except Exception as exc:
        responses[name] = repr(exc)
print(json.dumps({"requests": requests, "responses": responses}))
"""

OUR_REQUEST_MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        GetAppConfigsInput,
        ScopedFragmentsByNamesInput,
        ScopedUpsertFragmentsInput,
        MyFragmentsByNamesInput,
        MyUpsertFragmentsInput,
        BulkDeleteFragmentsInput,
        FragmentSearchInput,
        CreateDefinitionInput,
        DefinitionSearchInput,
        CreateAllowListInput,
        UpdateAllowListInput,
        AllowListSearchInput,
    )
}

ID = uuid.UUID("0b7e4a7e-1111-2222-3333-444455556666")
NOW = datetime(2026, 8, 23, 1, 2, 3, 456789, tzinfo=UTC)


def _our_responses() -> dict[str, Any]:
    fragment = FragmentNode(
        id=ID,
        config_name="theme",
        scope_type=ScopeType.USER,
        scope_id=uuid.uuid4(),
        config={"a": {"b": None}},
        rank=100,
        allow_list_rank=300,
        created_at=NOW,
        updated_at=NOW,
    )
    public = fragment.model_copy(update={"scope_type": ScopeType.PUBLIC, "scope_id": None})
    definition = DefinitionNode(id=ID, config_name="theme", created_at=NOW, updated_at=NOW)
    entry = AllowListNode(
        id=ID, config_name="theme", scope_type=ScopeType.DOMAIN, rank=200,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    page = {"total_count": 1, "has_next_page": False, "has_previous_page": True}
    models: dict[str, BaseModel] = {
        "GetAppConfigsPayload": GetAppConfigsPayload(
            app_configs=[AppConfigNode(config_name="theme", config={})]
        ),
        "FragmentsByNamesPayload": FragmentsByNamesPayload([fragment, None, public]),
        "UpsertFragmentsPayload": UpsertFragmentsPayload(items=[fragment, public]),
        "FragmentNode": fragment,
        "PurgePayload": PurgePayload(id=ID),
        "BulkDeleteFragmentsPayload": BulkDeleteFragmentsPayload(
            items=[ID], failed=[FragmentDeleteFailure(id=uuid.uuid4(), message="Not found")]
        ),
        "FragmentSearchPayload": FragmentSearchPayload(items=[fragment], **page),
        "DefinitionWritePayload": DefinitionWritePayload(app_config_definition=definition),
        "DefinitionNode": definition,
        "DefinitionSearchPayload": DefinitionSearchPayload(items=[definition], **page),
        "DefinitionPurgePayload": PurgePayload(id=ID),
        "AllowListWritePayload": AllowListWritePayload(app_config_allow_list=entry),
        "AllowListUpdatePayload": AllowListWritePayload(app_config_allow_list=entry),
        "AllowListNode": entry,
        "AllowListSearchPayload": AllowListSearchPayload(items=[entry], **page),
    }
    return {name: model.model_dump(mode="json") for name, model in models.items()}


@pytest.fixture(scope="module")
def sdk_answer() -> dict[str, Any]:
    if not SDK_PYTHON.exists():
        pytest.skip(f"no SDK interpreter at {SDK_PYTHON}")
    completed = subprocess.run(
        [str(SDK_PYTHON), "-c", SDK_SCRIPT],
        input=json.dumps(_our_responses()),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0 and "ModuleNotFoundError" in completed.stderr:
        pytest.skip("backend.ai-client is not installed in the SDK interpreter")
    assert completed.returncode == 0, completed.stderr
    answer: dict[str, Any] = json.loads(completed.stdout)
    return answer


def test_every_sdk_request_body_is_accepted(sdk_answer: dict[str, Any]) -> None:
    requests: dict[str, list[Any]] = sdk_answer["requests"]
    assert set(requests) == set(OUR_REQUEST_MODELS)
    for name, bodies in requests.items():
        for body in bodies:
            OUR_REQUEST_MODELS[name].model_validate(body)
            OUR_REQUEST_MODELS[name].model_validate_json(json.dumps(body))


def test_every_response_dump_passes_the_sdk_models(sdk_answer: dict[str, Any]) -> None:
    responses: dict[str, str] = sdk_answer["responses"]
    assert responses == dict.fromkeys(_our_responses(), "ok")
