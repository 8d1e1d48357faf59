"""Letters issued to participants and doctors, risk consultations, and her language.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LANGUAGES = "'en', 'fr', 'it', 'nl', 'he', 'es'"


def upgrade() -> None:
    op.create_table(
        "issued_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("basis", sa.String(length=64), nullable=False),
        sa.Column("template_version", sa.String(length=32), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_bytes", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('risk_result', 'standard_arm', 'recollection', 'end_of_study')",
            name=op.f("ck_issued_letters_kind"),
        ),
        sa.CheckConstraint(
            "recipient IN ('woman', 'doctor')", name=op.f("ck_issued_letters_recipient")
        ),
        sa.CheckConstraint(f"language IN ({_LANGUAGES})", name=op.f("ck_issued_letters_language")),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name=op.f("fk_issued_letters_issued_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_issued_letters_participant_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_letters")),
    )
    with op.batch_alter_table("issued_letters", schema=None) as batch_op:
        batch_op.create_index(
            "ix_issued_letters_due", ["participant_id", "kind", "recipient", "basis"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_issued_letters_issued_at"), ["issued_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_issued_letters_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("held_by", sa.String(length=200), nullable=False),
        sa.Column("questions", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("mode IN ('visit', 'phone')", name=op.f("ck_consultations_mode")),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_consultations_participant_id"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_consultations_recorded_by_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultations_participant_id"), ["participant_id"], unique=False
        )

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_participants_language"), f"language IS NULL OR language IN ({_LANGUAGES})"
        )


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_participants_language"), type_="check")
        batch_op.drop_column("language")

    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultations_participant_id"))
    op.drop_table("consultations")

    with op.batch_alter_table("issued_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_letters_participant_id"))
        batch_op.drop_index(batch_op.f("ix_issued_letters_issued_at"))
        batch_op.drop_index("ix_issued_letters_due")
    op.drop_table("issued_letters")
