"""Merged views in Redis/Valkey, validated by generation tokens (see `keys` for the layout).

Read: one MGET returns the cached views and the generation tokens they depend on; a view is
a hit only if the tag it was stored with equals the tokens read now. The tokens read on a miss
are the ones the caller must store its freshly computed view under, and the caller reads the
database only after this lookup. So a reader that computed a view from rows older than a write
stored it under a tag the write has since replaced: it can never be served (the seed's race).

Invalidate: SET a new random token on one generation key (O(1) in the number of cached views).
Tokens are random rather than counters, so no token is ever issued twice, and a key that lost
its token (expiry, eviction, restart) gets a fresh one before any view is tagged with it.

This class only talks to Redis; failure accounting and fallback live in `guard`, which also
decides each call's time limit (`timeout`, None: no limit). The limit is enforced here, the
cheapest way the connection allows: calls on the multiplexed connection share its one timer;
a redis-py call runs as a task that is abandoned (cancelled, not awaited) at the limit, since
a cancelled redis-py call may spend seconds in its own clean-up (disconnecting under its own
timeouts), which must not hold the caller.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar, cast

import attrs
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError, ResponseError

from reference_host.contract import RedisClient
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.repositories.fragment.cache_source import keys
from scoped_app_config.repositories.fragment.cache_source.codec import (
    CachedView,
    config_json_if_tagged,
    encode_view,
)
from scoped_app_config.repositories.fragment.cache_source.multiplexed import MultiplexedConnection

T = TypeVar("T")

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
    def __init__(
        self,
        client: RedisClient,
        *,
        ttl_seconds: int,
        multiplexed: MultiplexedConnection | None = None,
    ) -> None:
        """`multiplexed`, when given, carries the lookups and invalidations (see
        `multiplexed`); everything else goes through `client`."""
        self._client = client
        self._ttl_seconds = ttl_seconds
        self._multiplexed = multiplexed
        self._abandoned: set[asyncio.Future[Any]] = set()

    async def _within(self, timeout: float | None, call: Awaitable[T]) -> T:
        """`await call`, giving up at `timeout` without waiting for its clean-up."""
        if timeout is None:
            return await call
        task = asyncio.ensure_future(call)
        try:
            done, _ = await asyncio.wait({task}, timeout=timeout)
        except asyncio.CancelledError:
            self._abandon(task)
            raise
        if task in done:
            return task.result()
        self._abandon(task)
        raise TimeoutError(f"Redis did not answer within {timeout:.3f} s")

    def _abandon(self, task: asyncio.Future[Any]) -> None:
        task.cancel()
        self._abandoned.add(task)  # kept referenced until its clean-up ends
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: its failure was already reported as the timeout

    def _view_keys(self, viewer: Viewer, names: Sequence[str]) -> list[str]:
        if viewer.user_id is None:
            return [keys.public_view_key(name) for name in names]
        return keys.merged_view_keys(viewer.user_id, names)

    def _generation_keys(self, viewer: Viewer, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """The scope-wide generation keys of the viewer's scopes, and after them, scope by scope,
        the per-name key of each name (scope-major)."""
        scope_keys = [keys.public_generation_key()]
        name_keys = [keys.name_generation_key(name) for name in names]
        if viewer.domain_id is not None:
            domain_key = keys.domain_generation_key(viewer.domain_id)
            scope_keys.append(domain_key)
            name_keys += keys.name_keys_under(domain_key, names)
        if viewer.user_id is not None:
            user_key = keys.user_generation_key(viewer.user_id)
            scope_keys.append(user_key)
            name_keys += keys.name_keys_under(user_key, names)
        return scope_keys, name_keys

    async def get_merged_configs(
        self, viewer: Viewer, names: Sequence[str], *, timeout: float | None = None
    ) -> CacheLookup:
        started = time.monotonic()
        unique = list(dict.fromkeys(names))
        if not unique:
            return CacheLookup(viewer=viewer, hits={}, tags={})
        count = len(unique)
        scope_keys, name_keys = self._generation_keys(viewer, unique)
        generation_keys = scope_keys + name_keys
        all_keys = [*self._view_keys(viewer, unique), *generation_keys]
        values = await self._mget(all_keys, timeout)
        if not isinstance(values, list) or len(values) != len(all_keys):
            raise ResponseError(f"malformed MGET reply: {type(values).__name__}")
        found = values[count:]
        tokens = (
            cast(list[bytes], found)
            if all(found)
            else await self._issue_missing_tokens(
                generation_keys, found, _remaining(timeout, started)
            )
        )
        scopes = len(scope_keys)
        scope_tag = b".".join(tokens[:scopes])
        hits: dict[str, bytes] = {}
        tags: dict[str, bytes] = {}
        for index, name in enumerate(unique):
            # The scope tokens, then this name's token in each scope (scope-major layout).
            tag = b".".join([scope_tag, *tokens[scopes + index :: count]])
            tags[name] = tag
            raw = values[index]
            if raw is not None:
                config_json = config_json_if_tagged(raw, tag)
                if config_json is not None:
                    hits[name] = config_json
        return CacheLookup(viewer=viewer, hits=hits, tags=tags)

    async def _mget(self, all_keys: Sequence[str], timeout: float | None) -> Any:
        """GET every key in one round trip: one MGET on a single server (shared with other
        lookups through the multiplexed connection when there is one); on a cluster,
        redis-py's `mget_nonatomic` sends one MGET per slot to the node owning it."""
        if self._multiplexed is not None:
            return await self._multiplexed.execute("MGET", *all_keys, timeout=timeout)
        if isinstance(self._client, RedisCluster):
            return await self._within(timeout, self._client.mget_nonatomic(list(all_keys)))
        return await self._within(timeout, self._pipelined_mget(all_keys))

    async def _pipelined_mget(self, all_keys: Sequence[str]) -> Any:
        # Through a pipeline, as the other redis-py calls here. (It was chosen because a
        # cancelled single-command `mget()` held its caller ~5 s while disconnecting; `_within`
        # now ends every redis-py call at its limit, whatever its clean-up takes.)
        pipe = self._client.pipeline(transaction=False)
        pipe.mget(all_keys)
        (values,) = await pipe.execute()
        return values

    async def _issue_missing_tokens(
        self, generation_keys: Sequence[str], tokens: Sequence[bytes | None], timeout: float | None
    ) -> list[bytes]:
        """Give every generation key that has none (first use, expiry, eviction) a fresh random
        token before anything is tagged with it. A view is therefore never tagged "no token",
        and losing a token invalidates every view computed under it instead of reviving them.
        SET NX keeps a concurrent writer's (or reader's) token; the GET returns the winner."""
        missing = [key for key, token in zip(generation_keys, tokens, strict=True) if not token]
        pipe = self._client.pipeline(transaction=False)
        for key in missing:
            pipe.set(key, new_token(), nx=True, ex=GENERATION_TTL_SECONDS)
            pipe.get(key)
        issued = await self._within(timeout, pipe.execute())
        winners = dict(zip(missing, issued[1::2], strict=True))
        result: list[bytes] = []
        for key, token in zip(generation_keys, tokens, strict=True):
            value = token or winners[key]
            if not value:
                raise RedisError(f"generation key {key} vanished while being issued")
            result.append(value)
        return result

    async def set_merged_configs(
        self, lookup: CacheLookup, views: Mapping[str, bytes], *, timeout: float | None = None
    ) -> None:
        """Store views computed after `lookup`, under the tags it observed."""
        pipe = self._client.pipeline(transaction=False)
        view_keys = self._view_keys(lookup.viewer, list(views))
        for view_key, (name, config_json) in zip(view_keys, views.items(), strict=True):
            encoded = encode_view(CachedView(tag=lookup.tags[name], config_json=config_json))
            pipe.set(view_key, encoded, ex=self._ttl_seconds)
        await self._within(timeout, pipe.execute())

    async def aclose(self) -> None:
        """Close the multiplexed connection (the client belongs to the host)."""
        if self._multiplexed is not None:
            await self._multiplexed.aclose()

    async def get_merged_config(self, viewer: Viewer, name: str) -> CacheLookup:
        return await self.get_merged_configs(viewer, [name])

    async def set_merged_config(self, lookup: CacheLookup, name: str, config_json: bytes) -> None:
        await self.set_merged_configs(lookup, {name: config_json})

    async def invalidate_for_scope(
        self, scope_type: ScopeType, scope_id: uuid.UUID | None, *, timeout: float | None = None
    ) -> None:
        await self._bump([scope_generation_key(scope_type, scope_id)], timeout)

    async def invalidate_for_policy(
        self, config_name: str, *, timeout: float | None = None
    ) -> None:
        await self._bump([keys.name_generation_key(config_name)], timeout)

    async def invalidate_keys(
        self, generation_keys: Sequence[str], *, timeout: float | None = None
    ) -> None:
        await self._bump(generation_keys, timeout)

    async def _bump(self, generation_keys: Sequence[str], timeout: float | None) -> None:
        unique = list(dict.fromkeys(generation_keys))
        if self._multiplexed is not None:
            await self._multiplexed.execute_many(
                [("SET", key, new_token(), "EX", GENERATION_TTL_SECONDS) for key in unique],
                timeout,
            )
            return
        pipe = self._client.pipeline(transaction=False)
        for key in unique:
            pipe.set(key, new_token(), ex=GENERATION_TTL_SECONDS)
        await self._within(timeout, pipe.execute())


def _remaining(timeout: float | None, started: float) -> float | None:
    return None if timeout is None else max(0.0, timeout - (time.monotonic() - started))


def fragment_generation_key(
    scope_type: ScopeType, scope_id: uuid.UUID | None, config_name: str
) -> str:
    """The generation key a write of `config_name`'s fragment at this scope must replace: the
    views of that name only, for every viewer of the scope."""
    if scope_type is ScopeType.PUBLIC:
        return keys.name_generation_key(config_name)
    return keys.name_keys_under(scope_generation_key(scope_type, scope_id), [config_name])[0]


def scope_generation_key(scope_type: ScopeType, scope_id: uuid.UUID | None) -> str:
    """The generation key that invalidates every name's views at this scope."""
    if scope_type is ScopeType.PUBLIC:
        return keys.public_generation_key()
    if scope_id is None:
        raise ValueError(f"scope '{scope_type}' needs a scope id")
    if scope_type is ScopeType.USER:
        return keys.user_generation_key(scope_id)
    return keys.domain_generation_key(scope_id)
