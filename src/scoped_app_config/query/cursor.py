"""Opaque pagination cursors in the Backend.AI manager's format: `base64("cursor:v1:<row id>")`.

A cursor names only the row a page boundary sits on. The row's sort-key values are resolved in
SQL from that row when the next page is fetched (`repositories/base/db_source.py`), so the same
cursor is valid under any order, clients of the official SDK can build cursors themselves from
item ids, and rows sharing a `created_at` are still paged exactly once (`id` breaks ties).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid

import attrs

from scoped_app_config.domain.errors import InvalidParameters

_PREFIX = "cursor:v1:"
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


@attrs.frozen
class CursorKey:
    """The position a cursor names: the id of the row the page boundary sits on."""

    id: uuid.UUID


def encode_cursor(key: CursorKey) -> str:
    """The manager's form: standard base64 (with padding) of `cursor:v1:<row uuid>`."""
    return base64.b64encode(f"{_PREFIX}{key.id}".encode()).decode()


def decode_cursor(cursor: str) -> CursorKey:
    """Parse `base64("cursor:v1:<uuid>")`, standard or urlsafe, padded or not.

    Anything else is `InvalidParameters`. Whether the row still exists is checked when the
    search runs (see `run_search`).
    """
    if _BASE64.fullmatch(cursor):
        unpadded = cursor.rstrip("=")
        try:
            raw = base64.urlsafe_b64decode(
                unpadded.replace("+", "-").replace("/", "_") + "=" * (-len(unpadded) % 4)
            )
            text = raw.decode("ascii")
            if text.startswith(_PREFIX):
                return CursorKey(id=uuid.UUID(text.removeprefix(_PREFIX)))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
    raise InvalidParameters("Invalid pagination cursor.")
