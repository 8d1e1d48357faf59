"""Source data verification, casebook signatures and locks of forms, participants and studies.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instance_table(name: str, at: str, by: str) -> None:
    """A table of form instances (participant, form, key) pinned by a SHA-256 of their values."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("form_key", sa.Integer(), nullable=False),
        sa.Column("values_sha256", sa.String(length=64), nullable=False),
        sa.Column(at, sa.DateTime(timezone=True), nullable=False),
        sa.Column(by, sa.Integer(), nullable=False),
        sa.CheckConstraint("form_key >= 0", name=op.f(f"ck_{name}_form_key")),
        sa.CheckConstraint("length(values_sha256) = 64", name=op.f(f"ck_{name}_values_sha256")),
        sa.ForeignKeyConstraint([by], ["users.id"], name=op.f(f"fk_{name}_{by}")),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f(f"fk_{name}_participant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(
            "participant_id",
            "form",
            "form_key",
            name=op.f(f"uq_{name}_participant_id_form_form_key"),
        ),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f(f"ix_{name}_participant_id"), ["participant_id"], unique=False
        )


def upgrade() -> None:
    _instance_table("source_verifications", "verified_at", "verified_by_id")
    _instance_table("form_locks", "locked_at", "locked_by_id")
    op.create_table(
        "participant_locks",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["locked_by_id"], ["users.id"], name=op.f("fk_participant_locks_locked_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_participant_locks_participant_id"),
        ),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_participant_locks")),
    )
    op.create_table(
        "study_locks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("snapshot_file", sa.String(length=255), nullable=True),
        sa.Column("snapshot_sha256", sa.String(length=64), nullable=True),
        sa.Column("unlocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unlocked_by", sa.String(length=64), nullable=True),
        sa.Column("unlock_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(unlocked_at IS NULL) = (unlock_reason IS NULL)",
            name=op.f("ck_study_locks_unlocked"),
        ),
        sa.CheckConstraint(
            "snapshot_sha256 IS NULL OR length(snapshot_sha256) = 64",
            name=op.f("ck_study_locks_snapshot_sha256"),
        ),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"], name=op.f("fk_study_locks_study_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_locks")),
    )
    with op.batch_alter_table("study_locks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_locks_study_id"), ["study_id"], unique=False)
    op.create_table(
        "casebook_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_username", sa.String(length=64), nullable=False),
        sa.Column("signer_role", sa.String(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meaning", sa.String(length=64), nullable=False),
        sa.Column("meaning_version", sa.String(length=16), nullable=False),
        sa.Column("meaning_language", sa.String(length=8), nullable=False),
        sa.Column("meaning_text", sa.Text(), nullable=False),
        sa.Column("casebook_sha256", sa.String(length=64), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "length(casebook_sha256) = 64", name=op.f("ck_casebook_signatures_casebook_sha256")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_casebook_signatures_participant_id"),
        ),
        sa.ForeignKeyConstraint(
            ["signer_id"], ["users.id"], name=op.f("fk_casebook_signatures_signer_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casebook_signatures")),
    )
    with op.batch_alter_table("casebook_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_casebook_signatures_participant_id"), ["participant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("casebook_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casebook_signatures_participant_id"))
    op.drop_table("casebook_signatures")
    with op.batch_alter_table("study_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_locks_study_id"))
    op.drop_table("study_locks")
    op.drop_table("participant_locks")
    for name in ("form_locks", "source_verifications"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{name}_participant_id"))
        op.drop_table(name)
