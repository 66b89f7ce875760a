"""The merge engine's input protocol and its frozen output types."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Protocol

import attrs


class MergeSource(Protocol):
    """One fragment as the merge engine sees it; the domain fragment satisfies it structurally."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def scope_type(self) -> str: ...

    @property
    def scope_id(self) -> uuid.UUID | None: ...

    @property
    def allow_list_rank(self) -> int: ...

    @property
    def rank(self) -> int: ...

    @property
    def config(self) -> Mapping[str, Any]: ...


@attrs.frozen
class Contributor:
    """The fragment that supplied a leaf of a merged config."""

    fragment_id: uuid.UUID
    scope_type: str
    scope_id: uuid.UUID | None
    allow_list_rank: int
    rank: int

    @classmethod
    def of(cls, source: MergeSource) -> Contributor:
        return cls(
            fragment_id=source.id,
            scope_type=source.scope_type,
            scope_id=source.scope_id,
            allow_list_rank=source.allow_list_rank,
            rank=source.rank,
        )


@attrs.frozen
class MergeExplanation:
    """A merged config together with the contributor of each of its leaves.

    ``provenance`` maps the RFC 6901 JSON Pointer of every leaf of ``config`` (any non-object
    value, or an empty object) to the fragment that supplied it.
    """

    config: dict[str, Any]
    provenance: Mapping[str, Contributor]
