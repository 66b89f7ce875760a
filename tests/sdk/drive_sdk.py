"""Drive the official Backend.AI client SDK (``backend.ai-client==26.9.6``) against a live server.

Standalone: run it with the interpreter of the SDK venv (``.venv-sdk/bin/python``); it imports
only the SDK, never this project's packages. See ``docs/sdk-notes.md`` for what the SDK sends
and expects.

Environment:
  BACKEND_ENDPOINT       server root, e.g. http://127.0.0.1:8090 (required)
  BACKEND_ACCESS_KEY     superadmin keypair (required)
  BACKEND_SECRET_KEY
  USER_ACCESS_KEY        optional normal-user keypair; enables the user-role checks and makes
  USER_SECRET_KEY        the merged-view checks run as that user
  DOMAIN_ID              optional uuid of the domain the merge subject (the normal user if given,
                         else the superadmin) belongs to; enables the domain-scope checks
  USER_ID                optional uuid of the normal user; checked against what the server
                         answers (the driver learns it from my/bulk-upsert otherwise)
  ADMIN_USER_ID          optional uuid of the superadmin; checked the same way
  BACKEND_AI_CLI         optional path of the ``backend.ai`` executable (default: next to
                         this interpreter)

Prints one line per check and ends with ``N passed, M failed``; exits 1 on any failure.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sys
import tempfile
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from ai.backend.client.exceptions import BackendAPIError
from ai.backend.client.v2.auth import HMACAuth
from ai.backend.client.v2.config import ClientConfig
from ai.backend.client.v2.exceptions import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from ai.backend.client.v2.v2_registry import V2ClientRegistry
from ai.backend.common.data.app_config.types import AppConfigScopeType
from ai.backend.common.data.entity.app_config_fragment import AppConfigFragmentID
from ai.backend.common.dto.manager.query import DateTimeFilter, StringFilter
from ai.backend.common.dto.manager.v2.app_config.request import (
    MyGetAppConfigsInput,
    PublicGetAppConfigsInput,
)
from ai.backend.common.dto.manager.v2.app_config_allow_list.request import (
    AppConfigAllowListFilter,
    AppConfigAllowListOrder,
    CreateAppConfigAllowListInput,
    SearchAppConfigAllowListInput,
    UpdateAppConfigAllowListInput,
)
from ai.backend.common.dto.manager.v2.app_config_allow_list.types import (
    AppConfigAllowListOrderField,
)
from ai.backend.common.dto.manager.v2.app_config_allow_list.types import (
    AppConfigScopeTypeFilter as AllowListScopeTypeFilter,
)
from ai.backend.common.dto.manager.v2.app_config_definition.request import (
    AppConfigDefinitionFilter,
    AppConfigDefinitionOrder,
    CreateAppConfigDefinitionInput,
    SearchAppConfigDefinitionsInput,
)
from ai.backend.common.dto.manager.v2.app_config_definition.types import (
    AppConfigDefinitionOrderField,
)
from ai.backend.common.dto.manager.v2.app_config_fragment.request import (
    AdminSearchAppConfigFragmentInput,
    AppConfigFragmentFilter,
    AppConfigFragmentOrder,
    AppConfigFragmentUpsertItem,
    AppConfigScopeRef,
    BulkPurgeAppConfigFragmentInput,
    MyAppConfigFragmentsByNamesInput,
    MyUpsertAppConfigFragmentsInput,
    ScopedAppConfigFragmentsByNamesInput,
    ScopedUpsertAppConfigFragmentsInput,
)
from ai.backend.common.dto.manager.v2.app_config_fragment.response import (
    AppConfigFragmentNode,
)
from ai.backend.common.dto.manager.v2.app_config_fragment.types import (
    AppConfigFragmentOrderField,
)
from ai.backend.common.dto.manager.v2.app_config_fragment.types import (
    AppConfigScopeTypeFilter as FragmentScopeTypeFilter,
)
from ai.backend.common.dto.manager.v2.common import OrderDirection
from yarl import URL

PUBLIC = AppConfigScopeType.PUBLIC
DOMAIN = AppConfigScopeType.DOMAIN
USER = AppConfigScopeType.USER
ASC = OrderDirection.ASC
DESC = OrderDirection.DESC

# The documents written by the merge checks, and what the merge must make of them.
PUB_THEME: dict[str, Any] = {
    "color": "blue",
    "font": {"size": 12, "family": "sans"},
    "list": [1, 2],
    "only_public": True,
}
DOM_THEME: dict[str, Any] = {"color": "green", "font": {"size": 14}, "list": [3]}
USR_THEME: dict[str, Any] = {
    "color": "red",
    "font": {"family": "mono"},
    "only_user": "x",
    "extra": None,
}
MENU_V1: dict[str, Any] = {"items": ["a"]}
MENU_V2: dict[str, Any] = {"items": ["a", "b"], "nested": {"k": [1, {"z": None}]}}
PREFS_USR: dict[str, Any] = {"lang": "ko", "tz": "Asia/Seoul"}


class SkipCheck(Exception):
    """Raised inside a check whose precondition (an optional env var) is missing."""


class ConnectionLost(Exception):
    """The server cannot be reached; the run stops."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BackendAPIError):
        text = f"{type(exc).__name__}(status={exc.status}, data={exc.data!r})"
    elif isinstance(exc, AssertionError):
        text = f"assertion failed: {exc}" if str(exc) else "assertion failed"
    else:
        # e.g. a response the SDK's pydantic models reject: the wire shape is wrong
        text = f"{type(exc).__name__}: {exc}"
    text = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    return text if len(text) <= 1000 else text[:1000] + "..."


def _fmt(value: Any) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= 400 else text[:400] + "..."


def _eq(actual: Any, expected: Any, what: str) -> None:
    assert actual == expected, f"{what}: expected {_fmt(expected)}, got {_fmt(actual)}"


def _cursor(row_id: Any) -> str:
    return base64.b64encode(f"cursor:v1:{row_id}".encode()).decode()


def _slug(exc: BackendAPIError) -> str:
    data = exc.data
    if isinstance(data, dict):
        return str(data.get("type", "")).rsplit("/", 1)[-1]
    return ""


@dataclass
class Runner:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)

    async def check(self, name: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run one check; never raises except when the server is unreachable."""
        try:
            result = await fn()
        except SkipCheck as e:
            self.skipped += 1
            print(f"skip - {name} ({e})", flush=True)
            return None
        except aiohttp.ClientConnectionError as e:
            self.failed += 1
            self.failures.append(name)
            print(f"FAIL - {name}: cannot reach the server: {e!r}", flush=True)
            raise ConnectionLost(str(e)) from e
        except Exception as e:
            self.failed += 1
            self.failures.append(name)
            print(f"FAIL - {name}: {_describe(e)}", flush=True)
            if os.environ.get("DRIVE_SDK_TRACEBACK"):
                traceback.print_exc()
            return None
        self.passed += 1
        print(f"ok   - {name}", flush=True)
        return result

    async def expect_error(
        self,
        name: str,
        exc_cls: type[BackendAPIError],
        fn: Callable[[], Awaitable[Any]],
        *,
        status: int,
        slug: str | None = None,
    ) -> None:
        async def _run() -> None:
            try:
                result = await fn()
            except exc_cls as e:
                _eq(e.status, status, "status")
                data = e.data
                assert isinstance(data, dict) and data.get("title"), (
                    f"error body must be a JSON object with a title, got {data!r}"
                )
                if slug is not None:
                    _eq(_slug(e), slug, "problem type slug")
                return
            raise AssertionError(f"expected {exc_cls.__name__}, got success: {result!r}")

        await self.check(name, _run)


@dataclass
class State:
    """What earlier checks created and later ones use (missing keys make later checks fail)."""

    defs: dict[str, Any] = field(default_factory=dict)  # config_name -> DefinitionNode
    allow: dict[tuple[str, str], Any] = field(default_factory=dict)  # (name, scope) -> node
    frags: dict[tuple[str, str], AppConfigFragmentNode] = field(default_factory=dict)
    subject_user_id: uuid.UUID | None = None  # user whose merged view is checked
    admin_user_id: uuid.UUID | None = None


def _env_uuid(name: str) -> uuid.UUID | None:
    value = os.environ.get(name)
    return uuid.UUID(value) if value else None


async def _registry(endpoint: str, ak: str, sk: str, api_version: str | None = None) -> Any:
    config = ClientConfig(endpoint=URL(endpoint), read_timeout=120)
    if api_version is not None:
        config = ClientConfig(endpoint=URL(endpoint), read_timeout=120, api_version=api_version)
    return await V2ClientRegistry.create(config, HMACAuth(access_key=ak, secret_key=sk))


def _frag_ok(
    node: AppConfigFragmentNode | None,
    *,
    config_name: str,
    scope_type: AppConfigScopeType,
    scope_id: uuid.UUID | None,
    config: dict[str, Any] | None = None,
) -> None:
    assert node is not None, f"expected a fragment for {config_name}/{scope_type}, got null"
    _eq(node.config_name, config_name, "fragment config_name")
    _eq(node.scope_type, scope_type, "fragment scope_type")
    if scope_type is PUBLIC:
        assert node.scope_id is None, f"public fragment scope_id must be null: {node.scope_id}"
    elif scope_id is not None:
        _eq(str(node.scope_id), str(scope_id), "fragment scope_id")
    else:
        assert node.scope_id is not None, "non-public fragment needs a scope_id"
    _eq(str(node.entity_id), str(node.id), "fragment entity_id == id")
    assert node.created_at.tzinfo is not None, "created_at must carry a timezone"
    assert node.updated_at.tzinfo is not None, "updated_at must carry a timezone"
    if config is not None:
        _eq(node.config, config, f"fragment config of {config_name}/{scope_type}")


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class Driver:
    def __init__(self, runner: Runner) -> None:
        self.r = runner
        self.endpoint = os.environ["BACKEND_ENDPOINT"]
        self.ak = os.environ["BACKEND_ACCESS_KEY"]
        self.sk = os.environ["BACKEND_SECRET_KEY"]
        self.user_ak = os.environ.get("USER_ACCESS_KEY") or None
        self.user_sk = os.environ.get("USER_SECRET_KEY") or None
        self.domain_id = _env_uuid("DOMAIN_ID")
        self.env_user_id = _env_uuid("USER_ID")
        self.env_admin_id = _env_uuid("ADMIN_USER_ID")
        self.prefix = f"sdk-{uuid.uuid4().hex[:12]}"
        self.theme = f"{self.prefix}.theme"
        self.menu = f"{self.prefix}.menu"
        self.prefs = f"{self.prefix}.prefs"
        self.ghost = f"{self.prefix}.ghost"  # never registered
        self.cli_name = f"{self.prefix}.cli"
        self.names_sorted = sorted([self.theme, self.menu, self.prefs])
        self.st = State()
        self.started = datetime.now(UTC) - timedelta(minutes=1)
        self.admin: Any = None
        self.user: Any = None
        self.cli_home = ""

    # -- helpers -------------------------------------------------------------------------

    @property
    def subject(self) -> Any:
        """The client whose merged view the merge checks read."""
        return self.user if self.user is not None else self.admin

    def _need_domain(self) -> uuid.UUID:
        if self.domain_id is None:
            raise SkipCheck("DOMAIN_ID not set")
        return self.domain_id

    def _need_user(self) -> Any:
        if self.user is None:
            raise SkipCheck("USER_ACCESS_KEY/USER_SECRET_KEY not set")
        return self.user

    def _expected_theme(self, domain_rank_high: bool = False) -> dict[str, Any]:
        layers: list[dict[str, Any]]
        if self.domain_id is not None:
            layers = (
                [PUB_THEME, USR_THEME, DOM_THEME]
                if domain_rank_high
                else [PUB_THEME, DOM_THEME, USR_THEME]
            )
        else:
            layers = [PUB_THEME, USR_THEME]
        merged: dict[str, Any] = {}
        for layer in layers:
            merged = _deep_merge(merged, layer)
        return merged

    async def _my_get(self, client: Any, names: list[str]) -> list[Any]:
        payload = await client.app_config.my_get_app_configs(
            MyGetAppConfigsInput(config_names=names)
        )
        return list(payload.app_configs)

    async def _public_get(self, names: list[str]) -> list[Any]:
        payload = await self.admin.app_config.public_get_app_configs(
            PublicGetAppConfigsInput(config_names=names)
        )
        return list(payload.app_configs)

    async def _search_defs(self, **kwargs: Any) -> Any:
        return await self.admin.app_config_definition.admin_search(
            SearchAppConfigDefinitionsInput(**kwargs)
        )

    async def _search_allow(self, **kwargs: Any) -> Any:
        return await self.admin.app_config_allow_list.admin_search(
            SearchAppConfigAllowListInput(**kwargs)
        )

    async def _search_frags(self, **kwargs: Any) -> Any:
        return await self.admin.app_config_fragment.admin_search(
            AdminSearchAppConfigFragmentInput(**kwargs)
        )

    def _prefix_def_filter(self) -> AppConfigDefinitionFilter:
        return AppConfigDefinitionFilter(config_name=StringFilter(starts_with=self.prefix))

    # -- phases --------------------------------------------------------------------------

    async def run(self) -> None:
        self.admin = await _registry(self.endpoint, self.ak, self.sk)
        if self.user_ak and self.user_sk:
            self.user = await _registry(self.endpoint, self.user_ak, self.user_sk)
        try:
            await self.preflight()
            await self.definitions()
            await self.allow_list()
            await self.fragments_write()
            await self.merged_reads()
            await self.by_names_and_get()
            await self.write_gate()
            await self.rank_patch()
            await self.fragment_search()
            await self.user_role()
            await self.auth_and_validation()
            await self.missing_ids()
            await self.deletes()
            await self.cli()
        finally:
            await self.cleanup()
            await self.admin.close()
            if self.user is not None:
                await self.user.close()

    async def preflight(self) -> None:
        async def _run() -> None:
            configs = await self._public_get([self.ghost])
            _eq([(c.config_name, c.config) for c in configs], [(self.ghost, {})], "public/get")

        await self.r.check("preflight: public/get of an unknown name answers an empty merge", _run)

    async def definitions(self) -> None:
        r = self.r
        for name in (self.theme, self.menu, self.prefs):

            async def _create(name: str = name) -> None:
                payload = await self.admin.app_config_definition.admin_create(
                    CreateAppConfigDefinitionInput(config_name=name)
                )
                node = payload.app_config_definition
                _eq(node.config_name, name, "config_name")
                _eq(str(node.entity_id), str(node.id), "entity_id == id")
                assert node.created_at.tzinfo is not None, "created_at needs a timezone"
                self.st.defs[name] = node

            await r.check(f"definition create {name}", _create)

        async def _get() -> None:
            node = self.st.defs[self.theme]
            got = await self.admin.app_config_definition.admin_get(node.id)
            _eq(str(got.id), str(node.id), "id")
            _eq(got.config_name, self.theme, "config_name")
            _eq(got.created_at, node.created_at, "created_at")

        await r.check("definition get by id", _get)

        await r.expect_error(
            "definition create duplicate -> ConflictError 409",
            ConflictError,
            lambda: self.admin.app_config_definition.admin_create(
                CreateAppConfigDefinitionInput(config_name=self.theme)
            ),
            status=409,
        )

        order_name = [AppConfigDefinitionOrder(field=AppConfigDefinitionOrderField.CONFIG_NAME)]

        async def _page1() -> None:
            res = await self._search_defs(
                filter=self._prefix_def_filter(), order=order_name, limit=2, offset=0
            )
            _eq([i.config_name for i in res.items], self.names_sorted[:2], "page 1 names")
            _eq(res.total_count, 3, "total_count")
            _eq((res.has_next_page, res.has_previous_page), (True, False), "page flags")

        await r.check("definition search starts_with + order ASC + limit/offset page 1", _page1)

        async def _page2() -> None:
            res = await self._search_defs(
                filter=self._prefix_def_filter(), order=order_name, limit=2, offset=2
            )
            _eq([i.config_name for i in res.items], self.names_sorted[2:], "page 2 names")
            _eq(res.total_count, 3, "total_count")
            _eq((res.has_next_page, res.has_previous_page), (False, True), "page flags")

        await r.check("definition search limit/offset page 2", _page2)

        async def _desc() -> None:
            res = await self._search_defs(
                filter=self._prefix_def_filter(),
                order=[
                    AppConfigDefinitionOrder(
                        field=AppConfigDefinitionOrderField.CONFIG_NAME, direction=DESC
                    )
                ],
            )
            _eq([i.config_name for i in res.items], self.names_sorted[::-1], "DESC names")

        await r.check("definition search order config_name DESC", _desc)

        async def _default_order() -> None:
            res = await self._search_defs(filter=self._prefix_def_filter())
            names = [i.config_name for i in res.items]
            _eq(names, [self.prefs, self.menu, self.theme], "default order (newest first)")

        await r.check("definition search default order is created_at DESC", _default_order)

        async def _in() -> None:
            res = await self._search_defs(
                filter=AppConfigDefinitionFilter(
                    config_name=StringFilter(in_=[self.theme, self.menu, self.ghost])
                ),
                order=order_name,
            )
            _eq([i.config_name for i in res.items], sorted([self.theme, self.menu]), "in_")
            _eq(res.total_count, 2, "total_count")

        await r.check("definition search config_name in_ (sent as 'in_')", _in)

        async def _or_not_dt() -> None:
            res = await self._search_defs(
                filter=AppConfigDefinitionFilter(
                    OR=[
                        AppConfigDefinitionFilter(config_name=StringFilter(equals=self.theme)),
                        AppConfigDefinitionFilter(config_name=StringFilter(i_equals=self.menu)),
                    ]
                ),
                order=order_name,
            )
            _eq([i.config_name for i in res.items], sorted([self.theme, self.menu]), "OR")
            res = await self._search_defs(
                filter=AppConfigDefinitionFilter(
                    config_name=StringFilter(starts_with=self.prefix),
                    created_at=DateTimeFilter(after=self.started),
                    NOT=[AppConfigDefinitionFilter(config_name=StringFilter(ends_with=".theme"))],
                ),
                order=order_name,
            )
            _eq([i.config_name for i in res.items], sorted([self.menu, self.prefs]), "NOT")

        await r.check("definition search OR / NOT / created_at.after / i_equals", _or_not_dt)

        async def _cursor_pages() -> None:
            res = await self._search_defs(
                filter=self._prefix_def_filter(), order=order_name, first=2
            )
            _eq([i.config_name for i in res.items], self.names_sorted[:2], "first=2 names")
            assert res.has_next_page, "first=2 of 3 must have a next page"
            res2 = await self._search_defs(
                filter=self._prefix_def_filter(),
                order=order_name,
                first=2,
                after=_cursor(res.items[1].id),
            )
            _eq([i.config_name for i in res2.items], self.names_sorted[2:], "after cursor")
            assert not res2.has_next_page, "last cursor page has no next page"
            res3 = await self._search_defs(
                filter=self._prefix_def_filter(), order=order_name, last=1
            )
            _eq([i.config_name for i in res3.items], self.names_sorted[2:], "last=1 names")
            assert res3.has_previous_page, "last=1 of 3 must have a previous page"

        await r.check("definition search cursor pagination first/after/last", _cursor_pages)

        await r.expect_error(
            "definition search mixing limit and first -> InvalidRequestError 400",
            InvalidRequestError,
            lambda: self._search_defs(filter=self._prefix_def_filter(), limit=2, first=2),
            status=400,
        )

    async def allow_list(self) -> None:
        r = self.r
        specs: list[tuple[str, AppConfigScopeType, int | None, int]] = [
            (self.theme, PUBLIC, None, 100),
            (self.theme, DOMAIN, None, 200),
            (self.theme, USER, None, 300),
            (self.menu, PUBLIC, 150, 150),
            (self.prefs, USER, None, 300),
        ]
        for name, scope, rank, expected_rank in specs:

            async def _create(
                name: str = name,
                scope: AppConfigScopeType = scope,
                rank: int | None = rank,
                expected_rank: int = expected_rank,
            ) -> None:
                req = (
                    CreateAppConfigAllowListInput(config_name=name, scope_type=scope)
                    if rank is None
                    else CreateAppConfigAllowListInput(
                        config_name=name, scope_type=scope, rank=rank
                    )
                )
                payload = await self.admin.app_config_allow_list.admin_create(req)
                node = payload.app_config_allow_list
                _eq((node.config_name, node.scope_type), (name, scope), "identity")
                _eq(node.rank, expected_rank, "rank")
                _eq(str(node.entity_id), str(node.id), "entity_id == id")
                self.st.allow[(name, scope.value)] = node

            label = "default rank" if rank is None else f"rank={rank}"
            await r.check(f"allow-list create {name} {scope.value} ({label})", _create)

        await r.expect_error(
            "allow-list create duplicate -> ConflictError 409",
            ConflictError,
            lambda: self.admin.app_config_allow_list.admin_create(
                CreateAppConfigAllowListInput(config_name=self.theme, scope_type=PUBLIC)
            ),
            status=409,
        )
        await r.expect_error(
            "allow-list create for unregistered name -> NotFoundError 404",
            NotFoundError,
            lambda: self.admin.app_config_allow_list.admin_create(
                CreateAppConfigAllowListInput(config_name=self.ghost, scope_type=PUBLIC)
            ),
            status=404,
            slug="app-config-definition-not-found",
        )

        async def _get() -> None:
            node = self.st.allow[(self.menu, "public")]
            got = await self.admin.app_config_allow_list.admin_get(node.id)
            _eq(
                (str(got.id), got.config_name, got.scope_type, got.rank),
                (str(node.id), self.menu, PUBLIC, 150),
                "allow-list get",
            )

        await r.check("allow-list get by id", _get)

        async def _patch() -> None:
            node = self.st.allow[(self.menu, "public")]
            payload = await self.admin.app_config_allow_list.admin_update(
                node.id, UpdateAppConfigAllowListInput(id=node.id, rank=160)
            )
            got = payload.app_config_allow_list
            _eq((str(got.id), got.rank), (str(node.id), 160), "patched rank")
            assert got.updated_at >= node.updated_at, "updated_at must not go back"
            _eq(got.created_at, node.created_at, "created_at unchanged")
            again = await self.admin.app_config_allow_list.admin_get(node.id)
            _eq(again.rank, 160, "rank after re-read")

        await r.check("allow-list patch rank", _patch)

        async def _search_in() -> None:
            res = await self._search_allow(
                filter=AppConfigAllowListFilter(
                    config_name=StringFilter(starts_with=self.prefix),
                    scope_type=AllowListScopeTypeFilter(in_=[PUBLIC, USER]),
                ),
                order=[
                    AppConfigAllowListOrder(
                        field=AppConfigAllowListOrderField.RANK, direction=DESC
                    ),
                    AppConfigAllowListOrder(field=AppConfigAllowListOrderField.CONFIG_NAME),
                ],
            )
            got = [(i.config_name, i.scope_type.value, i.rank) for i in res.items]
            expected = sorted(
                [
                    (self.theme, "public", 100),
                    (self.theme, "user", 300),
                    (self.menu, "public", 160),
                    (self.prefs, "user", 300),
                ],
                key=lambda t: (-t[2], t[0]),
            )
            _eq(got, expected, "allow-list search (rank DESC, config_name ASC)")
            _eq(res.total_count, 4, "total_count")

        await r.check("allow-list search scope_type in_ + order rank DESC", _search_in)

        async def _search_equals_page() -> None:
            res = await self._search_allow(
                filter=AppConfigAllowListFilter(
                    config_name=StringFilter(starts_with=self.prefix),
                    scope_type=AllowListScopeTypeFilter(equals=DOMAIN),
                )
            )
            _eq([(i.config_name, i.scope_type) for i in res.items], [(self.theme, DOMAIN)], "eq")
            res = await self._search_allow(
                filter=AppConfigAllowListFilter(config_name=StringFilter(starts_with=self.prefix)),
                order=[AppConfigAllowListOrder(field=AppConfigAllowListOrderField.CREATED_AT)],
                limit=2,
                offset=1,
            )
            _eq(len(res.items), 2, "page size")
            _eq(res.total_count, 5, "total_count")
            _eq((res.has_next_page, res.has_previous_page), (True, True), "page flags")
            res = await self._search_allow(
                filter=AppConfigAllowListFilter(
                    config_name=StringFilter(equals=self.theme),
                    scope_type=AllowListScopeTypeFilter(not_in=[PUBLIC]),
                )
            )
            _eq(sorted(i.scope_type.value for i in res.items), ["domain", "user"], "not_in")

        await r.check(
            "allow-list search scope_type equals/not_in + pagination", _search_equals_page
        )

        async def _unfiltered() -> None:
            res = await self._search_allow(limit=100)
            assert res.total_count >= 5, f"total_count {res.total_count} < 5"

        await r.check(
            "allow-list search unfiltered validates (no unknown scope types)", _unfiltered
        )

    async def fragments_write(self) -> None:
        r = self.r

        async def _public() -> None:
            payload = await self.admin.app_config_fragment.scoped_bulk_upsert_app_config_fragments(
                ScopedUpsertAppConfigFragmentsInput(
                    scope=AppConfigScopeRef(scope_type=PUBLIC),
                    items=[
                        AppConfigFragmentUpsertItem(config_name=self.theme, config=PUB_THEME),
                        AppConfigFragmentUpsertItem(config_name=self.menu, config=MENU_V1),
                    ],
                )
            )
            _eq(payload.failed, [], "failed")
            _eq([i.config_name for i in payload.items], [self.theme, self.menu], "item order")
            _frag_ok(
                payload.items[0],
                config_name=self.theme,
                scope_type=PUBLIC,
                scope_id=None,
                config=PUB_THEME,
            )
            _frag_ok(
                payload.items[1],
                config_name=self.menu,
                scope_type=PUBLIC,
                scope_id=None,
                config=MENU_V1,
            )
            self.st.frags[(self.theme, "public")] = payload.items[0]
            self.st.frags[(self.menu, "public")] = payload.items[1]

        await r.check("scoped bulk-upsert at public scope (2 items, request order)", _public)

        async def _domain() -> None:
            domain_id = self._need_domain()
            payload = await self.admin.app_config_fragment.scoped_bulk_upsert_app_config_fragments(
                ScopedUpsertAppConfigFragmentsInput(
                    scope=AppConfigScopeRef(scope_type=DOMAIN, scope_id=domain_id),
                    items=[AppConfigFragmentUpsertItem(config_name=self.theme, config=DOM_THEME)],
                )
            )
            _eq(payload.failed, [], "failed")
            _frag_ok(
                payload.items[0],
                config_name=self.theme,
                scope_type=DOMAIN,
                scope_id=domain_id,
                config=DOM_THEME,
            )
            self.st.frags[(self.theme, "domain")] = payload.items[0]

        await r.check("scoped bulk-upsert at domain scope (superadmin)", _domain)

        async def _my_user() -> None:
            client = self.subject
            expected_id = self.env_user_id if self.user is not None else self.env_admin_id
            payload = await client.app_config_fragment.my_bulk_upsert_app_config_fragments(
                MyUpsertAppConfigFragmentsInput(
                    items=[
                        AppConfigFragmentUpsertItem(config_name=self.theme, config=USR_THEME),
                        AppConfigFragmentUpsertItem(config_name=self.prefs, config=PREFS_USR),
                    ]
                )
            )
            _eq(payload.failed, [], "failed")
            _eq([i.config_name for i in payload.items], [self.theme, self.prefs], "item order")
            for node, cfg in zip(payload.items, (USR_THEME, PREFS_USR), strict=True):
                _frag_ok(
                    node,
                    config_name=node.config_name,
                    scope_type=USER,
                    scope_id=expected_id,
                    config=cfg,
                )
            _eq(payload.items[0].scope_id, payload.items[1].scope_id, "same user scope")
            self.st.subject_user_id = uuid.UUID(str(payload.items[0].scope_id))
            if self.user is None:
                self.st.admin_user_id = self.st.subject_user_id
            self.st.frags[(self.theme, "user")] = payload.items[0]
            self.st.frags[(self.prefs, "user")] = payload.items[1]

        who = "normal user" if self.user is not None else "superadmin"
        await r.check(f"my/bulk-upsert at own user scope ({who})", _my_user)

        async def _update_keeps_id() -> None:
            before = self.st.frags[(self.menu, "public")]
            payload = await self.admin.app_config_fragment.scoped_bulk_upsert_app_config_fragments(
                ScopedUpsertAppConfigFragmentsInput(
                    scope=AppConfigScopeRef(scope_type=PUBLIC, scope_id=None),
                    items=[AppConfigFragmentUpsertItem(config_name=self.menu, config=MENU_V2)],
                )
            )
            node = payload.items[0]
            _frag_ok(node, config_name=self.menu, scope_type=PUBLIC, scope_id=None, config=MENU_V2)
            _eq(str(node.id), str(before.id), "upsert keeps the fragment id")
            _eq(node.created_at, before.created_at, "created_at unchanged")
            assert node.updated_at >= before.updated_at, "updated_at must not go back"
            self.st.frags[(self.menu, "public")] = node

        await r.check(
            "scoped bulk-upsert replaces an existing fragment (same id)", _update_keeps_id
        )

        async def _admin_writes_user_scope() -> None:
            if self.user is None:
                raise SkipCheck("needs a normal user")
            target = self.st.subject_user_id
            assert target is not None, "normal user's id unknown (my/bulk-upsert failed)"
            payload = await self.admin.app_config_fragment.scoped_bulk_upsert_app_config_fragments(
                ScopedUpsertAppConfigFragmentsInput(
                    scope=AppConfigScopeRef(scope_type=USER, scope_id=target),
                    items=[AppConfigFragmentUpsertItem(config_name=self.prefs, config=PREFS_USR)],
                )
            )
            node = payload.items[0]
            _frag_ok(
                node, config_name=self.prefs, scope_type=USER, scope_id=target, config=PREFS_USR
            )
            _eq(str(node.id), str(self.st.frags[(self.prefs, "user")].id), "same fragment")

        await r.check(
            "scoped bulk-upsert at another user's scope (superadmin)", _admin_writes_user_scope
        )

    async def merged_reads(self) -> None:
        r = self.r

        async def _my_get() -> None:
            configs = await self._my_get(
                self.subject, [self.theme, self.menu, self.ghost, self.theme]
            )
            _eq(
                [c.config_name for c in configs],
                [self.theme, self.menu, self.ghost, self.theme],
                "names in request order",
            )
            _eq(configs[0].config, self._expected_theme(), "merged theme")
            _eq(configs[1].config, MENU_V2, "merged menu (public only)")
            _eq(configs[2].config, {}, "unregistered name -> {}")
            _eq(configs[3].config, configs[0].config, "repeated name repeated")

        await r.check("my/get deep merge: user > domain > public, order, repeats, {}", _my_get)

        async def _prefs() -> None:
            configs = await self._my_get(self.subject, [self.prefs])
            _eq(configs[0].config, PREFS_USR, "merged prefs (user only)")

        await r.check("my/get name with only a user fragment", _prefs)

        async def _public_get() -> None:
            configs = await self._public_get([self.menu, self.theme, self.prefs])
            _eq(
                [(c.config_name, c.config) for c in configs],
                [(self.menu, MENU_V2), (self.theme, PUB_THEME), (self.prefs, {})],
                "public/get",
            )

        await r.check("public/get (anonymous) merges public fragments only", _public_get)

        async def _admin_view() -> None:
            if self.user is None:
                raise SkipCheck("only distinct with a normal user")
            configs = await self._my_get(self.admin, [self.prefs])
            _eq(configs[0].config, {}, "another user's fragment must not leak into my/get")

        await r.check("my/get of superadmin does not see the normal user's fragment", _admin_view)

    async def by_names_and_get(self) -> None:
        r = self.r
        frag = self.admin.app_config_fragment

        async def _scoped_public() -> None:
            res = await frag.scoped_get_app_config_fragments_by_names(
                ScopedAppConfigFragmentsByNamesInput(
                    scope=AppConfigScopeRef(scope_type=PUBLIC),
                    config_names=[self.theme, self.prefs, self.menu, self.ghost],
                )
            )
            nodes = res.root
            _eq(len(nodes), 4, "one element per name")
            _frag_ok(
                nodes[0], config_name=self.theme, scope_type=PUBLIC, scope_id=None, config=PUB_THEME
            )
            assert nodes[1] is None, f"prefs has no public fragment: {nodes[1]!r}"
            _frag_ok(
                nodes[2], config_name=self.menu, scope_type=PUBLIC, scope_id=None, config=MENU_V2
            )
            assert nodes[3] is None, "unregistered name -> null"

        await r.check("scoped by-names at public scope (bare array with nulls)", _scoped_public)

        async def _scoped_domain() -> None:
            domain_id = self._need_domain()
            res = await frag.scoped_get_app_config_fragments_by_names(
                ScopedAppConfigFragmentsByNamesInput(
                    scope=AppConfigScopeRef(scope_type=DOMAIN, scope_id=domain_id),
                    config_names=[self.menu, self.theme],
                )
            )
            assert res.root[0] is None, "menu has no domain fragment"
            _frag_ok(
                res.root[1],
                config_name=self.theme,
                scope_type=DOMAIN,
                scope_id=domain_id,
                config=DOM_THEME,
            )

        await r.check("scoped by-names at domain scope", _scoped_domain)

        async def _scoped_user() -> None:
            target = self.st.subject_user_id
            assert target is not None, "subject user id unknown"
            res = await frag.scoped_get_app_config_fragments_by_names(
                ScopedAppConfigFragmentsByNamesInput(
                    scope=AppConfigScopeRef(scope_type=USER, scope_id=target),
                    config_names=[self.theme, self.menu],
                )
            )
            _frag_ok(
                res.root[0],
                config_name=self.theme,
                scope_type=USER,
                scope_id=target,
                config=USR_THEME,
            )
            assert res.root[1] is None, "menu has no user fragment"

        await r.check("scoped by-names at user scope (superadmin)", _scoped_user)

        async def _my_by_names() -> None:
            res = await self.subject.app_config_fragment.my_get_app_config_fragments_by_names(
                MyAppConfigFragmentsByNamesInput(config_names=[self.menu, self.theme, self.prefs])
            )
            nodes = res.root
            assert nodes[0] is None, "menu has no user fragment"
            _frag_ok(
                nodes[1],
                config_name=self.theme,
                scope_type=USER,
                scope_id=self.st.subject_user_id,
                config=USR_THEME,
            )
            _frag_ok(
                nodes[2],
                config_name=self.prefs,
                scope_type=USER,
                scope_id=self.st.subject_user_id,
                config=PREFS_USR,
            )

        await r.check("my/by-names", _my_by_names)

        async def _get_by_id() -> None:
            node = self.st.frags[(self.theme, "public")]
            got = await frag.get(AppConfigFragmentID(node.id))
            _frag_ok(
                got, config_name=self.theme, scope_type=PUBLIC, scope_id=None, config=PUB_THEME
            )
            _eq(str(got.id), str(node.id), "id")
            own = self.st.frags[(self.theme, "user")]
            got = await self.subject.app_config_fragment.get(AppConfigFragmentID(own.id))
            _eq(str(got.id), str(own.id), "own fragment id")

        await r.check("fragment get by id (public as superadmin, own as owner)", _get_by_id)

    async def write_gate(self) -> None:
        r = self.r
        frag = self.admin.app_config_fragment
        slug = "app-config-fragment-write-not-allowed"

        async def _no_entry() -> Any:
            target = self.st.subject_user_id or uuid.uuid4()
            return await frag.scoped_bulk_upsert_app_config_fragments(
                ScopedUpsertAppConfigFragmentsInput(
                    scope=AppConfigScopeRef(scope_type=USER, scope_id=target),
                    items=[AppConfigFragmentUpsertItem(config_name=self.menu, config={"x": 1})],
                )
            )

        await r.expect_error(
            "upsert without allow-list entry -> PermissionDeniedError 403",
            PermissionDeniedError,
            _no_entry,
            status=403,
            slug=slug,
        )

        async def _mixed() -> Any:
            return await frag.scoped_bulk_upsert_app_config_fragments(
                ScopedUpsertAppConfigFragmentsInput(
                    scope=AppConfigScopeRef(scope_type=PUBLIC),
                    items=[
                        AppConfigFragmentUpsertItem(config_name=self.theme, config={"color": 0}),
                        AppConfigFragmentUpsertItem(config_name=self.prefs, config={"y": 1}),
                    ],
                )
            )

        await r.expect_error(
            "upsert with one disallowed item -> 403 for the whole request",
            PermissionDeniedError,
            _mixed,
            status=403,
            slug=slug,
        )

        async def _nothing_written() -> None:
            configs = await self._public_get([self.theme, self.prefs])
            _eq([c.config for c in configs], [PUB_THEME, {}], "public view after rejected write")

        await r.check("rejected bulk upsert wrote nothing (all-or-nothing)", _nothing_written)

        await r.expect_error(
            "my/bulk-upsert of an unregistered name -> PermissionDeniedError 403",
            PermissionDeniedError,
            lambda: self.subject.app_config_fragment.my_bulk_upsert_app_config_fragments(
                MyUpsertAppConfigFragmentsInput(
                    items=[AppConfigFragmentUpsertItem(config_name=self.ghost, config={})]
                )
            ),
            status=403,
            slug=slug,
        )

    async def rank_patch(self) -> None:
        r = self.r

        async def _raise_domain() -> None:
            self._need_domain()
            node = self.st.allow[(self.theme, "domain")]
            payload = await self.admin.app_config_allow_list.admin_update(
                node.id, UpdateAppConfigAllowListInput(id=node.id, rank=400)
            )
            _eq(payload.app_config_allow_list.rank, 400, "rank")
            configs = await self._my_get(self.subject, [self.theme])
            _eq(
                configs[0].config,
                self._expected_theme(domain_rank_high=True),
                "merge with domain rank 400 (> user 300)",
            )

        await r.check("allow-list patch domain rank 400 -> domain overrides user", _raise_domain)

        async def _restore() -> None:
            self._need_domain()
            node = self.st.allow[(self.theme, "domain")]
            payload = await self.admin.app_config_allow_list.admin_update(
                node.id, UpdateAppConfigAllowListInput(id=node.id, rank=200)
            )
            _eq(payload.app_config_allow_list.rank, 200, "rank")
            configs = await self._my_get(self.subject, [self.theme])
            _eq(configs[0].config, self._expected_theme(), "merge with default ranks again")

        await r.check("allow-list patch domain rank back to 200 -> user wins again", _restore)

    async def fragment_search(self) -> None:
        r = self.r
        expected_all = sorted((name, scope) for (name, scope) in self.st.frags)

        async def _all() -> None:
            res = await self._search_frags(
                filter=AppConfigFragmentFilter(config_name=StringFilter(starts_with=self.prefix)),
                order=[
                    AppConfigFragmentOrder(field=AppConfigFragmentOrderField.CONFIG_NAME),
                    AppConfigFragmentOrder(
                        field=AppConfigFragmentOrderField.CREATED_AT, direction=DESC
                    ),
                ],
                limit=50,
            )
            got = sorted((i.config_name, i.scope_type.value) for i in res.items)
            _eq(got, expected_all, "fragments under the run's prefix")
            _eq(res.total_count, len(expected_all), "total_count")
            names = [i.config_name for i in res.items]
            _eq(names, sorted(names), "ordered by config_name")

        await r.check("fragment admin search starts_with + order", _all)

        async def _scope_in() -> None:
            res = await self._search_frags(
                filter=AppConfigFragmentFilter(
                    config_name=StringFilter(starts_with=self.prefix),
                    scope_type=FragmentScopeTypeFilter(in_=[PUBLIC]),
                ),
                order=[AppConfigFragmentOrder(field=AppConfigFragmentOrderField.CONFIG_NAME)],
            )
            _eq(
                [(i.config_name, i.scope_type) for i in res.items],
                sorted([(self.menu, PUBLIC), (self.theme, PUBLIC)]),
                "public fragments",
            )
            assert all(i.scope_id is None for i in res.items), "public scope_id must be null"

        await r.check("fragment admin search scope_type in_ [public]", _scope_in)

        async def _page() -> None:
            flt = AppConfigFragmentFilter(
                config_name=StringFilter(in_=[self.theme, self.menu, self.prefs]),
                updated_at=DateTimeFilter(after=self.started),
            )
            order = [AppConfigFragmentOrder(field=AppConfigFragmentOrderField.UPDATED_AT)]
            res = await self._search_frags(filter=flt, order=order, limit=1, offset=0)
            _eq(len(res.items), 1, "page size")
            _eq(res.total_count, len(expected_all), "total_count")
            _eq((res.has_next_page, res.has_previous_page), (True, False), "first page flags")
            res = await self._search_frags(
                filter=flt, order=order, limit=1, offset=len(expected_all) - 1
            )
            _eq((res.has_next_page, res.has_previous_page), (False, True), "last page flags")

        await r.check("fragment admin search in_ + updated_at.after + limit/offset", _page)

        async def _unfiltered() -> None:
            res = await self._search_frags(limit=100)
            assert res.total_count >= len(expected_all), "total_count too small"

        await r.check(
            "fragment admin search unfiltered validates (no unknown scope types)", _unfiltered
        )

    async def user_role(self) -> None:
        r = self.r
        if self.user is None:
            await r.check("normal-user role checks", self._need_user)
            return
        user = self.user
        await r.expect_error(
            "normal user: fragment admin search -> PermissionDeniedError 403",
            PermissionDeniedError,
            lambda: user.app_config_fragment.admin_search(AdminSearchAppConfigFragmentInput()),
            status=403,
        )
        await r.expect_error(
            "normal user: definition create -> PermissionDeniedError 403",
            PermissionDeniedError,
            lambda: user.app_config_definition.admin_create(
                CreateAppConfigDefinitionInput(config_name=f"{self.prefix}.nope")
            ),
            status=403,
        )
        await r.expect_error(
            "normal user: allow-list search -> PermissionDeniedError 403",
            PermissionDeniedError,
            lambda: user.app_config_allow_list.admin_search(SearchAppConfigAllowListInput()),
            status=403,
        )
        await r.expect_error(
            "normal user: scoped bulk-upsert at public scope -> PermissionDeniedError 403",
            PermissionDeniedError,
            lambda: user.app_config_fragment.scoped_bulk_upsert_app_config_fragments(
                ScopedUpsertAppConfigFragmentsInput(
                    scope=AppConfigScopeRef(scope_type=PUBLIC),
                    items=[AppConfigFragmentUpsertItem(config_name=self.theme, config={})],
                )
            ),
            status=403,
        )

        async def _other_user() -> Any:
            return await user.app_config_fragment.scoped_bulk_upsert_app_config_fragments(
                ScopedUpsertAppConfigFragmentsInput(
                    scope=AppConfigScopeRef(scope_type=USER, scope_id=uuid.uuid4()),
                    items=[AppConfigFragmentUpsertItem(config_name=self.prefs, config={})],
                )
            )

        await r.expect_error(
            "normal user: scoped bulk-upsert at another user's scope -> 403",
            PermissionDeniedError,
            _other_user,
            status=403,
        )

        async def _own_scoped() -> None:
            target = self.st.subject_user_id
            assert target is not None, "normal user's id unknown"
            res = await user.app_config_fragment.scoped_get_app_config_fragments_by_names(
                ScopedAppConfigFragmentsByNamesInput(
                    scope=AppConfigScopeRef(scope_type=USER, scope_id=target),
                    config_names=[self.prefs],
                )
            )
            _frag_ok(
                res.root[0],
                config_name=self.prefs,
                scope_type=USER,
                scope_id=target,
                config=PREFS_USR,
            )

        await r.check("normal user: scoped by-names at own user scope", _own_scoped)

    async def auth_and_validation(self) -> None:
        r = self.r

        async def _with(ak: str, sk: str, version: str | None = None) -> Any:
            reg = await _registry(self.endpoint, ak, sk, version)
            try:
                return await self._my_get(reg, [self.theme])
            finally:
                await reg.close()

        await r.expect_error(
            "wrong secret key -> AuthenticationError 401",
            AuthenticationError,
            lambda: _with(self.ak, self.sk + "x"),
            status=401,
        )
        await r.expect_error(
            "unknown access key -> AuthenticationError 401",
            AuthenticationError,
            lambda: _with("AKIANOSUCHKEY" + uuid.uuid4().hex[:7].upper(), self.sk),
            status=401,
        )
        await r.expect_error(
            "unsupported X-BackendAI-Version -> InvalidRequestError 400",
            InvalidRequestError,
            lambda: _with(self.ak, self.sk, "v99.20990101"),
            status=400,
        )

        async def _older_version() -> None:
            configs = await _with(self.ak, self.sk, "v4.20181215")
            _eq(configs[0].config_name, self.theme, "config_name")

        await r.check("oldest supported X-BackendAI-Version (v4.20181215) accepted", _older_version)

        # model_construct skips the SDK's own min_length=1 check, so the server must reject it.
        await r.expect_error(
            "empty config_names -> InvalidRequestError 400",
            InvalidRequestError,
            lambda: self.admin.app_config.my_get_app_configs(
                MyGetAppConfigsInput.model_construct(config_names=[])
            ),
            status=400,
        )
        await r.expect_error(
            "public scope with scope_id -> InvalidRequestError 400",
            InvalidRequestError,
            lambda: self.admin.app_config_fragment.scoped_get_app_config_fragments_by_names(
                ScopedAppConfigFragmentsByNamesInput.model_construct(
                    scope=AppConfigScopeRef.model_construct(
                        scope_type=PUBLIC, scope_id=uuid.uuid4()
                    ),
                    config_names=[self.theme],
                )
            ),
            status=400,
        )

    async def missing_ids(self) -> None:
        r = self.r
        missing = uuid.uuid4()
        cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            (
                "fragment get",
                lambda: self.admin.app_config_fragment.get(AppConfigFragmentID(missing)),
            ),
            (
                "fragment delete",
                lambda: self.admin.app_config_fragment.purge(AppConfigFragmentID(missing)),
            ),
            ("definition get", lambda: self.admin.app_config_definition.admin_get(missing)),
            ("definition delete", lambda: self.admin.app_config_definition.admin_purge(missing)),
            ("allow-list get", lambda: self.admin.app_config_allow_list.admin_get(missing)),
            (
                "allow-list patch",
                lambda: self.admin.app_config_allow_list.admin_update(
                    missing, UpdateAppConfigAllowListInput(id=missing, rank=1)
                ),
            ),
            ("allow-list delete", lambda: self.admin.app_config_allow_list.admin_purge(missing)),
        ]
        for label, fn in cases:
            await r.expect_error(
                f"{label} of a missing id -> NotFoundError 404", NotFoundError, fn, status=404
            )

    async def deletes(self) -> None:
        r = self.r
        frag = self.admin.app_config_fragment

        async def _purge_one() -> None:
            node = self.st.frags[(self.prefs, "user")]
            payload = await self.subject.app_config_fragment.purge(AppConfigFragmentID(node.id))
            _eq(str(payload.id), str(node.id), "purged id")
            del self.st.frags[(self.prefs, "user")]
            try:
                await frag.get(AppConfigFragmentID(node.id))
            except NotFoundError:
                return
            raise AssertionError("purged fragment is still readable")

        await r.check("fragment delete by id (owner), then get -> 404", _purge_one)

        async def _bulk() -> None:
            node = self.st.frags[(self.menu, "public")]
            missing = uuid.uuid4()
            payload = await frag.bulk_purge(
                BulkPurgeAppConfigFragmentInput(
                    ids=[AppConfigFragmentID(node.id), AppConfigFragmentID(missing)]
                )
            )
            _eq([str(i) for i in payload.items], [str(node.id)], "purged ids")
            _eq([str(f.id) for f in payload.failed], [str(missing)], "failed ids")
            assert all(f.message for f in payload.failed), "failed items carry a message"
            del self.st.frags[(self.menu, "public")]
            configs = await self._public_get([self.menu])
            _eq(configs[0].config, {}, "menu after purge")

        await r.check("fragment bulk-delete (one existing, one missing id)", _bulk)

        async def _purge_allow() -> None:
            node = self.st.allow[(self.theme, "user")]
            payload = await self.admin.app_config_allow_list.admin_purge(node.id)
            _eq(str(payload.id), str(node.id), "purged id")
            del self.st.allow[(self.theme, "user")]
            self.st.frags.pop((self.theme, "user"), None)
            res = await self.subject.app_config_fragment.my_get_app_config_fragments_by_names(
                MyAppConfigFragmentsByNamesInput(config_names=[self.theme])
            )
            assert res.root == [None], f"user fragment must go with its entry: {res.root!r}"
            configs = await self._my_get(self.subject, [self.theme])
            expected = _deep_merge(PUB_THEME, DOM_THEME) if self.domain_id else PUB_THEME
            _eq(configs[0].config, expected, "merged theme without the user layer")

        await r.check("allow-list delete removes the fragments it admits", _purge_allow)

        async def _purge_def() -> None:
            node = self.st.defs[self.theme]
            public_frag = self.st.frags.get((self.theme, "public"))
            payload = await self.admin.app_config_definition.admin_purge(node.id)
            _eq(str(payload.id), str(node.id), "purged id")
            del self.st.defs[self.theme]
            res = await self._search_allow(
                filter=AppConfigAllowListFilter(config_name=StringFilter(equals=self.theme))
            )
            _eq(res.total_count, 0, "allow-list entries left")
            res2 = await self._search_frags(
                filter=AppConfigFragmentFilter(config_name=StringFilter(equals=self.theme))
            )
            _eq(res2.total_count, 0, "fragments left")
            configs = await self._public_get([self.theme])
            _eq(configs[0].config, {}, "public view after purge")
            for key in [k for k in self.st.allow if k[0] == self.theme]:
                del self.st.allow[key]
            for key in [k for k in self.st.frags if k[0] == self.theme]:
                del self.st.frags[key]
            if public_frag is not None:
                try:
                    await frag.get(AppConfigFragmentID(public_frag.id))
                except NotFoundError:
                    return
                raise AssertionError("fragment of a purged definition is still readable")

        await r.check("definition delete cascades to allow-list entries and fragments", _purge_def)

    # -- CLI -----------------------------------------------------------------------------

    async def _cli(self, *args: str, anonymous: bool = False) -> tuple[int, Any, str]:
        exe = os.environ.get("BACKEND_AI_CLI") or str(Path(sys.executable).parent / "backend.ai")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKEND_")}
        env["HOME"] = self.cli_home
        env["BACKEND_ENDPOINT"] = self.endpoint
        env["BACKEND_ENDPOINT_TYPE"] = "api"
        if not anonymous:
            env["BACKEND_ACCESS_KEY"] = self.ak
            env["BACKEND_SECRET_KEY"] = self.sk
        proc = await asyncio.create_subprocess_exec(
            exe,
            "v2",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=self.cli_home,  # the CLI loads a .env found from its cwd upwards
        )
        out_b, err_b = await asyncio.wait_for(proc.communicate(), timeout=120)
        out, err = out_b.decode(errors="replace"), err_b.decode(errors="replace")
        parsed: Any = None
        text = out.strip()
        if text:
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
                if starts:
                    try:
                        parsed = json.loads(text[min(starts) :])
                    except json.JSONDecodeError:
                        parsed = None
        assert proc.returncode is not None
        return proc.returncode, parsed, err

    async def _cli_ok(self, *args: str, anonymous: bool = False) -> Any:
        rc, parsed, err = await self._cli(*args, anonymous=anonymous)
        tail = err.strip().splitlines()[-3:] if err.strip() else []
        assert rc == 0, f"exit status {rc}; stderr tail: {tail}"
        assert parsed is not None, "no JSON on stdout"
        return parsed

    async def cli(self) -> None:
        r = self.r
        name = self.cli_name
        ids: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="drive-sdk-home-") as home:
            self.cli_home = home

            async def _def_create() -> None:
                out = await self._cli_ok(
                    "admin", "app-config-definition", "create", "--config-name", name
                )
                _eq(out["app_config_definition"]["config_name"], name, "config_name")
                ids["def"] = out["app_config_definition"]["id"]

            await r.check("cli: admin app-config-definition create", _def_create)

            async def _def_get_search() -> None:
                out = await self._cli_ok("admin", "app-config-definition", "get", ids["def"])
                _eq(out["config_name"], name, "get config_name")
                out = await self._cli_ok(
                    "admin",
                    "app-config-definition",
                    "search",
                    "--config-name-contains",
                    self.prefix,
                    "--order-by",
                    "config_name:desc",
                )
                got = [i["config_name"] for i in out["items"]]
                _eq(got, sorted(got, reverse=True), "order")
                assert name in got, f"{name} missing from {got}"

            await r.check("cli: admin app-config-definition get / search", _def_get_search)

            async def _allow() -> None:
                out = await self._cli_ok(
                    "admin",
                    "app-config-allow-list",
                    "create",
                    "--config-name",
                    name,
                    "--scope-type",
                    "public",
                    "--rank",
                    "120",
                )
                node = out["app_config_allow_list"]
                _eq((node["scope_type"], node["rank"]), ("public", 120), "created entry")
                ids["allow"] = node["id"]
                out = await self._cli_ok(
                    "admin", "app-config-allow-list", "update", ids["allow"], "--rank", "130"
                )
                _eq(out["app_config_allow_list"]["rank"], 130, "updated rank")
                out = await self._cli_ok(
                    "admin",
                    "app-config-allow-list",
                    "search",
                    "--config-name-contains",
                    name,
                    "--scope-type",
                    "public",
                    "--order-by",
                    "rank:asc",
                )
                _eq(out["total_count"], 1, "search total_count")
                out = await self._cli_ok("admin", "app-config-allow-list", "get", ids["allow"])
                _eq(out["rank"], 130, "get rank")

            await r.check("cli: admin app-config-allow-list create/update/search/get", _allow)

            async def _frag_update_get() -> None:
                items = json.dumps([{"config_name": name, "config": {"k": 1, "n": {"m": 2}}}])
                out = await self._cli_ok(
                    "app-config-fragment", "update", "--scope-type", "public", "--items", items
                )
                _eq(out["failed"], [], "failed")
                ids["frag"] = out["items"][0]["id"]
                out = await self._cli_ok(
                    "app-config-fragment", "get", "--scope-type", "public", name, self.ghost
                )
                _eq(len(out), 2, "one element per name")
                _eq(out[0]["config"], {"k": 1, "n": {"m": 2}}, "fragment config")
                _eq(out[1], None, "null for a name without fragment")

            await r.check("cli: app-config-fragment update / get (public scope)", _frag_update_get)

            async def _merged() -> None:
                out = await self._cli_ok("public", "app-config", "get", name, anonymous=True)
                _eq(
                    out["app_configs"],
                    [{"config_name": name, "config": {"k": 1, "n": {"m": 2}}}],
                    "public app-config get",
                )
                out = await self._cli_ok("my", "app-config", "get", name, self.ghost)
                _eq(
                    [c["config"] for c in out["app_configs"]],
                    [{"k": 1, "n": {"m": 2}}, {}],
                    "my app-config get",
                )
                out = await self._cli_ok("my", "app-config-fragment", "get", name)
                _eq(out, [None], "my app-config-fragment get")

            await r.check(
                "cli: public app-config get / my app-config get / my fragment get", _merged
            )

            async def _my_update_denied() -> None:
                items = json.dumps([{"config_name": name, "config": {"k": 2}}])
                rc, _, err = await self._cli(
                    "my", "app-config-fragment", "update", "--items", items
                )
                _eq(rc, 1, "exit status")
                assert "Error (403)" in err, f"stderr: {err.strip()[-300:]}"

            await r.check(
                "cli: my app-config-fragment update without entry exits 1, Error (403)",
                _my_update_denied,
            )

            async def _search_purge() -> None:
                out = await self._cli_ok(
                    "admin",
                    "app-config-fragment",
                    "search",
                    "--config-name-contains",
                    name,
                    "--scope-type",
                    "public",
                )
                _eq([i["id"] for i in out["items"]], [ids["frag"]], "search ids")
                out = await self._cli_ok("app-config-fragment", "purge", "--id", ids["frag"])
                _eq(out["id"], ids["frag"], "purged id")
                rc, _, err = await self._cli("app-config-fragment", "purge", "--id", ids["frag"])
                _eq(rc, 1, "exit status of a second purge")
                assert "Error (404)" in err, f"stderr: {err.strip()[-300:]}"

            await r.check(
                "cli: admin fragment search / purge / purge again -> Error (404)", _search_purge
            )

            async def _bulk_purge() -> None:
                items = json.dumps([{"config_name": name, "config": {}}])
                out = await self._cli_ok(
                    "app-config-fragment", "update", "--scope-type", "public", "--items", items
                )
                frag_id = out["items"][0]["id"]
                out = await self._cli_ok("app-config-fragment", "bulk-purge", "--id", frag_id)
                _eq(out["items"], [frag_id], "bulk-purged ids")

            await r.check("cli: app-config-fragment bulk-purge", _bulk_purge)

            async def _teardown() -> None:
                out = await self._cli_ok("admin", "app-config-allow-list", "purge", ids["allow"])
                _eq(out["id"], ids["allow"], "purged allow-list id")
                out = await self._cli_ok("admin", "app-config-definition", "purge", ids["def"])
                _eq(out["id"], ids["def"], "purged definition id")
                ids.pop("def")
                rc, _, _ = await self._cli("admin", "app-config-definition", "get", out["id"])
                assert rc != 0, "get of a purged definition must fail"

            await r.check(
                "cli: admin allow-list purge / definition purge / get -> nonzero", _teardown
            )

            if "def" in ids:  # best effort if the CLI teardown did not run
                with contextlib.suppress(Exception):
                    await self.admin.app_config_definition.admin_purge(uuid.UUID(ids["def"]))

    async def cleanup(self) -> None:
        """Best effort: purge what this run registered (definitions cascade)."""
        for node in list(self.st.defs.values()):
            with contextlib.suppress(Exception):
                await self.admin.app_config_definition.admin_purge(node.id)


async def amain() -> int:
    missing = [
        k
        for k in ("BACKEND_ENDPOINT", "BACKEND_ACCESS_KEY", "BACKEND_SECRET_KEY")
        if not os.environ.get(k)
    ]
    if missing:
        print(f"missing environment variables: {', '.join(missing)}", file=sys.stderr)
        return 2
    runner = Runner()
    driver = Driver(runner)
    print(f"# endpoint {driver.endpoint}, config name prefix {driver.prefix}", flush=True)
    try:
        await driver.run()
    except ConnectionLost:
        print("# server unreachable; stopping", flush=True)
    if runner.skipped:
        print(f"# {runner.skipped} skipped", flush=True)
    print(f"{runner.passed} passed, {runner.failed} failed", flush=True)
    return 0 if runner.failed == 0 else 1


def main() -> None:
    sys.exit(asyncio.run(amain()))


if __name__ == "__main__":
    main()
