"""A small LRU of derived signing keys: k2 depends only on (secret, day, host, hash)."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

from reference_host.auth.signing import derive_signing_key

DEFAULT_MAX_KEYS = 4096


class SigningKeyCache:
    def __init__(self, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self._max_keys = max_keys
        self._keys: OrderedDict[tuple[str, dt.date, str, str], bytes] = OrderedDict()

    def get(self, secret_key: str, date: dt.date, host: str, hash_name: str) -> bytes:
        cache_key = (secret_key, date, host, hash_name)
        key = self._keys.get(cache_key)
        if key is None:
            key = derive_signing_key(secret_key, date, host, hash_name)
            self._keys[cache_key] = key
            if len(self._keys) > self._max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(cache_key)
        return key
