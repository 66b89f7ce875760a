"""The plugin's domain errors. The API layer maps each class to an HTTP status (WIRE.md §5).

    ConfigError                        base: error_type slug, title, error_code
    ├── NotFound                       → 404
    │   ├── AppConfigDefinitionNotFound    app-config-definition-not-found (by name)
    │   │                                  entity-not-found (by id)
    │   ├── AppConfigAllowListNotFound     entity-not-found
    │   ├── AppConfigFragmentNotFound      entity-not-found
    │   ├── DomainNotFound                 entity-not-found
    │   ├── UserNotFound                   entity-not-found
    │   └── ContributorsMissing            app-config-not-found (strict merged read)
    ├── Conflict                       → 409 unique-constraint-violation
    ├── WriteNotAllowed                → 403 app-config-fragment-write-not-allowed
    ├── AccessDenied                   → 403 generic-forbidden
    └── InvalidParameters              → 400 generic-bad-request
        ├── InvalidScope
        └── LimitExceeded                  (413 when the whole body is too large)

Domain errors import no web framework and are never retried by the resilience policy.
"""

from __future__ import annotations

import uuid
from typing import ClassVar


class ConfigError(Exception):
    """Base of every domain error; catch it to handle any expected failure of the plugin."""

    error_type: ClassVar[str] = "generic-bad-request"
    title: ClassVar[str] = "App config request failed"
    error_code: ClassVar[str] = "app_config_request_failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def slug(self) -> str:
        """The problem type slug of this instance (some classes vary it per lookup kind)."""
        return self.error_type


class NotFound(ConfigError):
    error_type = "entity-not-found"
    title = "Entity not found"
    error_code = "app_config_lookup_not_found"


class AppConfigDefinitionNotFound(NotFound):
    """A config name is not registered (slug per WIRE.md §5), or a definition id is unknown."""

    error_type = "app-config-definition-not-found"
    title = "App config definition not found"
    error_code = "app_config_definition_lookup_not_found"

    def __init__(self, message: str, *, by_id: bool) -> None:
        super().__init__(message)
        self.by_id = by_id

    @property
    def slug(self) -> str:
        return NotFound.error_type if self.by_id else self.error_type

    @classmethod
    def for_name(cls, config_name: str) -> AppConfigDefinitionNotFound:
        return cls(f"App config '{config_name}' is not registered.", by_id=False)

    @classmethod
    def for_id(cls, definition_id: uuid.UUID) -> AppConfigDefinitionNotFound:
        return cls(f"App config definition {definition_id} not found.", by_id=True)


class AppConfigAllowListNotFound(NotFound):
    title = "App config allow-list entry not found"
    error_code = "app_config_allow_list_lookup_not_found"

    def __init__(self, entry_id: uuid.UUID) -> None:
        super().__init__(f"App config allow-list entry {entry_id} not found.")


class AppConfigFragmentNotFound(NotFound):
    title = "App config fragment not found"
    error_code = "app_config_fragment_lookup_not_found"

    def __init__(self, fragment_id: uuid.UUID) -> None:
        super().__init__(f"App config fragment {fragment_id} not found.")


class DomainNotFound(NotFound):
    title = "Domain not found"
    error_code = "app_config_domain_lookup_not_found"

    def __init__(self, domain_id: uuid.UUID) -> None:
        super().__init__(f"Domain {domain_id} not found.")


class UserNotFound(NotFound):
    title = "User not found"
    error_code = "app_config_user_lookup_not_found"

    def __init__(self, user_id: uuid.UUID) -> None:
        super().__init__(f"User {user_id} not found.")


class Conflict(ConfigError):
    """A write collided with an existing row's unique key (duplicate name, entry or fragment)."""

    error_type = "unique-constraint-violation"
    title = "Unique constraint violation"
    error_code = "app_config_write_conflict"


class WriteNotAllowed(ConfigError):
    """No allow-list entry admits writing this config name at this scope type."""

    error_type = "app-config-fragment-write-not-allowed"
    title = "Writing this app config at this scope is not allowed"
    error_code = "app_config_fragment_write_not_allowed"

    def __init__(self, config_name: str, scope_type: str) -> None:
        super().__init__(
            f"Writing app config '{config_name}' at scope '{scope_type}' is not allowed."
        )
        self.config_name = config_name
        self.scope_type = scope_type


class InvalidParameters(ConfigError):
    error_type = "generic-bad-request"
    title = "Invalid parameters"
    error_code = "app_config_request_invalid_parameters"


class InvalidScope(InvalidParameters):
    """`scope_id` must be null exactly for the public scope."""

    error_code = "app_config_scope_invalid_id"

    def __init__(self, scope_type: str, scope_id: uuid.UUID | None) -> None:
        expectation = "must not have" if scope_id is not None else "requires"
        super().__init__(f"Scope '{scope_type}' {expectation} a scope_id.")


class AccessDenied(ConfigError):
    """The actor's role does not allow this operation at this scope (403 generic-forbidden)."""

    error_type = "generic-forbidden"
    title = "Insufficient privileges"
    error_code = "app_config_access_forbidden"


class LimitExceeded(InvalidParameters):
    """A document or request exceeds a configured limit (the message names the limit)."""

    error_code = "app_config_request_limit_exceeded"


class ContributorsMissing(NotFound):
    """A strict merged read named configs that nothing visible contributes to."""

    error_type = "app-config-not-found"
    title = "App config not found"
    error_code = "app_config_merged_read_not_found"

    def __init__(self, config_names: list[str]) -> None:
        super().__init__(
            "Nothing contributes to app config(s): " + ", ".join(repr(n) for n in config_names)
        )
        self.config_names = config_names
