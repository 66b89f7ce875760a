"""Allow-list entries (`app_config_allow_list`): the write gate and merge rank per scope type."""

from scoped_app_config.repositories.allow_list.creators import AllowListCreator
from scoped_app_config.repositories.allow_list.db_source import AppConfigAllowListDBSource
from scoped_app_config.repositories.allow_list.purgers import AllowListPurger
from scoped_app_config.repositories.allow_list.repository import AppConfigAllowListRepository
from scoped_app_config.repositories.allow_list.updaters import AllowListUpdater, AllowListUpdateSpec

__all__ = [
    "AllowListCreator",
    "AllowListPurger",
    "AllowListUpdateSpec",
    "AllowListUpdater",
    "AppConfigAllowListDBSource",
    "AppConfigAllowListRepository",
]
