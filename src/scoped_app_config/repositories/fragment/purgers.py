"""Purge specs for fragments."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from scoped_app_config.domain.types import FragmentId


@attrs.frozen
class FragmentPurger:
    fragment_id: FragmentId


@attrs.frozen
class FragmentBulkPurger:
    fragment_ids: Sequence[FragmentId]
