"""Create the app config tables: definitions, allow-list and fragments.

Why: the plugin stores scoped configuration in its own three tables (ARCHITECTURE.md §Data
model); this first revision of the plugin's own Alembic branch creates them, names every
constraint explicitly, and installs a trigger that keeps `updated_at` current on every UPDATE
(ORM-side onupdate would miss bulk UPDATE and INSERT ... ON CONFLICT DO UPDATE statements).
Needs PostgreSQL 15+ for UNIQUE NULLS NOT DISTINCT. Imports no application code on purpose.

Revision ID: 7f3c2a9e41d0
Revises:
Create Date: 2026-06-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "7f3c2a9e41d0"
down_revision = None
branch_labels = ("scoped_app_config",)
depends_on = None

_SCOPE_TYPES = "scope_type IN ('public', 'domain_user_defaults', 'domain', 'user')"
_TABLES = ("app_config_definitions", "app_config_allow_list", "app_config_fragments")
_TOUCH_FUNCTION = "scoped_app_config_touch_updated_at"


def _id() -> sa.Column[object]:
    return sa.Column(
        "id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()")
    )


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)
        for name in ("created_at", "updated_at")
    ]


def upgrade() -> None:
    op.create_table(
        "app_config_definitions",
        _id(),
        sa.Column("config_name", sa.String(128), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_app_config_definitions"),
        sa.UniqueConstraint("config_name", name="uq_app_config_definitions_config_name"),
    )
    op.create_table(
        "app_config_allow_list",
        _id(),
        sa.Column("config_name", sa.String(128), nullable=False),
        sa.Column("scope_type", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_app_config_allow_list"),
        sa.UniqueConstraint(
            "config_name", "scope_type", name="uq_app_config_allow_list_config_name_scope_type"
        ),
        sa.ForeignKeyConstraint(
            ["config_name"],
            ["app_config_definitions.config_name"],
            ondelete="CASCADE",
            name="fk_app_config_allow_list_config_name_app_config_definitions",
        ),
        sa.CheckConstraint(_SCOPE_TYPES, name="ck_app_config_allow_list_scope_type"),
    )
    op.create_table(
        "app_config_fragments",
        _id(),
        sa.Column("config_name", sa.String(128), nullable=False),
        sa.Column("scope_type", sa.String(32), nullable=False),
        sa.Column("scope_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("config", postgresql.JSONB(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_app_config_fragments"),
        sa.UniqueConstraint(
            "config_name",
            "scope_type",
            "scope_id",
            name="uq_app_config_fragments_config_name_scope_type_scope_id",
            postgresql_nulls_not_distinct=True,
        ),
        sa.CheckConstraint(
            "(scope_type = 'public') = (scope_id IS NULL)",
            name="ck_app_config_fragments_public_scope_has_no_id",
        ),
        sa.CheckConstraint(_SCOPE_TYPES, name="ck_app_config_fragments_scope_type"),
        sa.ForeignKeyConstraint(
            ["config_name", "scope_type"],
            ["app_config_allow_list.config_name", "app_config_allow_list.scope_type"],
            ondelete="CASCADE",
            name="fk_app_config_fragments_allow_list",
        ),
    )
    op.create_index(
        "ix_app_config_fragments_config_name_rank", "app_config_fragments", ["config_name", "rank"]
    )
    op.create_index(
        "ix_app_config_fragments_scope_id_scope_type",
        "app_config_fragments",
        ["scope_id", "scope_type"],
    )
    op.execute(
        f"""
        CREATE FUNCTION {_TOUCH_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END
        $$
        """
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {_TOUCH_FUNCTION}()"
        )


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)  # drops its trigger and indexes with it
    op.execute(f"DROP FUNCTION {_TOUCH_FUNCTION}()")
