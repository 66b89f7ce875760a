"""Merged reads (`/v2/app-config/...`) and their explanation (`.../explain`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from scoped_app_config.api.schemas.common import (
    ConfigName,
    ConfigNames,
    RequestModel,
    ResponseModel,
    ScopeType,
)

StrictFlag = Annotated[
    bool,
    Field(
        strict=True,
        description="When true, a requested name nothing contributes to fails the whole call "
        "with 404 naming the missing names; otherwise it yields an empty config.",
    ),
]


class GetAppConfigsInput(RequestModel):
    """Body of `my/get` and `public/get`: the caller's scopes come from the session only."""

    config_names: ConfigNames
    strict: StrictFlag = False


class AdminGetAppConfigsInput(RequestModel):
    """Body of `admin/get`: the merged view another user sees."""

    user_id: UUID
    config_names: ConfigNames
    strict: StrictFlag = False


class AppConfigNode(ResponseModel):
    """The merged view of one config name."""

    config_name: str
    config: dict[str, Any]


class GetAppConfigsPayload(ResponseModel):
    """One entry per requested name, in request order; a repeated name is repeated."""

    app_configs: list[AppConfigNode]


class ExplainAppConfigInput(RequestModel):
    """Body of `explain`: whose merged view (default: the caller's) of which name."""

    config_name: ConfigName
    user_id: UUID | None = None


class Contributor(ResponseModel):
    """The fragment that supplied one leaf of a merged config."""

    fragment_id: UUID
    scope_type: ScopeType
    scope_id: UUID | None
    allow_list_rank: int
    rank: int


class ExplainAppConfigPayload(ResponseModel):
    """A merged config with, for each leaf (by RFC 6901 JSON Pointer), its contributor."""

    config_name: str
    config: dict[str, Any]
    provenance: dict[str, Contributor]
