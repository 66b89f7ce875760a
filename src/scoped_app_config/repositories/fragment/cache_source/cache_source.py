"""Merged views in Redis/Valkey, validated by generation tokens (see `keys` for the layout).

Read: one pipeline returns the cached views and the generation tokens they depend on; a view is
a hit only if the tag it was stored with equals the tokens read now. The tokens read on a miss
are the ones the caller must store its freshly computed view under, and the caller reads the
database only after this lookup. So a reader that computed a view from rows older than a write
stored it under a tag the write has since replaced: it can never be served (the seed's race).

Invalidate: SET a new random token on one generation key (O(1) in the number of cached views).
Tokens are random rather than counters, so no token is ever issued twice, and a key that lost
its token (expiry, eviction, restart) gets a fresh one before any view is tagged with it.

This class only talks to Redis; timeouts, failure accounting and fallback live in `guard`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping, Sequence

import attrs
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError, ResponseError

from reference_host.contract import RedisClient
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.repositories.fragment.cache_source import keys
from scoped_app_config.repositories.fragment.cache_source.codec import (
    CachedView,
    decode_view,
    encode_view,
)

GENERATION_TTL_SECONDS = 24 * 3600
"""Generation keys outlive every view (view TTLs are capped at an hour, and a view is stored
only shortly after its lookup), so a view never outlives the token it was validated against."""


def new_token() -> bytes:
    return os.urandom(8).hex().encode()


@attrs.frozen
class Viewer:
    """Whose merged view: a user in a domain, or the anonymous public-only viewer (both None)."""

    user_id: uuid.UUID | None = None
    domain_id: uuid.UUID | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None


@attrs.frozen
class CacheLookup:
    """What a lookup saw: the hits, and the tag each missing name must be stored under."""

    viewer: Viewer
    hits: Mapping[str, bytes]
    tags: Mapping[str, bytes]
    observed_at: float = attrs.field(factory=time.monotonic)

    @property
    def misses(self) -> list[str]:
        return [name for name in self.tags if name not in self.hits]


class AppConfigFragmentCacheSource:
    def __init__(self, client: RedisClient, *, ttl_seconds: int) -> None:
        self._client = client
        self._ttl_seconds = ttl_seconds

    def _view_key(self, viewer: Viewer, name: str) -> str:
        if viewer.user_id is None:
            return keys.public_view_key(name)
        return keys.merged_view_key(viewer.user_id, name)

    def _scope_generation_keys(self, viewer: Viewer) -> list[str]:
        scope_keys = [keys.public_generation_key()]
        if viewer.domain_id is not None:
            scope_keys.append(keys.domain_generation_key(viewer.domain_id))
        if viewer.user_id is not None:
            scope_keys.append(keys.user_generation_key(viewer.user_id))
        return scope_keys

    async def get_merged_configs(self, viewer: Viewer, names: Sequence[str]) -> CacheLookup:
        unique = list(dict.fromkeys(names))
        if not unique:
            # Nothing to look up; the slicing below assumes at least one name (values[-0:]).
            return CacheLookup(viewer=viewer, hits={}, tags={})
        view_keys = [self._view_key(viewer, name) for name in unique]
        scope_keys = self._scope_generation_keys(viewer)
        name_keys = [keys.name_generation_key(name) for name in unique]
        values = await self._read_keys([*view_keys, *scope_keys, *name_keys])
        views = values[: len(unique)]
        generation_keys = [*scope_keys, *name_keys]
        tokens = await self._issue_missing_tokens(generation_keys, values[len(unique) :])
        scope_tokens = tokens[: len(scope_keys)]
        name_tokens = tokens[len(scope_keys) :]
        scope_tag = b".".join(scope_tokens)
        hits: dict[str, bytes] = {}
        tags: dict[str, bytes] = {}
        for name, raw, name_token in zip(unique, views, name_tokens, strict=True):
            tag = scope_tag + b"." + name_token
            tags[name] = tag
            if raw is None:
                continue
            cached = decode_view(raw)
            if cached is not None and cached.tag == tag:
                hits[name] = cached.config_json
        return CacheLookup(viewer=viewer, hits=hits, tags=tags)

    async def _read_keys(self, all_keys: Sequence[str]) -> list[bytes | None]:
        """GET every key in one round trip, each command touching one slot: one MGET per hash
        tag in a non-transactional pipeline; on a cluster, redis-py's `mget_nonatomic` sends
        the same per-slot MGETs to their nodes."""
        if isinstance(self._client, RedisCluster):
            values: list[bytes | None] = await self._client.mget_nonatomic(list(all_keys))
            return values
        groups: dict[str, list[str]] = {}
        for key in all_keys:
            groups.setdefault(keys.hash_tag(key), []).append(key)
        pipe = self._client.pipeline(transaction=False)
        for group in groups.values():
            pipe.mget(group)
        found: dict[str, bytes | None] = {}
        replies = await pipe.execute()
        for group, group_values in zip(groups.values(), replies, strict=True):
            if not isinstance(group_values, list) or len(group_values) != len(group):
                raise ResponseError(f"malformed MGET reply: {type(group_values).__name__}")
            found.update(zip(group, group_values, strict=True))
        return [found[key] for key in all_keys]

    async def _issue_missing_tokens(
        self, generation_keys: Sequence[str], tokens: Sequence[bytes | None]
    ) -> list[bytes]:
        """Give every generation key that has none (first use, expiry, eviction) a fresh random
        token before anything is tagged with it. A view is therefore never tagged "no token",
        and losing a token invalidates every view computed under it instead of reviving them.
        SET NX keeps a concurrent writer's (or reader's) token; the GET returns the winner."""
        missing = [key for key, token in zip(generation_keys, tokens, strict=True) if not token]
        if not missing:
            return [token for token in tokens if token]
        pipe = self._client.pipeline(transaction=False)
        for key in missing:
            pipe.set(key, new_token(), nx=True, ex=GENERATION_TTL_SECONDS)
            pipe.get(key)
        issued = await pipe.execute()
        winners = dict(zip(missing, issued[1::2], strict=True))
        result: list[bytes] = []
        for key, token in zip(generation_keys, tokens, strict=True):
            value = token or winners[key]
            if not value:
                raise RedisError(f"generation key {key} vanished while being issued")
            result.append(value)
        return result

    async def set_merged_configs(self, lookup: CacheLookup, views: Mapping[str, bytes]) -> None:
        """Store views computed after `lookup`, under the tags it observed."""
        pipe = self._client.pipeline(transaction=False)
        for name, config_json in views.items():
            encoded = encode_view(CachedView(tag=lookup.tags[name], config_json=config_json))
            pipe.set(self._view_key(lookup.viewer, name), encoded, ex=self._ttl_seconds)
        await pipe.execute()

    async def get_merged_config(self, viewer: Viewer, name: str) -> CacheLookup:
        return await self.get_merged_configs(viewer, [name])

    async def set_merged_config(self, lookup: CacheLookup, name: str, config_json: bytes) -> None:
        await self.set_merged_configs(lookup, {name: config_json})

    async def invalidate_for_scope(self, scope_type: ScopeType, scope_id: uuid.UUID | None) -> None:
        await self._bump([scope_generation_key(scope_type, scope_id)])

    async def invalidate_for_policy(self, config_name: str) -> None:
        await self._bump([keys.name_generation_key(config_name)])

    async def invalidate_keys(self, generation_keys: Sequence[str]) -> None:
        await self._bump(generation_keys)

    async def _bump(self, generation_keys: Sequence[str]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for key in dict.fromkeys(generation_keys):
            pipe.set(key, new_token(), ex=GENERATION_TTL_SECONDS)
        await pipe.execute()


def scope_generation_key(scope_type: ScopeType, scope_id: uuid.UUID | None) -> str:
    """The generation key a write at this scope must replace."""
    if scope_type is ScopeType.PUBLIC:
        return keys.public_generation_key()
    if scope_id is None:
        raise ValueError(f"scope '{scope_type}' needs a scope id")
    if scope_type is ScopeType.USER:
        return keys.user_generation_key(scope_id)
    return keys.domain_generation_key(scope_id)
