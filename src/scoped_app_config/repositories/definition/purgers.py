"""Purge spec for a definition (cascades to its allow-list entries and their fragments)."""

from __future__ import annotations

import attrs

from scoped_app_config.domain.types import DefinitionId


@attrs.frozen
class DefinitionPurger:
    definition_id: DefinitionId
