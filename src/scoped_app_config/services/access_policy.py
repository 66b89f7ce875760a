"""Every authorization rule of the plugin, in one place.

    superadmin   every scope, definitions and the allow-list
    admin        domain and domain_user_defaults of their own domain, and the user scope of
                 users in their own domain
    user         their own user scope only
    anonymous    only the public merged read (enforced by the route's requirement)

A fragment the actor may not manage is reported exactly like a missing one (no existence
oracle); an explicit scope the actor may not write is a 403.
"""

from __future__ import annotations

import uuid

from reference_host.contract import AccountDirectory
from scoped_app_config.domain.errors import (
    AccessDenied,
    AppConfigFragmentNotFound,
    DomainNotFound,
    UserNotFound,
)
from scoped_app_config.domain.models import FragmentData
from scoped_app_config.domain.types import ScopeRef, ScopeType
from scoped_app_config.services.actor import Actor


class AccessPolicy:
    def __init__(self, accounts: AccountDirectory) -> None:
        self._accounts = accounts

    async def _user_in_actor_domain(self, actor: Actor, user_id: uuid.UUID) -> bool:
        account = await self._accounts.find_user(user_id)
        return account is not None and account.domain_id == actor.domain_id

    async def may_manage(self, actor: Actor, scope: ScopeRef) -> bool:
        if actor.is_superadmin:
            return True
        if scope.scope_type is ScopeType.USER:
            if scope.scope_id == actor.user_id:
                return True
            return (
                actor.is_domain_admin
                and scope.scope_id is not None
                and await self._user_in_actor_domain(actor, scope.scope_id)
            )
        if scope.scope_type in (ScopeType.DOMAIN, ScopeType.DOMAIN_USER_DEFAULTS):
            return actor.is_domain_admin and scope.scope_id == actor.domain_id
        return False

    async def require_scope(self, actor: Actor, scope: ScopeRef) -> None:
        """Raise AccessDenied unless the actor may read and write fragments at `scope`.

        For a superadmin the scope's domain or user must exist (nobody else can tell).
        """
        if not await self.may_manage(actor, scope):
            where = f"'{scope.scope_type.value}'"
            if scope.scope_id is not None:
                where += f" ({scope.scope_id})"
            raise AccessDenied(f"You may not access app config fragments at scope {where}.")
        if actor.is_superadmin and scope.scope_id is not None:
            await self._require_scope_exists(scope)

    async def _require_scope_exists(self, scope: ScopeRef) -> None:
        assert scope.scope_id is not None
        if scope.scope_type is ScopeType.USER:
            if await self._accounts.find_user(scope.scope_id) is None:
                raise UserNotFound(scope.scope_id)
        elif not await self._accounts.domain_exists(scope.scope_id):
            raise DomainNotFound(scope.scope_id)

    async def require_visible(self, actor: Actor, fragment: FragmentData) -> None:
        """Raise the same not-found as for a missing id unless the actor may manage it."""
        if not await self.may_manage(actor, fragment.scope):
            raise AppConfigFragmentNotFound(fragment.id)

    async def require_user_readable(self, actor: Actor, user_id: uuid.UUID) -> uuid.UUID:
        """The domain of a user whose merged view the actor may read (self, own domain, any)."""
        account = await self._accounts.find_user(user_id)
        if account is not None and (
            actor.is_superadmin
            or user_id == actor.user_id
            or (actor.is_domain_admin and account.domain_id == actor.domain_id)
        ):
            return account.domain_id
        if actor.is_superadmin:
            raise UserNotFound(user_id)
        raise AccessDenied("You may not read this user's app configs.")
