"""SQLAlchemy 2 typed rows. Only db_source modules (and creators building rows) use them."""

from scoped_app_config.models.base import Base
from scoped_app_config.models.tables import AllowListRow, DefinitionRow, FragmentRow

__all__ = ["AllowListRow", "Base", "DefinitionRow", "FragmentRow"]
