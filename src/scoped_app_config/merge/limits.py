"""Size and nesting limits for config documents, checked before a fragment is stored."""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Mapping
from itertools import accumulate

import attrs
import orjson


class DocumentLimitExceeded(ValueError):
    """A config document breaks one of the ``DocumentLimits``."""

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class DocumentTooDeep(DocumentLimitExceeded):
    def __init__(self, depth: int, limit: int) -> None:
        super().__init__(f"config nesting depth {depth} exceeds the limit of {limit}", limit)
        self.depth = depth


class DocumentTooLarge(DocumentLimitExceeded):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"config size {size} bytes exceeds the limit of {limit} bytes", limit)
        self.size = size


@attrs.frozen
class DocumentLimits:
    """``max_depth`` counts nested objects and lists (``{"a": 1}`` is 1 deep); ``max_bytes``
    bounds the compact UTF-8 JSON encoding."""

    max_depth: int = attrs.field(default=32, validator=attrs.validators.ge(1))
    max_bytes: int = attrs.field(default=256 * 1024, validator=attrs.validators.ge(1))


def check_document(doc: object, limits: DocumentLimits) -> None:
    """Raise ``DocumentTooDeep`` or ``DocumentTooLarge`` if ``doc`` breaks ``limits``.

    Both limits are read off one orjson encoding (C speed: walking a 256 KiB document node by
    node in Python took tens of milliseconds of the event loop). What orjson refuses (nesting
    past its own limit of 254, a cycle, integers beyond 64 bits, lone surrogates) is measured
    the slow way: depth first and without recursion, so absurdly deep input cannot exhaust the
    stack (the standard library's encoder, used for the size then, would).
    """
    encoded = _compact_json(doc)
    depth = document_depth(doc) if encoded is None else encoded_depth(encoded)
    if depth > limits.max_depth:
        raise DocumentTooDeep(depth, limits.max_depth)
    size = len(encoded) if encoded is not None else _standard_library_size(doc)
    if size > limits.max_bytes:
        raise DocumentTooLarge(size, limits.max_bytes)


def _compact_json(doc: object) -> bytes | None:
    try:
        return orjson.dumps(doc)
    except TypeError:  # orjson.JSONEncodeError included
        return None


def _standard_library_size(doc: object) -> int:
    """Bytes of the compact UTF-8 JSON encoding, for what orjson refuses (integers beyond 64
    bits, lone surrogates): counted the way orjson counts everything else."""
    encoded = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    return len(encoded.encode("utf-8", "surrogatepass"))


_ALL_BUT_QUOTES_AND_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1, +1, -1, -1 as signed bytes


def encoded_depth(encoded: bytes) -> int:
    """``document_depth`` of the document whose JSON text is ``encoded``: the deepest bracket
    nesting once strings (keys included) are cut out, counted in C.

    Escaped backslashes go first, then escaped quotes (pairs removed left to right are exactly
    the escapes a JSON parser reads). Every quote left delimits a string; once all but quotes
    and brackets are deleted, a string is a pair of quotes around the brackets it held.
    """
    unescaped = encoded.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = unescaped.translate(None, _ALL_BUT_QUOTES_AND_BRACKETS).replace(b'""', b"")
    if b'"' in structure:  # some string holds a bracket: drop the pieces between quotes
        structure = b"".join(structure.split(b'"')[::2])
    return max(accumulate(array("b", structure.translate(_BRACKET_STEPS))), default=0)


def document_depth(doc: object) -> int:
    """How many objects and lists are nested in ``doc`` at its deepest point (a scalar is 0)."""
    if not _is_container(doc):
        return 0
    # One iterator per container on the current path; ``on_path`` guards against cycles, which
    # would otherwise loop forever (a JSON document cannot contain one).
    path: list[Iterator[object]] = [_children(doc)]
    path_ids: list[int] = [id(doc)]
    on_path: set[int] = {id(doc)}
    deepest = 1
    while path:
        child = next(path[-1], _END)
        if child is _END:
            path.pop()
            on_path.discard(path_ids.pop())
        elif _is_container(child):
            if id(child) in on_path:
                raise ValueError("config contains a circular reference")
            path.append(_children(child))
            path_ids.append(id(child))
            on_path.add(id(child))
            deepest = max(deepest, len(path))
    return deepest


_END = object()


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _is_container(value: object) -> bool:
    cls = type(value)
    if cls is dict or cls is list:  # what parsed JSON holds: skip the ABC check
        return True
    return cls not in _SCALAR_TYPES and isinstance(value, Mapping | list | tuple)


def _children(container: object) -> Iterator[object]:
    if isinstance(container, Mapping):
        return iter(container.values())
    assert isinstance(container, list | tuple)
    return iter(container)
