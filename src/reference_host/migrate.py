"""Schema migrations: one Alembic environment over the host's and every plugin's lineage.

Run from the CLI (`reference-host db ...`) or a test fixture, never from a worker's start-up.
These functions are synchronous: Alembic's env runs its own event loop.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

HOST_MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HOST_VERSIONS_DIR = HOST_MIGRATIONS_DIR / "versions"


def alembic_config(
    database_url: str, plugin_locations: Iterable[Path], *, stdout: io.StringIO | None = None
) -> Config:
    config = Config(stdout=stdout) if stdout is not None else Config()
    config.set_main_option("script_location", str(HOST_MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    locations = [str(HOST_VERSIONS_DIR), *(str(path) for path in plugin_locations)]
    config.set_main_option("version_locations", os.pathsep.join(locations))
    # ConfigParser interpolation would treat a '%' in a password as syntax.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, plugin_locations: Iterable[Path], target: str = "heads") -> None:
    command.upgrade(alembic_config(database_url, plugin_locations), target)


def downgrade(database_url: str, plugin_locations: Iterable[Path], target: str) -> None:
    command.downgrade(alembic_config(database_url, plugin_locations), target)


def current(database_url: str, plugin_locations: Iterable[Path]) -> str:
    out = io.StringIO()
    command.current(alembic_config(database_url, plugin_locations, stdout=out))
    return out.getvalue()


def heads(database_url: str, plugin_locations: Iterable[Path]) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(database_url, plugin_locations))
    return list(script.get_heads())
