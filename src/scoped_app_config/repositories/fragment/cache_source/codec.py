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


def decode_view(raw: bytes) -> CachedView | None:
    version, sep, rest = raw.partition(_SEPARATOR)
    if version != CODEC_VERSION or not sep:
        return None
    tag, sep, config_json = rest.partition(_SEPARATOR)
    if not sep or not config_json:
        return None
    return CachedView(tag=tag, config_json=config_json)
