"""Definition routes (`/v2/app-config-definitions/...`): which config names exist."""

from __future__ import annotations

from scoped_app_config.api.schemas.common import (
    ConfigName,
    NodeBase,
    RequestModel,
    ResponseModel,
    SearchPageInfo,
)


class CreateDefinitionInput(RequestModel):
    config_name: ConfigName


class DefinitionNode(NodeBase):
    config_name: str


class DefinitionWritePayload(ResponseModel):
    """Answer of `POST /v2/app-config-definitions/` (201)."""

    app_config_definition: DefinitionNode


class DefinitionSearchPayload(SearchPageInfo):
    items: list[DefinitionNode]
