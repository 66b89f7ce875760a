"""Turn a constraint violation into a domain error by SQLSTATE and constraint name.

Never by message text: asyncpg exposes `sqlstate` and `constraint_name` on its exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NoReturn

import attrs
from sqlalchemy.exc import DBAPIError, IntegrityError

from scoped_app_config.domain.errors import ConfigError

UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"
NOT_NULL_VIOLATION = "23502"


def _driver_error_attribute(error: DBAPIError, name: str) -> str | None:
    """Read an attribute from the SQLAlchemy-adapted driver error or the asyncpg cause."""
    for candidate in (error.orig, getattr(error.orig, "__cause__", None)):
        value = getattr(candidate, name, None)
        if isinstance(value, str):
            return value
    return None


def sqlstate_of(error: DBAPIError) -> str | None:
    return _driver_error_attribute(error, "sqlstate")


def constraint_of(error: DBAPIError) -> str | None:
    return _driver_error_attribute(error, "constraint_name")


@attrs.frozen
class IntegrityCheck:
    """Map a violation (SQLSTATE, optionally only of one named constraint) to a domain error."""

    sqlstate: str
    error: Callable[[], ConfigError]
    constraint: str | None = None

    def matches(self, error: IntegrityError) -> bool:
        if sqlstate_of(error) != self.sqlstate:
            return False
        return self.constraint is None or constraint_of(error) == self.constraint


def domain_error_for(error: IntegrityError, checks: Sequence[IntegrityCheck]) -> ConfigError | None:
    """The domain error of the first matching check, or None (then re-raise the original)."""
    for check in checks:
        if check.matches(error):
            return check.error()
    return None


def raise_for_integrity(error: IntegrityError, checks: Sequence[IntegrityCheck]) -> NoReturn:
    """Raise the domain error the checks name for this violation, else the violation itself."""
    domain_error = domain_error_for(error, checks)
    if domain_error is None:
        raise error
    raise domain_error from error
