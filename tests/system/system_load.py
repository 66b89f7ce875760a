"""Steady read and write load against real host processes, and the checks run on its record.

The workload: each writer owns a group of config names and is the only one writing them. A write
is one all-or-nothing bulk upsert of the whole group at one scope (public, the reader's domain,
or the reader's user scope, in turn), every name getting `{"<scope>": <version>}` with the
writer's next version for that scope. So the merged view of a name reads
`{"public": p, "domain": d, "user": u}`: one version per key, where a key is (name, scope).

Every request is recorded with its start and end (time.monotonic() in this one process). A write
is acknowledged at the moment its 200 response arrived; a read records what it saw per key.

- `stale_reads`: reads that began after a write of a key was acknowledged and saw an older
  version of that key (compared per key, against the newest write acknowledged before the read
  started).
- `torn_bulks`: scoped by-names reads (one SQL statement, no cache) of a group at one scope
  whose names do not all carry the same version: a half-applied bulk upsert.
- `final_state_problems`: after the load, every group at every scope must carry one version,
  at least the last acknowledged one, and anything newer must be a write whose answer was lost.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, Final, Literal

import aiohttp
import attrs
from system_hosts import Accounts, Credentials

from reference_host.client import signed_headers

SCOPES: Final = ("public", "domain", "user")
Scope = Literal["public", "domain", "user"]
Key = tuple[str, str]
"""(config name, scope)."""

PROBLEM_CONTENT_TYPE: Final = "application/problem+json"
PROBLEM_BASE: Final = "https://api.backend.ai/probs/"
OK: Final = "ok"
CONNECTION_ERROR: Final = "connection-error"
TIMEOUT: Final = "timeout"
CONNECTION_ERROR_PAUSE_SECONDS: Final = 0.02

MY_GET: Final = "/v2/app-config/my/get"
PUBLIC_GET: Final = "/v2/app-config/public/get"
SCOPED_BULK_UPSERT: Final = "/v2/app-config-fragments/scoped/bulk-upsert"
SCOPED_BY_NAMES: Final = "/v2/app-config-fragments/scoped/by-names"
DEFINITIONS: Final = "/v2/app-config-definitions/"
ALLOW_LIST: Final = "/v2/app-config-allow-list/"


@attrs.frozen
class Reply:
    outcome: str
    """"ok" for 2xx; "<status> <problem type slug>" for an error; connection-error; timeout."""
    status: int | None
    body: Any

    @property
    def ok(self) -> bool:
        return self.outcome == OK


def _outcome(status: int, content_type: str, body: Any) -> str:
    if 200 <= status < 300:
        return OK
    if content_type != PROBLEM_CONTENT_TYPE or not isinstance(body, dict):
        return f"{status} not-problem-json"
    slug = str(body.get("type", "")).removeprefix(PROBLEM_BASE)
    return f"{status} {slug}"


class ApiClient:
    """Signed JSON requests (as the official SDK signs them) to any of the hosts."""

    def __init__(self, session: aiohttp.ClientSession, request_timeout: float) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)

    async def post(
        self, endpoint: str, path: str, body: Any, credentials: Credentials | None
    ) -> Reply:
        headers = {"Content-Type": "application/json"}
        if credentials is not None:
            headers = signed_headers(
                "POST",
                path,
                endpoint=endpoint,
                access_key=credentials.access_key,
                secret_key=credentials.secret_key,
            )
        try:
            async with self._session.post(
                endpoint + path, data=json.dumps(body), headers=headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                content_type = response.content_type
                status = response.status
        except aiohttp.ClientConnectionError:
            return Reply(CONNECTION_ERROR, None, None)
        except TimeoutError:
            return Reply(TIMEOUT, None, None)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return Reply(_outcome(status, content_type, parsed), status, parsed)


@attrs.frozen
class Workload:
    """Who writes what: writer w owns `groups[w]`; the reader's domain and user scopes."""

    groups: tuple[tuple[str, ...], ...]
    accounts: Accounts

    @classmethod
    def create(cls, accounts: Accounts, writers: int, names_per_writer: int) -> Workload:
        groups = tuple(
            tuple(f"sys-w{w}-n{n}" for n in range(names_per_writer)) for w in range(writers)
        )
        return cls(groups=groups, accounts=accounts)

    @property
    def names(self) -> list[str]:
        return [name for group in self.groups for name in group]

    def scope_ref(self, scope: str) -> dict[str, Any]:
        reader = self.accounts.reader
        if scope == "public":
            return {"scope_type": "public"}
        if scope == "domain":
            return {"scope_type": "domain", "scope_id": str(reader.domain_id)}
        return {"scope_type": "user", "scope_id": str(reader.user_id)}


async def register_policy(client: ApiClient, endpoint: str, workload: Workload) -> None:
    """Definitions and allow-list entries (public, domain, user) for every workload name."""
    admin = workload.accounts.superadmin
    for name in workload.names:
        reply = await client.post(endpoint, DEFINITIONS, {"config_name": name}, admin)
        assert reply.status == 201, (name, reply)
        for scope in SCOPES:
            body = {"config_name": name, "scope_type": scope}
            reply = await client.post(endpoint, ALLOW_LIST, body, admin)
            assert reply.status == 201, (name, scope, reply)


@attrs.frozen
class RequestRecord:
    kind: str
    """write, read (my/get), public-read (public/get) or audit (scoped by-names)."""
    host: int
    outcome: str
    start: float
    end: float


@attrs.frozen
class ReadRecord:
    host: int
    start: float
    seen: Mapping[Key, int]


@attrs.frozen
class StaleRead:
    key: Key
    host: int
    read_start: float
    seen: int
    acknowledged: int
    acknowledged_at: float

    def describe(self) -> str:
        lag = self.read_start - self.acknowledged_at
        return (
            f"{self.key} via host{self.host}: saw v{self.seen}, but v{self.acknowledged} was"
            f" acknowledged {lag * 1000:.1f} ms before the read began"
        )


@attrs.frozen
class TornBulk:
    group: int
    scope: str
    versions: Mapping[str, int | None]


@attrs.define
class LoadGenerator:
    """Writers, readers and auditors looping over the hosts until `stop()`."""

    client: ApiClient
    endpoints: list[str]
    workload: Workload
    readers: int = 8
    anonymous_every: int = 4
    """Every n-th reader reads the anonymous public view (public/get) instead of my/get."""
    auditors: int = 1
    write_pause: float = 0.0
    requests: list[RequestRecord] = attrs.field(factory=list)
    reads: list[ReadRecord] = attrs.field(factory=list)
    acks: dict[Key, list[tuple[float, int]]] = attrs.field(factory=dict)
    """Per key: (acknowledged at, version), in acknowledgement order."""
    unanswered: dict[tuple[int, str], list[int]] = attrs.field(factory=dict)
    """Per (group, scope): versions whose write got no 200 (may or may not have applied)."""
    torn: list[TornBulk] = attrs.field(factory=list)
    unexpected: list[str] = attrs.field(factory=list)
    _versions: dict[tuple[int, str], int] = attrs.field(factory=dict)
    _stopping: bool = False
    _target: int | None = None
    _enough: asyncio.Event = attrs.field(factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = attrs.field(factory=list)

    # Writes ----------------------------------------------------------------------------------

    async def write(self, group: int, scope: str, host: int) -> Reply:
        version = self._versions.get((group, scope), 0) + 1
        self._versions[(group, scope)] = version
        names = self.workload.groups[group]
        body = {
            "scope": self.workload.scope_ref(scope),
            "items": [{"config_name": name, "config": {scope: version}} for name in names],
        }
        start = time.monotonic()
        reply = await self.client.post(
            self.endpoints[host], SCOPED_BULK_UPSERT, body, self.workload.accounts.superadmin
        )
        end = time.monotonic()
        self._record(RequestRecord("write", host, reply.outcome, start, end))
        if reply.ok:
            written = {item["config_name"]: item["config"] for item in reply.body["items"]}
            if written != {name: {scope: version} for name in names}:
                self.unexpected.append(f"write answered {written}, sent version {version}")
            for name in names:
                self.acks.setdefault((name, scope), []).append((end, version))
        else:
            self.unanswered.setdefault((group, scope), []).append(version)
        return reply

    async def prime(self) -> None:
        """Version 1 of every key, through the first host, before any reader starts."""
        for group, scope in itertools.product(range(len(self.workload.groups)), SCOPES):
            reply = await self.write(group, scope, 0)
            assert reply.ok, reply

    async def _writer(self, group: int) -> None:
        for turn in itertools.count():
            if self._stopping:
                return
            host = (group + turn) % len(self.endpoints)
            reply = await self.write(group, SCOPES[turn % len(SCOPES)], host)
            if reply.outcome == CONNECTION_ERROR:
                await asyncio.sleep(CONNECTION_ERROR_PAUSE_SECONDS)
            elif self.write_pause:
                await asyncio.sleep(self.write_pause)

    # Reads -----------------------------------------------------------------------------------

    async def _reader(self, index: int) -> None:
        anonymous = self.anonymous_every > 0 and index % self.anonymous_every == (
            self.anonymous_every - 1
        )
        path, credentials = (
            (PUBLIC_GET, None) if anonymous else (MY_GET, self.workload.accounts.reader)
        )
        kind = "public-read" if anonymous else "read"
        scopes = ("public",) if anonymous else SCOPES
        body = {"config_names": self.workload.names}
        for turn in itertools.count():
            if self._stopping:
                return
            host = (index + turn) % len(self.endpoints)
            start = time.monotonic()
            reply = await self.client.post(self.endpoints[host], path, body, credentials)
            end = time.monotonic()
            self._record(RequestRecord(kind, host, reply.outcome, start, end))
            if reply.ok:
                seen: dict[Key, int] = {}
                for node in reply.body["app_configs"]:
                    config = node["config"]
                    for scope in scopes:
                        seen[(node["config_name"], scope)] = int(config.get(scope, 0))
                self.reads.append(ReadRecord(host, start, seen))
            elif reply.outcome == CONNECTION_ERROR:
                await asyncio.sleep(CONNECTION_ERROR_PAUSE_SECONDS)

    async def read_group(self, host: int, group: int, scope: str) -> Reply:
        body = {
            "scope": self.workload.scope_ref(scope),
            "config_names": list(self.workload.groups[group]),
        }
        return await self.client.post(
            self.endpoints[host], SCOPED_BY_NAMES, body, self.workload.accounts.superadmin
        )

    @staticmethod
    def group_versions(reply: Reply, names: Sequence[str], scope: str) -> dict[str, int | None]:
        return {
            name: (None if node is None else node["config"].get(scope))
            for name, node in zip(names, reply.body, strict=True)
        }

    async def _auditor(self, index: int) -> None:
        cases = itertools.cycle(itertools.product(range(len(self.workload.groups)), SCOPES))
        for turn in itertools.count():
            if self._stopping:
                return
            group, scope = next(cases)
            host = (index + turn) % len(self.endpoints)
            start = time.monotonic()
            reply = await self.read_group(host, group, scope)
            end = time.monotonic()
            self._record(RequestRecord("audit", host, reply.outcome, start, end))
            if reply.ok:
                versions = self.group_versions(reply, self.workload.groups[group], scope)
                if len(set(versions.values())) != 1:
                    self.torn.append(TornBulk(group, scope, versions))
            elif reply.outcome == CONNECTION_ERROR:
                await asyncio.sleep(CONNECTION_ERROR_PAUSE_SECONDS)

    # Lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        coroutines = [
            *(self._writer(group) for group in range(len(self.workload.groups))),
            *(self._reader(index) for index in range(self.readers)),
            *(self._auditor(index) for index in range(self.auditors)),
        ]
        self._tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]

    async def stop(self) -> None:
        """Let every worker finish its request in flight, then return."""
        self._stopping = True
        await asyncio.gather(*self._tasks)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LoadGenerator]:
        self.start()
        try:
            yield self
        finally:
            await self.stop()

    async def run_until(self, operations: int, max_seconds: float) -> None:
        """Keep the load going until `operations` requests were made (or the time is up)."""
        self._target = operations
        if len(self.requests) >= operations:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._enough.wait(), max_seconds)

    def _record(self, record: RequestRecord) -> None:
        self.requests.append(record)
        if self._target is not None and len(self.requests) >= self._target:
            self._enough.set()

    # Checks ----------------------------------------------------------------------------------

    def stale_reads(self) -> list[StaleRead]:
        return find_stale_reads(self.acks, self.reads)

    async def final_state_problems(self, host: int = 0) -> list[str]:
        """Every group at every scope: one version, none lost, nothing never written."""
        problems: list[str] = []
        for group, scope in itertools.product(range(len(self.workload.groups)), SCOPES):
            names = self.workload.groups[group]
            reply = await self.read_group(host, group, scope)
            if not reply.ok:
                problems.append(f"group {group} at {scope}: read back failed: {reply.outcome}")
                continue
            versions = self.group_versions(reply, names, scope)
            distinct = set(versions.values())
            if len(distinct) != 1:
                problems.append(f"group {group} at {scope}: half-applied bulk {versions}")
                continue
            final = distinct.pop()
            acked = self.acks[(names[0], scope)][-1][1]
            maybe = [v for v in self.unanswered.get((group, scope), []) if v > acked]
            if final is None or final < acked:
                problems.append(f"group {group} at {scope}: v{acked} acknowledged, v{final} kept")
            elif final > acked and final not in maybe:
                problems.append(f"group {group} at {scope}: v{final} was never written")
        return problems

    # Figures ---------------------------------------------------------------------------------

    def outcomes(self, *, host: int | None = None) -> Counter[tuple[str, str]]:
        """(kind, outcome) -> count, optionally for one host."""
        return Counter(
            (record.kind, record.outcome)
            for record in self.requests
            if host is None or record.host == host
        )

    def failures(self, *, host: int | None = None) -> Counter[str]:
        """outcome -> count over every failed request (optionally of one host)."""
        failed: Counter[str] = Counter()
        for (kind, outcome), count in self.outcomes(host=host).items():
            if outcome != OK:
                failed[f"{kind} {outcome}"] += count
        return failed

    def count(self, kind: str | None = None) -> int:
        return sum(1 for r in self.requests if kind is None or r.kind == kind)

    def last_failure_end(self, after: float) -> float | None:
        ends = [r.end for r in self.requests if r.outcome != OK and r.end >= after]
        return max(ends, default=None)

    def succeeded_after(self, moment: float) -> int:
        return sum(1 for r in self.requests if r.start >= moment and r.outcome == OK)


def find_stale_reads(
    acks: Mapping[Key, Sequence[tuple[float, int]]], reads: Sequence[ReadRecord]
) -> list[StaleRead]:
    """Reads that saw, for some key, a version older than the newest write of that key that was
    acknowledged before the read started."""
    timelines: dict[Key, tuple[list[float], list[int]]] = {}
    for key, entries in acks.items():
        times = [moment for moment, _ in entries]
        versions = [version for _, version in entries]
        assert times == sorted(times) and versions == sorted(versions), f"{key}: not monotonic"
        timelines[key] = (times, versions)
    stale: list[StaleRead] = []
    for read in reads:
        for key, seen in read.seen.items():
            times, versions = timelines.get(key, ([], []))
            newest = bisect.bisect_left(times, read.start) - 1
            if newest >= 0 and seen < versions[newest]:
                stale.append(
                    StaleRead(key, read.host, read.start, seen, versions[newest], times[newest])
                )
    return stale


# Metrics -----------------------------------------------------------------------------------------

CACHE_HITS: Final = 'app_config_cache_lookups_total{outcome="hit"}'
CACHE_MISSES: Final = 'app_config_cache_lookups_total{outcome="miss"}'
CACHE_ERRORS: Final = "app_config_cache_errors_total"


def metric_sum(text: str, series: str) -> float:
    """The sum of every sample whose name and labels start with `series`."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(series):
            total += float(line.rsplit(" ", 1)[1])
    return total


@attrs.frozen
class CacheCounts:
    hits: float = 0.0
    misses: float = 0.0
    errors: float = 0.0

    def __sub__(self, other: CacheCounts) -> CacheCounts:
        return CacheCounts(
            self.hits - other.hits, self.misses - other.misses, self.errors - other.errors
        )


async def cache_counts(session: aiohttp.ClientSession, endpoints: Sequence[str]) -> CacheCounts:
    """Cache lookups summed over the hosts that answer (a killed host has none to give)."""
    hits = misses = errors = 0.0
    for endpoint in endpoints:
        with contextlib.suppress(aiohttp.ClientConnectionError):
            async with session.get(endpoint + "/metrics") as response:
                text = await response.text()
            hits += metric_sum(text, CACHE_HITS)
            misses += metric_sum(text, CACHE_MISSES)
            errors += metric_sum(text, CACHE_ERRORS)
    return CacheCounts(hits, misses, errors)


def summarize(outcomes: Counter[tuple[str, str]]) -> Iterator[str]:
    for (kind, outcome), count in sorted(outcomes.items()):
        yield f"{kind} {outcome}: {count}"
