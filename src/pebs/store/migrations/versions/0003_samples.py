"""Saliva kits and shipments, laboratory batches and genotype results, the risk questionnaire,
breast density on visits, and the laboratory role.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES = (
    "role IN ('site_staff', 'site_investigator', 'country_coordinator', 'data_manager',"
    " 'statistician', 'monitor', 'administrator')"
)
_ROLES_WITH_LABORATORY = (
    "role IN ('site_staff', 'site_investigator', 'country_coordinator', 'data_manager',"
    " 'statistician', 'monitor', 'administrator', 'laboratory')"
)


def upgrade() -> None:
    op.create_table(
        "lab_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("study_pk", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("score_id", sa.String(length=32), nullable=False),
        sa.Column("score_version", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("report", sa.JSON(none_as_null=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by_id"], ["users.id"], name=op.f("fk_lab_batches_imported_by_id")
        ),
        sa.ForeignKeyConstraint(["study_pk"], ["studies.id"], name=op.f("fk_lab_batches_study_pk")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_batches")),
        sa.UniqueConstraint("reference", name=op.f("uq_lab_batches_reference")),
    )
    with op.batch_alter_table("lab_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lab_batches_file_sha256"), ["file_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lab_batches_study_pk"), ["study_pk"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_by_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["received_by_id"], ["users.id"], name=op.f("fk_shipments_received_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["shipped_by_id"], ["users.id"], name=op.f("fk_shipments_shipped_by_id")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_shipments_site_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("reference", name=op.f("uq_shipments_reference")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_site_id"), ["site_id"], unique=False)

    op.create_table(
        "risk_questionnaires",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_risk_questionnaires_participant_id"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_risk_questionnaires_recorded_by_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_questionnaires")),
    )
    with op.batch_alter_table("risk_questionnaires", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_questionnaires_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kit_id", sa.String(length=24), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("replaces_sample_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("collected_on", sa.Date(), nullable=True),
        sa.Column("collected_by_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("abandoned_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state != 'abandoned' OR abandoned_reason IS NOT NULL",
            name=op.f("ck_samples_abandoned"),
        ),
        sa.CheckConstraint(
            "state IN ('assigned', 'collected', 'shipped', 'received', 'genotyped', 'failed_qc',"
            " 'recollection_requested', 'abandoned')",
            name=op.f("ck_samples_state"),
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["users.id"], name=op.f("fk_samples_assigned_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["collected_by_id"], ["users.id"], name=op.f("fk_samples_collected_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_samples_participant_id")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_sample_id"], ["samples.id"], name=op.f("fk_samples_replaces_sample_id")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_samples_shipment_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_samples")),
        sa.UniqueConstraint("kit_id", name=op.f("uq_samples_kit_id")),
    )
    with op.batch_alter_table("samples", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_samples_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_samples_shipment_id"), ["shipment_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_samples_state_collected_on"), ["state", "collected_on"], unique=False
        )

    op.create_table(
        "genotype_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prs_z", sa.Float(), nullable=True),
        sa.Column("raw_score", sa.Float(), nullable=True),
        sa.Column("call_rate", sa.Float(), nullable=False),
        sa.Column("n_variants", sa.Integer(), nullable=False),
        sa.Column("n_matched", sa.Integer(), nullable=False),
        sa.Column("n_missing", sa.Integer(), nullable=False),
        sa.Column("n_imputed", sa.Integer(), nullable=False),
        sa.Column("qc_reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('accepted', 'failed_qc', 'conflict', 'superseded', 'rejected')",
            name=op.f("ck_genotype_results_status"),
        ),
        sa.CheckConstraint(
            "call_rate >= 0 AND call_rate <= 1", name=op.f("ck_genotype_results_call_rate")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["lab_batches.id"], name=op.f("fk_genotype_results_batch_id")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_genotype_results_resolved_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["samples.id"], name=op.f("fk_genotype_results_sample_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_genotype_results")),
    )
    with op.batch_alter_table("genotype_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_genotype_results_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_genotype_results_sample_id"), ["sample_id"], unique=False
        )

    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("density", sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column("density_reader", sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_visits_density"), "density IN ('a', 'b', 'c', 'd')"
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), _ROLES_WITH_LABORATORY)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), _ROLES)

    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_visits_density"), type_="check")
        batch_op.drop_column("density_reader")
        batch_op.drop_column("density")

    with op.batch_alter_table("genotype_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_genotype_results_sample_id"))
        batch_op.drop_index(batch_op.f("ix_genotype_results_batch_id"))

    op.drop_table("genotype_results")
    with op.batch_alter_table("samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_samples_state_collected_on"))
        batch_op.drop_index(batch_op.f("ix_samples_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_samples_participant_id"))

    op.drop_table("samples")
    with op.batch_alter_table("risk_questionnaires", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_questionnaires_participant_id"))

    op.drop_table("risk_questionnaires")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_site_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("lab_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_batches_study_pk"))
        batch_op.drop_index(batch_op.f("ix_lab_batches_file_sha256"))

    op.drop_table("lab_batches")
