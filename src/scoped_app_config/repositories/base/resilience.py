"""The resilience policy: layer metrics on every call, retries only for transient DB failures.

Retries live in one layer only. A db_source method (one whole transaction) runs up to
`DB_SOURCE_MAX_ATTEMPTS` times, 0.1 s apart; a repository method runs once (metrics only), so a
repository call issues at most `DB_SOURCE_MAX_ATTEMPTS * REPOSITORY_MAX_ATTEMPTS` = 5 attempts.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Concatenate, Final, ParamSpec, Protocol, TypeVar

import attrs
from sqlalchemy.exc import DBAPIError

from reference_host.contract import LayerMetrics
from scoped_app_config.repositories.base.integrity import sqlstate_of

log = logging.getLogger(__name__)

REPOSITORY_DOMAIN: Final = "repository"
DB_SOURCE_DOMAIN: Final = "db_source"
REPOSITORY_MAX_ATTEMPTS: Final = 1
DB_SOURCE_MAX_ATTEMPTS: Final = 5
DB_SOURCE_BACKOFF_SECONDS: Final = 0.1
MAX_ATTEMPTS_PER_REPOSITORY_CALL: Final = REPOSITORY_MAX_ATTEMPTS * DB_SOURCE_MAX_ATTEMPTS

# Serialization failure, deadlock, administrator shutdown (pg_terminate_backend, failover), and
# a server still starting up (57P03: after a restart it accepts sessions within moments).
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P03"})
_CONNECTION_EXCEPTION_CLASS = "08"
# SQLAlchemy wraps every asyncpg error (ConnectionDoesNotExistError, InterfaceError on a closed
# connection, ...) in a DBAPIError; a refused or reset socket at connect time is a ConnectionError.
_DRIVER_ERRORS = (DBAPIError, ConnectionError)


def is_transient(error: BaseException) -> bool:
    """True for failures a fresh transaction may not hit again: lost connection, 40001, 40P01."""
    if isinstance(error, ConnectionError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = sqlstate_of(error)
    if sqlstate is None:
        return False
    return sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith(_CONNECTION_EXCEPTION_CLASS)


class Observed(Protocol):
    """A repository or db_source: it exposes the host's layer metrics."""

    @property
    def layer_metrics(self) -> LayerMetrics: ...


S = TypeVar("S", bound=Observed)
P = ParamSpec("P")
R = TypeVar("R")


@attrs.frozen
class ResiliencePolicy:
    """Decorates async methods: one metrics observation per call, retried attempts inside it."""

    domain: str
    layer: str
    max_attempts: int
    backoff_seconds: float = 0.0

    def __call__(
        self, method: Callable[Concatenate[S, P], Awaitable[R]]
    ) -> Callable[Concatenate[S, P], Awaitable[R]]:
        operation = method.__name__

        @functools.wraps(method)
        async def run(owner: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            metrics = owner.layer_metrics
            labels = {"domain": self.domain, "layer": self.layer, "operation": operation}
            async with metrics.observe(**labels):
                attempt = 1
                while True:
                    try:
                        return await method(owner, *args, **kwargs)
                    except _DRIVER_ERRORS as error:
                        if attempt >= self.max_attempts or not is_transient(error):
                            raise
                        log.warning(
                            "%s.%s attempt %d/%d failed transiently: %r",
                            self.layer,
                            operation,
                            attempt,
                            self.max_attempts,
                            error,
                        )
                        metrics.count_retry(**labels)
                    attempt += 1
                    await asyncio.sleep(self.backoff_seconds)

        return run


def repository_policy(layer: str) -> ResiliencePolicy:
    return ResiliencePolicy(REPOSITORY_DOMAIN, layer, REPOSITORY_MAX_ATTEMPTS)


def db_source_policy(layer: str) -> ResiliencePolicy:
    return ResiliencePolicy(
        DB_SOURCE_DOMAIN, layer, DB_SOURCE_MAX_ATTEMPTS, DB_SOURCE_BACKOFF_SECONDS
    )


DEFINITION_REPOSITORY_LAYER: Final = "app_config_definition_repository"
DEFINITION_DB_SOURCE_LAYER: Final = "app_config_definition_db_source"
ALLOW_LIST_REPOSITORY_LAYER: Final = "app_config_allow_list_repository"
ALLOW_LIST_DB_SOURCE_LAYER: Final = "app_config_allow_list_db_source"
FRAGMENT_REPOSITORY_LAYER: Final = "app_config_fragment_repository"
FRAGMENT_DB_SOURCE_LAYER: Final = "app_config_fragment_db_source"

LAYER_LABELS: Final = (
    DEFINITION_REPOSITORY_LAYER,
    DEFINITION_DB_SOURCE_LAYER,
    ALLOW_LIST_REPOSITORY_LAYER,
    ALLOW_LIST_DB_SOURCE_LAYER,
    FRAGMENT_REPOSITORY_LAYER,
    FRAGMENT_DB_SOURCE_LAYER,
)
"""Every layer label the repositories observe under; the plugin registers them with the host."""
