"""Records imported from another system: allocations kept as they were made there.

An allocation made by the system a trial migrates from keeps its arm, instant and method, marked
``imported`` (no allocation slot is taken for it); the source system's method and reference are
kept beside it. A participant may carry the source system's identifier of her (``source_id``),
unique in the database, by which an import recognises her the second time.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WITH_IMPORTED = "method IN ('list', 'minimisation', 'override', 'imported')"
_WITHOUT_IMPORTED = "method IN ('list', 'minimisation', 'override')"
_IMPORTED_SOURCE = "method <> 'imported' OR source_method IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_method", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("source_reference", sa.String(length=64), nullable=True))
        batch_op.drop_constraint(op.f("ck_allocations_method"), type_="check")
        batch_op.create_check_constraint(op.f("ck_allocations_method"), _WITH_IMPORTED)
        batch_op.create_check_constraint(op.f("ck_allocations_imported"), _IMPORTED_SOURCE)

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_participants_source_id"), ["source_id"])


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_participants_source_id"), type_="unique")
        batch_op.drop_column("source_id")

    # Refused by the database while imported allocations exist: they would lose their method.
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_allocations_imported"), type_="check")
        batch_op.drop_constraint(op.f("ck_allocations_method"), type_="check")
        batch_op.create_check_constraint(op.f("ck_allocations_method"), _WITHOUT_IMPORTED)
        batch_op.drop_column("source_reference")
        batch_op.drop_column("source_method")
