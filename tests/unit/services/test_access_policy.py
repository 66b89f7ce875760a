"""The authorization rules, cell by cell (the API tests repeat them through HTTP)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import attrs
import pytest
from services_support import InMemoryAccounts

from reference_host.contract import Role
from scoped_app_config.domain.errors import AccessDenied, UserNotFound
from scoped_app_config.domain.types import ScopeRef, ScopeType
from scoped_app_config.services.access_policy import AccessPolicy
from scoped_app_config.services.actor import Actor, ActorRole

DOMAIN_A = uuid.uuid4()
DOMAIN_B = uuid.uuid4()


@attrs.frozen
class TwoDomains:
    accounts: InMemoryAccounts
    people: dict[str, Actor]


@pytest.fixture
def two_domains() -> TwoDomains:
    accounts = InMemoryAccounts()
    people = {
        "superadmin": Actor(
            accounts.add_user(DOMAIN_A, Role.SUPERADMIN), DOMAIN_A, ActorRole.SUPERADMIN
        ),
        "admin_a": Actor(accounts.add_user(DOMAIN_A, Role.ADMIN), DOMAIN_A, ActorRole.ADMIN),
        "admin_b": Actor(accounts.add_user(DOMAIN_B, Role.ADMIN), DOMAIN_B, ActorRole.ADMIN),
        "user_a": Actor(accounts.add_user(DOMAIN_A), DOMAIN_A, ActorRole.USER),
    }
    return TwoDomains(accounts, people)


SCOPES: dict[str, Callable[[TwoDomains], ScopeRef]] = {
    "public": lambda _: ScopeRef(ScopeType.PUBLIC),
    "domain_a": lambda _: ScopeRef(ScopeType.DOMAIN, DOMAIN_A),
    "defaults_a": lambda _: ScopeRef(ScopeType.DOMAIN_USER_DEFAULTS, DOMAIN_A),
    "domain_b": lambda _: ScopeRef(ScopeType.DOMAIN, DOMAIN_B),
    "user_a": lambda world: ScopeRef(ScopeType.USER, world.people["user_a"].user_id),
}

# actor → scopes it may manage; every other cell is denied.
ALLOWED = {
    "superadmin": {"public", "domain_a", "defaults_a", "domain_b", "user_a"},
    "admin_a": {"domain_a", "defaults_a", "user_a"},
    "admin_b": {"domain_b"},
    "user_a": {"user_a"},
}


@pytest.mark.parametrize("actor", sorted(ALLOWED))
@pytest.mark.parametrize("scope", sorted(SCOPES))
async def test_scope_access_follows_the_role_table(
    two_domains: TwoDomains, actor: str, scope: str
) -> None:
    policy = AccessPolicy(two_domains.accounts)
    allowed = await policy.may_manage(two_domains.people[actor], SCOPES[scope](two_domains))
    assert allowed is (scope in ALLOWED[actor])


async def test_denied_scope_raises_access_denied(two_domains: TwoDomains) -> None:
    policy = AccessPolicy(two_domains.accounts)
    with pytest.raises(AccessDenied):
        await policy.require_scope(two_domains.people["user_a"], ScopeRef(ScopeType.PUBLIC))


async def test_superadmin_writing_for_an_unknown_user_is_told_it_does_not_exist(
    two_domains: TwoDomains,
) -> None:
    policy = AccessPolicy(two_domains.accounts)
    with pytest.raises(UserNotFound):
        await policy.require_scope(
            two_domains.people["superadmin"], ScopeRef(ScopeType.USER, uuid.uuid4())
        )


async def test_domain_admin_cannot_probe_whether_a_foreign_user_exists(
    two_domains: TwoDomains,
) -> None:
    policy = AccessPolicy(two_domains.accounts)
    with pytest.raises(AccessDenied):
        await policy.require_scope(
            two_domains.people["admin_a"], ScopeRef(ScopeType.USER, uuid.uuid4())
        )
