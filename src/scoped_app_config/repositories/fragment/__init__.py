"""Config fragments (`app_config_fragments`): one JSON object per (config name, scope)."""

from scoped_app_config.repositories.fragment.creators import (
    FragmentBulkUpserter,
    FragmentCreator,
    FragmentUpsertItem,
)
from scoped_app_config.repositories.fragment.db_source import AppConfigFragmentDBSource
from scoped_app_config.repositories.fragment.purgers import FragmentBulkPurger, FragmentPurger
from scoped_app_config.repositories.fragment.repository import AppConfigFragmentRepository
from scoped_app_config.repositories.fragment.types import (
    ConfigNameSearchScope,
    FragmentSearchScope,
    ScopeSearchScope,
)
from scoped_app_config.repositories.fragment.updaters import FragmentUpdater, FragmentUpdateSpec

__all__ = [
    "AppConfigFragmentDBSource",
    "AppConfigFragmentRepository",
    "ConfigNameSearchScope",
    "FragmentBulkPurger",
    "FragmentBulkUpserter",
    "FragmentCreator",
    "FragmentPurger",
    "FragmentSearchScope",
    "FragmentUpdateSpec",
    "FragmentUpdater",
    "FragmentUpsertItem",
    "ScopeSearchScope",
]
