"""Domain errors → problem+json (via the host's ProblemError); request bodies → wire models."""

from __future__ import annotations

import functools
import logging
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError

from reference_host.contract import Handler, ProblemError, parse_json_body
from scoped_app_config.domain.errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    InvalidParameters,
    NotFound,
    WriteNotAllowed,
)
from scoped_app_config.repositories.base.db_source import CommitOutcomeUnknown
from scoped_app_config.repositories.base.integrity import sqlstate_of
from scoped_app_config.repositories.base.resilience import is_transient

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
BODY_CHUNK_BYTES = 64 * 1024

_STATUS_BY_FAMILY: tuple[tuple[type[ConfigError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (WriteNotAllowed, 403),
    (AccessDenied, 403),
    (InvalidParameters, 400),
)


def problem_of(error: ConfigError) -> ProblemError:
    status = next((s for family, s in _STATUS_BY_FAMILY if isinstance(error, family)), 400)
    return ProblemError(
        status=status,
        type_slug=error.slug,
        title=error.title,
        error_code=error.error_code,
        msg=error.message,
    )


def validation_problem(error: ValidationError) -> ProblemError:
    details = [
        {"loc": ".".join(str(part) for part in item["loc"]), "msg": item["msg"]}
        for item in error.errors(include_url=False, include_input=False)
    ]
    summary = "; ".join(f"{d['loc'] or 'body'}: {d['msg']}" for d in details[:5])
    return ProblemError(
        status=400,
        type_slug="generic-bad-request",
        title="Invalid request body",
        error_code="app_config_request_validation_failed",
        msg=summary,
        data={"errors": details},
    )


def _database_unavailable(error: Exception) -> bool:
    """Lost or refused connections, and a server shutting down or starting (SQLSTATE 57P0x)."""
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    if isinstance(error, DBAPIError):
        return is_transient(error) or (sqlstate_of(error) or "").startswith("57P0")
    return False


def service_unavailable(msg: str) -> ProblemError:
    return ProblemError(
        status=503,
        type_slug="service-unavailable",
        title="Service unavailable",
        error_code="app_config_database_unavailable",
        msg=msg,
    )


def translating_domain_errors(handler: Handler) -> Handler:
    """`handler`, with the plugin's domain errors turned into the host's problem responses and
    a database that cannot be reached (after the db_source's retries) into a 503 instead of a
    bare 500. A wrapper per route rather than a sub-application middleware: aiohttp runs
    middlewares through a partial and a wrapper frame of its own on every request."""

    @functools.wraps(handler)
    async def translated(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ConfigError as error:
            raise problem_of(error) from None
        except CommitOutcomeUnknown:
            log.warning("commit outcome unknown: %s %s", request.method, request.rel_url.path)
            raise service_unavailable(
                "The database connection was lost while committing: the write may or may not"
                " have been applied. Read it back before retrying."
            ) from None
        except (DBAPIError, ConnectionError, TimeoutError) as error:
            if not _database_unavailable(error):
                raise
            cause = error.orig if isinstance(error, DBAPIError) else error
            # The class only: a DBAPIError's text carries the statement and its parameters.
            log.warning(
                "database unavailable: %s %s: %s",
                request.method,
                request.rel_url.path,
                type(cause).__name__,
            )
            raise service_unavailable("The database is unavailable; try again shortly.") from None

    return translated


def too_large(limit: int) -> ProblemError:
    return ProblemError(
        status=413,
        type_slug="request-entity-too-large",
        title="Request body too large",
        error_code="app_config_request_too_large",
        msg=f"The request body exceeds the limit of {limit} bytes.",
    )


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The raw body, refused with 413 as soon as it exceeds `max_bytes`: before reading when its
    length is declared, and mid-stream for a chunked body (never read whole)."""
    if request.content_length is not None:
        if request.content_length > max_bytes:
            raise too_large(max_bytes)
        return await request.content.read()  # framed by its Content-Length: <= max_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(BODY_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_body(request: web.Request, model: type[M], max_bytes: int) -> M:
    """The body as `model`: 413 over `max_bytes`, 400 for malformed JSON or a body that does not
    validate. The plugin's limit governs, not the host's `client_max_size`."""
    payload: Any = parse_json_body(await read_body(request, max_bytes))
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise validation_problem(error) from None
