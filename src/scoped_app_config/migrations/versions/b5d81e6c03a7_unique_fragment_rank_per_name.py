"""Make fragment ranks unique within a config name.

Why: ARCHITECTURE.md says fragment ranks are unique within a name, so merge-order ties cannot
depend on row order, but nothing enforced it: an explicit rank update could set a rank another
fragment of the name already holds, and one racing a create could duplicate the create's
max(rank) + 100. This revision adds UNIQUE (config_name, rank) on app_config_fragments; the
application maps its violation to a conflict and serializes rank updates with creates under the
definition row lock. The constraint's index replaces the plain (config_name, rank) index, which
it makes redundant (next-rank lookups read the same index).

Existing duplicates would make the constraint fail to build, so first every name that has one is
renumbered to 100, 200, ... in its current effective order (rank, then id: the tie-break merged
reads used), which keeps each name's merge order unchanged; other names keep their ranks.
Not deferrable: no statement shifts several ranks of a name at once. Downgrade drops the
constraint and restores the plain index (renumbered ranks stay as they are).
Imports no application code on purpose.

Revision ID: b5d81e6c03a7
Revises: 7f3c2a9e41d0
Create Date: 2026-07-01
"""

from __future__ import annotations

from alembic import op

revision = "b5d81e6c03a7"
down_revision = "7f3c2a9e41d0"
branch_labels = None
depends_on = None

_TABLE = "app_config_fragments"
_CONSTRAINT = "uq_app_config_fragments_config_name_rank"
_INDEX = "ix_app_config_fragments_config_name_rank"
_RANK_STEP = 100  # the application's fragment rank step at the time of this revision

_RENUMBER_NAMES_WITH_DUPLICATE_RANKS = f"""
    UPDATE {_TABLE} AS fragment
    SET rank = ordered.position * {_RANK_STEP}
    FROM (
        SELECT id, row_number() OVER (PARTITION BY config_name ORDER BY rank, id) AS position
        FROM {_TABLE}
        WHERE config_name IN (
            SELECT config_name FROM {_TABLE} GROUP BY config_name, rank HAVING count(*) > 1
        )
    ) AS ordered
    WHERE fragment.id = ordered.id AND fragment.rank <> ordered.position * {_RANK_STEP}
"""


def upgrade() -> None:
    # Keep concurrent writers out while duplicates are renumbered and the constraint is built.
    op.execute(f"LOCK TABLE {_TABLE} IN SHARE ROW EXCLUSIVE MODE")
    op.execute(_RENUMBER_NAMES_WITH_DUPLICATE_RANKS)
    op.drop_index(_INDEX, table_name=_TABLE)
    op.create_unique_constraint(_CONSTRAINT, _TABLE, ["config_name", "rank"])


def downgrade() -> None:
    op.drop_constraint(_CONSTRAINT, _TABLE, type_="unique")
    op.create_index(_INDEX, _TABLE, ["config_name", "rank"])
