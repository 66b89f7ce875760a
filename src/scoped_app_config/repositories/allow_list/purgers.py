"""Purge spec for an allow-list entry (cascades to the fragments it admits)."""

from __future__ import annotations

import attrs

from scoped_app_config.domain.types import AllowListEntryId


@attrs.frozen
class AllowListPurger:
    entry_id: AllowListEntryId
