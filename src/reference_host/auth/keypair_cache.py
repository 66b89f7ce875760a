"""In-process cache of keypair credentials: the hot path of every signed request.

Design (and what it guarantees):

- Each application has one `KeypairCache`: access key -> (secret key, `Caller`), holding
  only active keypairs of active users. Entries expire after `ttl` seconds
  (`HostSettings.auth_cache_ttl_seconds`, default 600 s) and the cache is LRU-bounded.
- Same process: the host's account code (`reference_host.accounts.service`) calls
  `invalidate_keypair` / `invalidate_user` after its transaction commits. Those reach *every*
  live cache of the process (a weak set of caches: the only process-wide state here, and it
  holds no connections), so a deactivation takes effect on the very next request, whichever
  engine or application the account change went through.
- A load that raced with an invalidation is not stored: each cache has a generation counter
  bumped by every invalidation, and a loader's result is kept only if the generation did not
  move while it read the database. So a reader can never re-insert a row read before the
  deactivation committed.
- Other processes: account changes NOTIFY every host process through PostgreSQL
  (`account_changes`), which invalidates the same way. A cache is `trusted` only while its
  app's listener is connected; an untrusted cache serves nothing (every lookup reads the
  database), so a missed notification cannot keep a deactivated key alive. The TTL is the
  last bound.
"""

from __future__ import annotations

import datetime as dt
import hmac
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import attrs

from reference_host.auth.signing import derive_signing_key, keyed_mac
from reference_host.contract import Caller

DEFAULT_TTL_SECONDS = 600.0
DEFAULT_MAX_ENTRIES = 200_000


MAX_SIGNING_KEYS_PER_KEYPAIR = 8


@attrs.frozen
class CachedCredentials:
    secret_key: str
    caller: Caller
    _signing_macs: dict[tuple[dt.date, str, str], hmac.HMAC] = attrs.field(
        factory=dict, eq=False, repr=False, alias="_signing_macs"
    )

    def signing_mac(self, day: dt.date, host: str, hash_name: str) -> hmac.HMAC:
        """An HMAC keyed with the derived key (`signing.derive_signing_key`), kept while the
        credentials are cached: two HMACs and a key setup saved per request, gone with the
        entry when the keypair changes. Copy it to sign (`signing.sign_with_mac`)."""
        memo_key = (day, host, hash_name)
        mac = self._signing_macs.get(memo_key)
        if mac is None:
            mac = keyed_mac(derive_signing_key(self.secret_key, day, host, hash_name), hash_name)
            if len(self._signing_macs) >= MAX_SIGNING_KEYS_PER_KEYPAIR:
                self._signing_macs.clear()  # a client cycling Host headers or days
            self._signing_macs[memo_key] = mac
        return mac


@attrs.frozen
class _Entry:
    credentials: CachedCredentials
    expires_at: float


Loader = Callable[[str], Awaitable[CachedCredentials | None]]

_live_caches: weakref.WeakSet[KeypairCache] = weakref.WeakSet()


class KeypairCache:
    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._generation = 0
        self.trusted = True
        """False while cross-process invalidations may be missed: then nothing is served."""
        _live_caches.add(self)

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, access_key: str, load: Loader) -> CachedCredentials | None:
        """The active credentials of `access_key`, from the cache or through `load`."""
        now = self._clock()
        entry = self._entries.get(access_key) if self.trusted else None
        if entry is not None and entry.expires_at > now:
            self._entries.move_to_end(access_key)
            return entry.credentials
        generation = self._generation
        credentials = await load(access_key)
        if credentials is None or self._ttl <= 0:
            self._entries.pop(access_key, None)
            return credentials
        if generation == self._generation:
            self._entries[access_key] = _Entry(credentials, self._clock() + self._ttl)
            self._entries.move_to_end(access_key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return credentials

    def invalidate_keypair(self, access_key: str) -> None:
        self._generation += 1
        self._entries.pop(access_key, None)

    def invalidate_user(self, user_id: uuid.UUID) -> None:
        self._generation += 1
        stale = [k for k, e in self._entries.items() if e.credentials.caller.user_id == user_id]
        for access_key in stale:
            del self._entries[access_key]

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()


def invalidate_keypair(access_key: str) -> None:
    """Forget `access_key` in every keypair cache of this process."""
    for cache in list(_live_caches):
        cache.invalidate_keypair(access_key)


def invalidate_user(user_id: uuid.UUID) -> None:
    """Forget every keypair of `user_id` in every keypair cache of this process."""
    for cache in list(_live_caches):
        cache.invalidate_user(user_id)
