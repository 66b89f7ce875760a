"""Redis/Valkey cache of merged views (the seed cache issue's surface, made race-free and O(1))."""

from scoped_app_config.repositories.fragment.cache_source.cache_source import (
    AppConfigFragmentCacheSource,
    CacheLookup,
    Viewer,
    fragment_generation_key,
    scope_generation_key,
)
from scoped_app_config.repositories.fragment.cache_source.guard import (
    CacheGuard,
    CircuitBreaker,
)

__all__ = [
    "AppConfigFragmentCacheSource",
    "CacheGuard",
    "CacheLookup",
    "CircuitBreaker",
    "Viewer",
    "fragment_generation_key",
    "scope_generation_key",
]
