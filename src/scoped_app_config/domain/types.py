"""Identifier types, scope types and the default merge ranks."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import NewType

import attrs

from scoped_app_config.domain.errors import InvalidScope

DefinitionId = NewType("DefinitionId", uuid.UUID)
AllowListEntryId = NewType("AllowListEntryId", uuid.UUID)
FragmentId = NewType("FragmentId", uuid.UUID)
DomainId = NewType("DomainId", uuid.UUID)
UserId = NewType("UserId", uuid.UUID)


class ScopeType(enum.StrEnum):
    PUBLIC = "public"
    DOMAIN_USER_DEFAULTS = "domain_user_defaults"
    DOMAIN = "domain"
    USER = "user"


DEFAULT_ALLOW_LIST_RANKS: Mapping[ScopeType, int] = MappingProxyType(
    {
        ScopeType.PUBLIC: 100,
        ScopeType.DOMAIN_USER_DEFAULTS: 150,
        ScopeType.DOMAIN: 200,
        ScopeType.USER: 300,
    }
)
"""The allow-list rank an entry gets when the admin gives none (ARCHITECTURE.md §Merge order)."""

FRAGMENT_RANK_STEP = 100
"""A new fragment's rank is the current maximum within its config name plus this step."""


@attrs.frozen
class ScopeRef:
    """One scope: `scope_id` is None exactly for `public` (a domain or user uuid otherwise)."""

    scope_type: ScopeType
    scope_id: uuid.UUID | None = None

    def __attrs_post_init__(self) -> None:
        if (self.scope_type is ScopeType.PUBLIC) != (self.scope_id is None):
            raise InvalidScope(self.scope_type, self.scope_id)
