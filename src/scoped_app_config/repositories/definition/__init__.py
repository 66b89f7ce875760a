"""Config name registrations (`app_config_definitions`)."""

from scoped_app_config.repositories.definition.creators import DefinitionCreator
from scoped_app_config.repositories.definition.db_source import AppConfigDefinitionDBSource
from scoped_app_config.repositories.definition.purgers import DefinitionPurger
from scoped_app_config.repositories.definition.repository import AppConfigDefinitionRepository

__all__ = [
    "AppConfigDefinitionDBSource",
    "AppConfigDefinitionRepository",
    "DefinitionCreator",
    "DefinitionPurger",
]
