"""Frozen entity data returned by the repositories (never ORM rows)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from scoped_app_config.domain.types import (
    AllowListEntryId,
    DefinitionId,
    FragmentId,
    ScopeRef,
    ScopeType,
)

T = TypeVar("T")


@attrs.frozen
class DefinitionData:
    id: DefinitionId
    config_name: str
    created_at: datetime
    updated_at: datetime


@attrs.frozen
class AllowListEntryData:
    id: AllowListEntryId
    config_name: str
    scope_type: ScopeType
    rank: int
    created_at: datetime
    updated_at: datetime


@attrs.frozen
class FragmentData:
    """One fragment with its allow-list entry's rank; satisfies `merge.MergeSource`."""

    id: FragmentId
    config_name: str
    scope_type: ScopeType
    scope_id: uuid.UUID | None
    rank: int
    allow_list_rank: int
    config: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def scope(self) -> ScopeRef:
        """The scope a cache must invalidate when this fragment changes."""
        return ScopeRef(self.scope_type, self.scope_id)


@attrs.frozen
class SearchResult(Generic[T]):
    items: Sequence[T]
    total_count: int
    has_next_page: bool
    has_previous_page: bool
    cursors: Sequence[str] = ()
    """One opaque cursor per item (for `after`/`before`), aligned with `items`."""


@attrs.frozen
class FragmentPurgeFailure:
    id: uuid.UUID
    message: str


@attrs.frozen
class BulkPurgeResult:
    """What a bulk purge removed (in request order) and which ids it could not remove, and why."""

    purged: Sequence[FragmentData]
    failed: Sequence[FragmentPurgeFailure]
