"""The cached view's byte format: `v1|<generation tag>|<merged config as JSON>`.

The JSON is kept as the bytes the merge produced, so a cache hit is spliced into the response
without being parsed or re-serialised. A value that does not decode is a miss, never an error.
"""

from __future__ import annotations

import attrs

CODEC_VERSION = b"v1"
_SEPARATOR = b"|"


@attrs.frozen
class CachedView:
    tag: bytes
    config_json: bytes


def encode_view(view: CachedView) -> bytes:
    if _SEPARATOR in view.tag:
        raise ValueError("a generation tag cannot contain '|'")
    return CODEC_VERSION + _SEPARATOR + view.tag + _SEPARATOR + view.config_json


def config_json_if_tagged(raw: bytes, tag: bytes) -> bytes | None:
    """The view's JSON if `raw` is a view stored under exactly `tag`, else None (stale,
    foreign or garbled values are all misses). Tags never contain the separator, so the
    prefix test cannot match a different tag that merely starts with this one."""
    prefix = CODEC_VERSION + _SEPARATOR + tag + _SEPARATOR
    if len(raw) <= len(prefix) or not raw.startswith(prefix):
        return None
    return raw[len(prefix) :]
