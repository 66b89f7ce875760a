"""Update spec for an allow-list entry: only the rank may change (the identity pair is fixed)."""

from __future__ import annotations

import attrs

from scoped_app_config.domain.types import AllowListEntryId


@attrs.frozen
class AllowListUpdateSpec:
    rank: int | None = None
    """None leaves the rank unchanged (the column is not nullable, so None cannot mean clear)."""

    @property
    def values(self) -> dict[str, int]:
        return {} if self.rank is None else {"rank": self.rank}


@attrs.frozen
class AllowListUpdater:
    entry_id: AllowListEntryId
    spec: AllowListUpdateSpec
