"""The merged read path: request order, repeats, strict mode, cache read-around, one DB read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import orjson
import pytest
from services_support import FakeMergedViews, InMemoryAccounts, fragment

from reference_host.contract import Role
from scoped_app_config.domain.errors import AccessDenied, ContributorsMissing, LimitExceeded
from scoped_app_config.domain.types import ScopeType
from scoped_app_config.services.access_policy import AccessPolicy
from scoped_app_config.services.actor import Actor, ActorRole
from scoped_app_config.services.limits import RequestLimits
from scoped_app_config.services.merged_configs import MergedConfig, MergedConfigService

DOMAIN = uuid.uuid4()


@pytest.fixture
def accounts() -> InMemoryAccounts:
    return InMemoryAccounts()


@pytest.fixture
def alice(accounts: InMemoryAccounts) -> Actor:
    return Actor(accounts.add_user(DOMAIN), DOMAIN, ActorRole.USER)


@pytest.fixture
def theme_across_scopes(alice: Actor) -> FakeMergedViews:
    views = FakeMergedViews()
    views.rows += [
        fragment(
            "theme", ScopeType.PUBLIC, None, {"mode": "light", "font": 12}, allow_list_rank=100
        ),
        fragment("theme", ScopeType.DOMAIN, DOMAIN, {"mode": "dark"}, allow_list_rank=200),
        fragment("theme", ScopeType.USER, alice.user_id, {"font": 14}, allow_list_rank=300),
        fragment("menu", ScopeType.PUBLIC, None, {"items": ["home"]}, allow_list_rank=100),
    ]
    return views


def service(
    views: FakeMergedViews, accounts: InMemoryAccounts, *, max_names_per_request: int = 100
) -> MergedConfigService:
    limits = RequestLimits(max_names_per_request=max_names_per_request)
    return MergedConfigService(views, AccessPolicy(accounts), limits)


def decoded(results: Sequence[MergedConfig]) -> list[tuple[str, object]]:
    return [(r.config_name, orjson.loads(r.config_json)) for r in results]


async def test_user_fragment_overrides_domain_which_overrides_public(
    theme_across_scopes: FakeMergedViews, accounts: InMemoryAccounts, alice: Actor
) -> None:
    results = await service(theme_across_scopes, accounts).get_for_actor(alice, ["theme"])
    assert decoded(results) == [("theme", {"mode": "dark", "font": 14})]


async def test_answers_follow_request_order_and_repeat_repeated_names(
    theme_across_scopes: FakeMergedViews, accounts: InMemoryAccounts, alice: Actor
) -> None:
    results = await service(theme_across_scopes, accounts).get_for_actor(
        alice, ["menu", "theme", "menu", "nothing"]
    )
    assert [name for name, _ in decoded(results)] == ["menu", "theme", "menu", "nothing"]
    assert decoded(results)[3] == ("nothing", {})


async def test_one_database_read_serves_every_missing_name(
    theme_across_scopes: FakeMergedViews, accounts: InMemoryAccounts, alice: Actor
) -> None:
    await service(theme_across_scopes, accounts).get_for_actor(alice, ["theme", "menu", "x"])
    assert theme_across_scopes.database_reads == [["theme", "menu", "x"]]


async def test_cached_views_are_served_without_reading_the_database(
    theme_across_scopes: FakeMergedViews, accounts: InMemoryAccounts, alice: Actor
) -> None:
    reads = service(theme_across_scopes, accounts)
    first = await reads.get_for_actor(alice, ["theme", "menu"])
    second = await reads.get_for_actor(alice, ["theme", "menu"])
    assert decoded(first) == decoded(second)
    assert len(theme_across_scopes.database_reads) == 1


async def test_without_a_cache_every_read_goes_to_the_database(
    accounts: InMemoryAccounts, alice: Actor
) -> None:
    views = FakeMergedViews(cache=False)
    reads = service(views, accounts)
    await reads.get_for_actor(alice, ["theme"])
    await reads.get_for_actor(alice, ["theme"])
    assert len(views.database_reads) == 2


async def test_anonymous_read_sees_public_fragments_only(
    theme_across_scopes: FakeMergedViews, accounts: InMemoryAccounts
) -> None:
    results = await service(theme_across_scopes, accounts).get_public(["theme"])
    assert decoded(results) == [("theme", {"mode": "light", "font": 12})]


async def test_strict_read_names_every_config_nothing_contributes_to(
    theme_across_scopes: FakeMergedViews, accounts: InMemoryAccounts, alice: Actor
) -> None:
    with pytest.raises(ContributorsMissing) as raised:
        await service(theme_across_scopes, accounts).get_for_actor(
            alice, ["theme", "ghost", "phantom"], strict=True
        )
    assert raised.value.config_names == ["ghost", "phantom"]


async def test_strict_read_asks_the_database_about_a_cached_empty_view(
    accounts: InMemoryAccounts, alice: Actor
) -> None:
    views = FakeMergedViews()
    views.rows.append(fragment("blank", ScopeType.PUBLIC, None, {}, allow_list_rank=100))
    reads = service(views, accounts)
    await reads.get_for_actor(alice, ["blank"])
    results = await reads.get_for_actor(alice, ["blank"], strict=True)
    assert decoded(results) == [("blank", {})]
    assert len(views.database_reads) == 2


async def test_too_many_names_are_refused_before_anything_is_read(
    theme_across_scopes: FakeMergedViews, accounts: InMemoryAccounts, alice: Actor
) -> None:
    with pytest.raises(LimitExceeded, match="limit of 2 names"):
        await service(theme_across_scopes, accounts, max_names_per_request=2).get_for_actor(
            alice, ["a", "b", "c"]
        )
    assert theme_across_scopes.database_reads == []


async def test_domain_admin_reads_a_user_of_their_domain_but_not_of_another(
    theme_across_scopes: FakeMergedViews, accounts: InMemoryAccounts, alice: Actor
) -> None:
    admin = Actor(accounts.add_user(DOMAIN, Role.ADMIN), DOMAIN, ActorRole.ADMIN)
    reads = service(theme_across_scopes, accounts)
    assert decoded(await reads.get_for_user(admin, alice.user_id, ["theme"])) == [
        ("theme", {"mode": "dark", "font": 14})
    ]
    other_domain = uuid.uuid4()
    stranger = Actor(accounts.add_user(other_domain, Role.ADMIN), other_domain, ActorRole.ADMIN)
    with pytest.raises(AccessDenied):
        await reads.get_for_user(stranger, alice.user_id, ["theme"])
