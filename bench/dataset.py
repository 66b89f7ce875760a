"""The benchmark data set, bulk-loaded with COPY straight into the host's and the plugin's tables.

- 100 definitions (`bench_config_000` ..), each allow-listed at every scope type with the
  default ranks;
- 100 domains, 10,000 users (user `i` in domain `i % 100`), one active keypair per user in
  Backend.AI's format (20-character access key, 40-character secret);
- fragments, a few KiB of nested JSON each: one public fragment per name, one
  `domain_user_defaults` and one `domain` fragment per (name, domain), then user fragments up to
  `--fragments` in total. User `u` owns names `u, u+1, u+2, ...` (mod 100), so the three names a
  user reads (`read_names`) always have a fragment at all four scopes.

Everything derives from one seed, so two runs load the same rows.
"""

from __future__ import annotations

import base64
import json
import random
import string
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from itertools import islice

import asyncpg  # asyncpg ships no type information
import attrs

from scoped_app_config.domain.types import DEFAULT_ALLOW_LIST_RANKS, ScopeType

NAMES = 100
DOMAINS = 100
USERS = 10_000
READ_NAMES_PER_REQUEST = 3
FRAGMENTS_TABLE = "app_config_fragments"
_ACCESS_KEY_ALPHABET = string.ascii_uppercase + string.digits


@attrs.frozen
class BenchUser:
    user_id: uuid.UUID
    domain_id: uuid.UUID
    access_key: str
    secret_key: str
    index: int


@attrs.frozen
class Dataset:
    names: tuple[str, ...]
    domains: tuple[uuid.UUID, ...]
    users: tuple[BenchUser, ...]
    fragments: int
    bodies: tuple[str, ...]

    def read_names(self, user: BenchUser) -> list[str]:
        """The names `user` asks for in a merged read (all four scopes contribute to each)."""
        return [self.names[(user.index + k) % NAMES] for k in range(READ_NAMES_PER_REQUEST)]

    def write_name(self, user: BenchUser) -> str:
        """A name outside the user's read set: writes invalidate the user's views (one user
        generation key) without changing the size of what the readers get back."""
        return self.names[(user.index + NAMES // 2) % NAMES]

    def write_body(self, serial: int) -> str:
        return f'{{"serial":{serial},{self.bodies[serial % len(self.bodies)]}'


def build(*, fragments: int, seed: int) -> Dataset:
    rng = random.Random(seed)
    names = tuple(f"bench_config_{i:03}" for i in range(NAMES))
    domains = tuple(uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(DOMAINS))
    users = tuple(
        BenchUser(
            user_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            domain_id=domains[i % DOMAINS],
            access_key="AKIA" + "".join(rng.choices(_ACCESS_KEY_ALPHABET, k=16)),
            secret_key=base64.b64encode(rng.randbytes(30)).decode("ascii"),
            index=i,
        )
        for i in range(USERS)
    )
    return Dataset(
        names=names,
        domains=domains,
        users=users,
        fragments=fragments,
        bodies=tuple(_config_bodies(rng)),
    )


def _config_bodies(rng: random.Random, count: int = 256) -> list[str]:
    """Nested JSON objects of roughly 1 to 4 KiB, serialised without the opening brace."""
    bodies = []
    for index in range(count):
        widgets = [
            {
                "id": f"w{index}-{n}",
                "visible": rng.random() < 0.8,
                "position": {"x": rng.randrange(1000), "y": rng.randrange(1000)},
                "options": {
                    "label": f"label-{rng.getrandbits(32):08x}",
                    "size": rng.randrange(64),
                    "tags": [f"t{rng.randrange(100)}" for _ in range(3)],
                },
            }
            for n in range(rng.randint(6, 24))
        ]
        document = {
            "theme": {
                "color": f"#{rng.getrandbits(24):06x}",
                "dark": rng.random() < 0.5,
                "font": {"family": rng.choice(("Inter", "Roboto", "Noto Sans")), "size": 14},
            },
            "layout": {"sidebar": rng.choice(("left", "right", "none")), "widgets": widgets},
            "features": {f"flag_{k}": rng.random() < 0.5 for k in range(rng.randint(4, 16))},
        }
        bodies.append(json.dumps(document, separators=(",", ":"))[1:])
    return bodies


FragmentRecord = tuple[str, str, uuid.UUID | None, int, str]
"""(config_name, scope_type, scope_id, rank, config as JSON text), in COPY column order."""


def scoped_fragment_records(
    total: int,
    names: Sequence[str],
    domains: Sequence[uuid.UUID],
    users: Sequence[uuid.UUID],
    config: Callable[[int], str],
) -> Iterator[FragmentRecord]:
    """The first `total` rows of: every name at public scope, at every domain's
    domain_user_defaults and domain scope, then at user scope; `config(serial)` gives the n-th
    row's document. Ranks are unique within a name, in creation order, as the repository
    assigns them. User rows pair user `u` with name `(k // users + u) % names`, so every user
    has about the same number of names and no (name, user) pair repeats."""

    def rows() -> Iterator[FragmentRecord]:
        serial = 0
        ranks: dict[str, int] = {}

        def rank(name: str) -> int:
            ranks[name] = ranks.get(name, 0) + 100
            return ranks[name]

        def next_config() -> str:
            nonlocal serial
            serial += 1
            return config(serial)

        for name in names:
            yield (name, ScopeType.PUBLIC.value, None, rank(name), next_config())
        for scope_type in (ScopeType.DOMAIN_USER_DEFAULTS, ScopeType.DOMAIN):
            for name in names:
                for domain in domains:
                    yield (name, scope_type.value, domain, rank(name), next_config())
        for k in range(len(names) * len(users)):
            user_index = k % len(users)
            name = names[(k // len(users) + user_index) % len(names)]
            yield (name, ScopeType.USER.value, users[user_index], rank(name), next_config())

    return islice(rows(), total)


def _fragment_rows(dataset: Dataset) -> Iterator[FragmentRecord]:
    return scoped_fragment_records(
        dataset.fragments,
        dataset.names,
        dataset.domains,
        [user.user_id for user in dataset.users],
        dataset.write_body,
    )


async def load(dsn: str, dataset: Dataset) -> dict[str, float]:
    """COPY everything in one transaction, then VACUUM ANALYZE; returns seconds per phase."""
    timings: dict[str, float] = {}
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET synchronous_commit = off")
        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table(
                "domains",
                records=[(d, f"bench-domain-{i:03}") for i, d in enumerate(dataset.domains)],
                columns=["id", "name"],
            )
            await connection.copy_records_to_table(
                "users",
                records=[
                    (
                        u.user_id,
                        f"bench-user-{u.index:05}@example.com",
                        "user",
                        u.domain_id,
                        "active",
                    )
                    for u in dataset.users
                ],
                columns=["id", "email", "role", "domain_id", "status"],
            )
            await connection.copy_records_to_table(
                "keypairs",
                records=[
                    (u.access_key, u.secret_key, u.user_id, True, False) for u in dataset.users
                ],
                columns=["access_key", "secret_key", "user_id", "is_active", "is_admin"],
            )
            timings["accounts (COPY)"] = time.perf_counter() - started
            started = time.perf_counter()
            await connection.copy_records_to_table(
                "app_config_definitions",
                records=[(name,) for name in dataset.names],
                columns=["config_name"],
            )
            await connection.copy_records_to_table(
                "app_config_allow_list",
                records=[
                    (name, scope_type.value, rank)
                    for name in dataset.names
                    for scope_type, rank in DEFAULT_ALLOW_LIST_RANKS.items()
                ],
                columns=["config_name", "scope_type", "rank"],
            )
            await connection.copy_records_to_table(
                FRAGMENTS_TABLE,
                records=_fragment_rows(dataset),
                columns=["config_name", "scope_type", "scope_id", "rank", "config"],
            )
            timings["definitions, allow-list, fragments (COPY)"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("VACUUM (ANALYZE)")
        timings["VACUUM ANALYZE"] = time.perf_counter() - started
    finally:
        await connection.close()
    return timings


async def table_facts(dsn: str) -> dict[str, str]:
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            f"SELECT current_setting('server_version') AS version,"
            f" current_setting('shared_buffers') AS shared_buffers,"
            f" pg_size_pretty(pg_total_relation_size('{FRAGMENTS_TABLE}')) AS size,"
            f" (SELECT count(*) FROM {FRAGMENTS_TABLE}) AS count,"
            f" (SELECT avg(pg_column_size(config))::int FROM {FRAGMENTS_TABLE}) AS avg_jsonb,"
            f" (SELECT avg(length(config::text))::int FROM {FRAGMENTS_TABLE}) AS avg_text"
        )
        return {key: str(value) for key, value in dict(row).items()}
    finally:
        await connection.close()


def chunked(items: Sequence[BenchUser], size: int) -> Iterator[Sequence[BenchUser]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
