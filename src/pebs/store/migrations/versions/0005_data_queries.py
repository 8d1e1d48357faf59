"""Data queries on a participant's record and the edit checks that raise them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FORMS = (
    "'registration', 'eligibility', 'consent', 'allocation', 'risk_factors', 'risk_assessment', "
    "'screening_plan', 'visit', 'outcome', 'death', 'questionnaire'"
)
_OPEN_CHECK = "check_id IS NOT NULL AND state <> 'closed'"


def upgrade() -> None:
    op.create_table(
        "data_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("form_key", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("check_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("proposed_value", sa.Text(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_by", sa.String(length=128), nullable=False),
        sa.Column("raised_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.CheckConstraint(f"form IN ({_FORMS})", name=op.f("ck_data_queries_form")),
        sa.CheckConstraint("kind IN ('manual', 'edit_check')", name=op.f("ck_data_queries_kind")),
        sa.CheckConstraint(
            "state IN ('open', 'answered', 'closed')", name=op.f("ck_data_queries_state")
        ),
        sa.CheckConstraint(
            "(kind = 'edit_check') = (check_id IS NOT NULL)",
            name=op.f("ck_data_queries_check_id"),
        ),
        sa.CheckConstraint("form_key >= 0", name=op.f("ck_data_queries_form_key")),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_data_queries_participant_id")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"], ["users.id"], name=op.f("fk_data_queries_raised_by_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_queries")),
    )
    with op.batch_alter_table("data_queries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_queries_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_data_queries_state_updated_at"), ["state", "updated_at"], unique=False
        )
        batch_op.create_index(
            "uq_data_queries_open_check",
            ["participant_id", "check_id", "form", "form_key", "item"],
            unique=True,
            sqlite_where=sa.text(_OPEN_CHECK),
            postgresql_where=sa.text(_OPEN_CHECK),
        )

    op.create_table(
        "data_query_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("correction", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "step IN ('raise', 'answer', 'close', 'reopen')",
            name=op.f("ck_data_query_notes_step"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_data_query_notes_actor_id")
        ),
        sa.ForeignKeyConstraint(
            ["query_id"], ["data_queries.id"], name=op.f("fk_data_query_notes_query_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_query_notes")),
    )
    with op.batch_alter_table("data_query_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_query_notes_query_id"), ["query_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("data_query_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_query_notes_query_id"))
    op.drop_table("data_query_notes")

    with op.batch_alter_table("data_queries", schema=None) as batch_op:
        batch_op.drop_index("uq_data_queries_open_check")
        batch_op.drop_index(batch_op.f("ix_data_queries_state_updated_at"))
        batch_op.drop_index(batch_op.f("ix_data_queries_participant_id"))
    op.drop_table("data_queries")
