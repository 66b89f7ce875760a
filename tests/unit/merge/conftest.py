"""Fixtures for the merge engine's tests: fragments stacked in merge order."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import pytest

from scoped_app_config.merge import MergeSource

# (scope_type, default allow-list rank), lowest merge priority first.
_SCOPES = (("public", 100), ("domain_user_defaults", 150), ("domain", 200), ("user", 300))


@attrs.frozen
class StubFragment:
    """Shaped like the domain fragment; satisfies ``MergeSource`` structurally."""

    id: uuid.UUID
    scope_type: str
    scope_id: uuid.UUID | None
    allow_list_rank: int
    rank: int
    config: Mapping[str, Any]


def _stack(configs: Sequence[Mapping[str, Any]]) -> list[MergeSource]:
    """One fragment per config, in ascending merge order, cycling through the scope types."""
    fragments: list[MergeSource] = []
    for index, config in enumerate(configs):
        scope_type, scope_rank = _SCOPES[index % len(_SCOPES)]
        fragments.append(
            StubFragment(
                id=uuid.uuid4(),
                scope_type=scope_type,
                scope_id=None if scope_type == "public" else uuid.uuid4(),
                allow_list_rank=scope_rank + 1000 * (index // len(_SCOPES)),
                rank=100 * (index + 1),
                config=config,
            )
        )
    return fragments


@pytest.fixture(scope="session")
def fragments_in_merge_order() -> Callable[[Sequence[Mapping[str, Any]]], list[MergeSource]]:
    """Build fragments from configs given lowest priority first (session-scoped: it is pure,
    and Hypothesis tests may use it)."""
    return _stack
