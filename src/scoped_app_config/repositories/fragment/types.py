"""Search scopes for `scoped_search`: each carries its own existence check, run before searching."""

from __future__ import annotations

import uuid

import attrs

from reference_host.contract import AccountDirectory
from scoped_app_config.domain.errors import DomainNotFound, UserNotFound
from scoped_app_config.domain.types import ScopeRef, ScopeType


@attrs.frozen
class ConfigNameSearchScope:
    """Fragments of one config name; an unregistered name is definition-not-found, not empty."""

    config_name: str


@attrs.frozen
class ScopeSearchScope:
    """Fragments at one `(scope_type, scope_id)`; an unknown domain or user is not-found."""

    scope_type: ScopeType
    scope_id: uuid.UUID | None = None

    def __attrs_post_init__(self) -> None:
        ScopeRef(self.scope_type, self.scope_id)  # validates the public ⇔ no-id invariant

    async def check_exists(self, accounts: AccountDirectory) -> None:
        if self.scope_id is None:
            return
        if self.scope_type is ScopeType.USER:
            if await accounts.find_user(self.scope_id) is None:
                raise UserNotFound(self.scope_id)
        elif not await accounts.domain_exists(self.scope_id):
            raise DomainNotFound(self.scope_id)


FragmentSearchScope = ConfigNameSearchScope | ScopeSearchScope
