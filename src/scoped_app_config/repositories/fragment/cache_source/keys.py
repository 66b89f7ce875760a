"""Every Redis key this plugin uses, in one place.

A merged view is valid only while the generation tokens it was computed under are current:
invalidating replaces one token (one SET), whatever the number of cached views; the old views
are never read again and expire by TTL. A view of (viewer, name) depends on the scope-wide
tokens of the viewer's scopes and on the per-name tokens of the same scopes, so a fragment write
invalidates only the views of its own name, and `invalidate_for_scope` every name at once. Hash
tags keep the keys one read touches in as few slots as possible, so the same commands run on a
Redis/Valkey cluster:

    app_config:merged:{<user_id>}:<name>          a user's merged view       slot of the user
    app_config:gen:user:{<user_id>}               the user scope, every name
    app_config:gen:user:{<user_id>}:<name>        the user's fragment of the name
    app_config:gen:domain:{<domain_id>}           a domain (both domain scope types), every name
    app_config:gen:domain:{<domain_id>}:<name>    the domain's fragments of the name
    app_config:public:{global}:<name>             the anonymous (public-only) view
    app_config:gen:{global}:public                the public scope, every name
    app_config:gen:{global}:name:<name>           the name's policy (allow-list, definition) and
                                                  its public fragment
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence

PREFIX = "app_config"
GLOBAL_TAG = "{global}"


def _tag(scope_id: uuid.UUID) -> str:
    """`{<uuid>}`: formatting a UUID costs more than the lookup, and every read formats the
    same user's and domain's ids several times."""
    return _tag_of(scope_id.int)


@functools.lru_cache(maxsize=65_536)
def _tag_of(value: int) -> str:
    # Keyed by the UUID's integer: hashing a UUID object runs Python code, an int's does not.
    return f"{{{uuid.UUID(int=value)}}}"


def merged_view_key(user_id: uuid.UUID, config_name: str) -> str:
    return f"{PREFIX}:merged:{_tag(user_id)}:{config_name}"


def merged_view_keys(user_id: uuid.UUID, config_names: Sequence[str]) -> list[str]:
    """`merged_view_key` of each name."""
    prefix = f"{PREFIX}:merged:{_tag(user_id)}:"
    return [prefix + name for name in config_names]


def public_view_key(config_name: str) -> str:
    return f"{PREFIX}:public:{GLOBAL_TAG}:{config_name}"


def user_generation_key(user_id: uuid.UUID) -> str:
    return f"{PREFIX}:gen:user:{_tag(user_id)}"


def domain_generation_key(domain_id: uuid.UUID) -> str:
    return f"{PREFIX}:gen:domain:{_tag(domain_id)}"


def name_keys_under(scope_generation_key: str, config_names: Sequence[str]) -> list[str]:
    """The per-name generation keys of a user or domain scope, from its scope-wide key."""
    prefix = f"{scope_generation_key}:"
    return [prefix + name for name in config_names]


def public_generation_key() -> str:
    return f"{PREFIX}:gen:{GLOBAL_TAG}:public"


def name_generation_key(config_name: str) -> str:
    return f"{PREFIX}:gen:{GLOBAL_TAG}:name:{config_name}"

