"""accounts: domains, users and keypairs

Why: the reference host authenticates every request with Backend.AI keypair signing and
tells plugins who the caller is (user, role, domain). These are the host's own tables, the
root of the `reference_host` lineage; plugins keep their own lineages and never reference
these tables with foreign keys, so either side can evolve alone.

This migration imports nothing from the application: the schema is spelled out here and
every constraint is named explicitly.

Revision ID: 3f1c2a7b9d04
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3f1c2a7b9d04"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("reference_host",)
depends_on: str | Sequence[str] | None = None

user_role = postgresql.ENUM("superadmin", "admin", "user", name="user_role", create_type=False)
user_status = postgresql.ENUM("active", "inactive", name="user_status", create_type=False)


def upgrade() -> None:
    bind = op.get_bind()
    user_role.create(bind, checkfirst=False)
    user_status.create(bind, checkfirst=False)
    op.create_table(
        "domains",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_domains"),
        sa.UniqueConstraint("name", name="uq_domains_name"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(128), nullable=False),
        sa.Column("role", user_role, nullable=False),
        sa.Column("domain_id", sa.Uuid(), nullable=False),
        sa.Column("status", user_status, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domains.id"], name="fk_users_domain_id_domains", ondelete="RESTRICT"
        ),
    )
    op.create_index("ix_users_domain_id", "users", ["domain_id"])
    op.create_table(
        "keypairs",
        sa.Column("access_key", sa.String(20), nullable=False),
        sa.Column("secret_key", sa.String(40), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("access_key", name="pk_keypairs"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_keypairs_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_keypairs_user_id", "keypairs", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_keypairs_user_id", table_name="keypairs")
    op.drop_table("keypairs")
    op.drop_index("ix_users_domain_id", table_name="users")
    op.drop_table("users")
    op.drop_table("domains")
    bind = op.get_bind()
    user_status.drop(bind, checkfirst=False)
    user_role.drop(bind, checkfirst=False)
