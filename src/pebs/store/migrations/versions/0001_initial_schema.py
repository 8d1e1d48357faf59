"""Initial schema: every table of the trial platform, and append-only triggers on audit_events.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id >= 1", name=op.f("ck_audit_events_id")),
        sa.CheckConstraint(
            "length(hash) = 64 AND length(prev_hash) = 64", name=op.f("ck_audit_events_hash_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash")),
    )
    op.create_index(
        op.f("ix_audit_events_entity_entity_id"),
        "audit_events",
        ["entity", "entity_id"],
        unique=False,
    )

    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("config_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
        sa.UniqueConstraint("name", name=op.f("uq_studies_name")),
    )
    op.create_table(
        "arms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("ratio", sa.SmallInteger(), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.CheckConstraint("ratio >= 1", name=op.f("ck_arms_ratio")),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"], name=op.f("fk_arms_study_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arms")),
        sa.UniqueConstraint("study_id", "name", name=op.f("uq_arms_study_id_name")),
    )
    op.create_table(
        "countries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("standard_policy", sa.String(length=64), nullable=False),
        sa.Column("recruitment_target", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(code) = 2", name=op.f("ck_countries_code")),
        sa.CheckConstraint("recruitment_target >= 0", name=op.f("ck_countries_recruitment_target")),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"], name=op.f("fk_countries_study_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_countries")),
        sa.UniqueConstraint("study_id", "code", name=op.f("uq_countries_study_id_code")),
    )
    op.create_table(
        "protocol_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("eligibility_criteria", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_protocol_versions_study_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_versions")),
        sa.UniqueConstraint(
            "study_id", "version", name=op.f("uq_protocol_versions_study_id_version")
        ),
    )
    op.create_table(
        "consent_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["country_id"], ["countries.id"], name=op.f("fk_consent_documents_country_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_documents")),
        sa.UniqueConstraint(
            "country_id",
            "language",
            "version",
            name=op.f("uq_consent_documents_country_id_language_version"),
        ),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("recruitment_target", sa.Integer(), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("last_sequence >= 0", name=op.f("ck_sites_last_sequence")),
        sa.CheckConstraint("recruitment_target >= 0", name=op.f("ck_sites_recruitment_target")),
        sa.ForeignKeyConstraint(["country_id"], ["countries.id"], name=op.f("fk_sites_country_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("country_id", "code", name=op.f("uq_sites_country_id_code")),
    )
    op.create_index(op.f("ix_sites_country_id"), "sites", ["country_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("country_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=256), nullable=True),
        sa.Column("totp_secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role NOT IN ('site_staff', 'site_investigator') OR site_id IS NOT NULL) "
            "AND (role NOT IN ('country_coordinator') OR country_id IS NOT NULL)",
            name=op.f("ck_users_scope"),
        ),
        sa.CheckConstraint(
            "role IN ('site_staff', 'site_investigator', 'country_coordinator', 'data_manager',"
            " 'statistician', 'monitor', 'administrator')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(["country_id"], ["countries.id"], name=op.f("fk_users_country_id")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_users_site_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "allocation_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=128), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=64), nullable=False),
        sa.Column("algorithm_version", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("n_slots", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_allocation_lists_sha256")),
        sa.CheckConstraint("n_slots >= 1", name=op.f("ck_allocation_lists_n_slots")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_allocation_lists_version")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_allocation_lists_created_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_allocation_lists_study_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_lists")),
        sa.UniqueConstraint(
            "study_id",
            "is_test",
            "version",
            name=op.f("uq_allocation_lists_study_id_is_test_version"),
        ),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("age_at_entry", sa.SmallInteger(), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("strata", sa.JSON(), nullable=True),
        sa.Column("stratum", sa.String(length=128), nullable=True),
        sa.Column("strata_locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('registered', 'eligible', 'screen_failure', 'consented', "
            "'randomised_standard', 'randomised_risk_based', 'risk_assessed', 'plan_given', "
            "'in_follow_up', 'completed', 'withdrawn_no_contact', 'withdrawn_no_data_collection', "
            "'withdrawn_data_use', 'died')",
            name=op.f("ck_participants_status"),
        ),
        sa.CheckConstraint(
            "study_id LIKE '__-%-______'", name=op.f("ck_participants_study_id_format")
        ),
        sa.CheckConstraint(
            "(strata_locked_at IS NULL) = (stratum IS NULL)",
            name=op.f("ck_participants_strata_locked"),
        ),
        sa.CheckConstraint(
            "age_at_entry BETWEEN 18 AND 110", name=op.f("ck_participants_age_at_entry")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_id"], ["users.id"], name=op.f("fk_participants_registered_by_id")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_participants_site_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("study_id", name=op.f("uq_participants_study_id")),
    )
    op.create_index(op.f("ix_participants_site_id"), "participants", ["site_id"], unique=False)

    op.create_table(
        "allocation_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("allocation_list_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("arm", sa.String(length=32), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("block_size", sa.SmallInteger(), nullable=False),
        sa.Column("used_by_participant_id", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unusable_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(used_by_participant_id IS NULL) = (used_at IS NULL)",
            name=op.f("ck_allocation_slots_used"),
        ),
        sa.CheckConstraint("block_number >= 1", name=op.f("ck_allocation_slots_block_number")),
        sa.CheckConstraint("block_size >= 1", name=op.f("ck_allocation_slots_block_size")),
        sa.CheckConstraint("position >= 1", name=op.f("ck_allocation_slots_position")),
        sa.CheckConstraint(
            "used_by_participant_id IS NULL OR unusable_reason IS NULL",
            name=op.f("ck_allocation_slots_used_or_unusable"),
        ),
        sa.ForeignKeyConstraint(
            ["allocation_list_id"],
            ["allocation_lists.id"],
            name=op.f("fk_allocation_slots_allocation_list_id"),
        ),
        sa.ForeignKeyConstraint(
            ["used_by_participant_id"],
            ["participants.id"],
            name=op.f("fk_allocation_slots_used_by_participant_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_slots")),
        sa.UniqueConstraint(
            "allocation_list_id",
            "stratum",
            "position",
            name=op.f("uq_allocation_slots_allocation_list_id_stratum_position"),
        ),
    )
    used = sa.text("used_by_participant_id IS NOT NULL")
    op.create_index(
        "uq_allocation_slots_used_by_participant_id",
        "allocation_slots",
        ["used_by_participant_id"],
        unique=True,
        sqlite_where=used,
        postgresql_where=used,
    )
    free_slot = sa.text("used_by_participant_id IS NULL AND unusable_reason IS NULL")
    op.create_index(
        "ix_allocation_slots_free",
        "allocation_slots",
        ["allocation_list_id", "stratum", "position"],
        unique=False,
        sqlite_where=free_slot,
        postgresql_where=free_slot,
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("consent_document_id", sa.Integer(), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_by_id", sa.Integer(), nullable=False),
        sa.Column("withdrawal_level", sa.String(length=32), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.Column("withdrawal_recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "withdrawal_level IN ('no_further_contact', 'no_further_data_collection',"
            " 'withdraw_data_use')",
            name=op.f("ck_consents_withdrawal_level"),
        ),
        sa.CheckConstraint(
            "(withdrawal_level IS NULL) = (withdrawn_at IS NULL)",
            name=op.f("ck_consents_withdrawal"),
        ),
        sa.CheckConstraint(
            "withdrawn_at IS NULL OR withdrawn_at >= consented_at", name=op.f("ck_consents_order")
        ),
        sa.ForeignKeyConstraint(
            ["consent_document_id"],
            ["consent_documents.id"],
            name=op.f("fk_consents_consent_document_id"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_consents_participant_id")
        ),
        sa.ForeignKeyConstraint(
            ["taken_by_id"], ["users.id"], name=op.f("fk_consents_taken_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawal_recorded_by_id"],
            ["users.id"],
            name=op.f("fk_consents_withdrawal_recorded_by_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(
        op.f("ix_consents_participant_id"), "consents", ["participant_id"], unique=False
    )

    op.create_table(
        "deaths",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("date_of_death", sa.Date(), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("cause_icd10", sa.String(length=8), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "cause IN ('breast_cancer', 'other_cancer', 'other', 'unknown')",
            name=op.f("ck_deaths_cause"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_deaths_participant_id")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_deaths_recorded_by_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deaths")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_deaths_participant_id")),
    )
    op.create_table(
        "eligibility_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("protocol_version_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "result IN ('eligible', 'screen_failure', 'incomplete')",
            name=op.f("ck_eligibility_assessments_result"),
        ),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"], ["users.id"], name=op.f("fk_eligibility_assessments_assessed_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_eligibility_assessments_participant_id"),
        ),
        sa.ForeignKeyConstraint(
            ["protocol_version_id"],
            ["protocol_versions.id"],
            name=op.f("fk_eligibility_assessments_protocol_version_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_assessments")),
    )
    op.create_index(
        op.f("ix_eligibility_assessments_participant_id"),
        "eligibility_assessments",
        ["participant_id"],
        unique=False,
    )

    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("diagnosis_date", sa.Date(), nullable=False),
        sa.Column("detection_mode", sa.String(length=16), nullable=False),
        sa.Column("behaviour", sa.String(length=8), nullable=False),
        sa.Column("t_category", sa.String(length=16), nullable=True),
        sa.Column("n_category", sa.String(length=16), nullable=True),
        sa.Column("m_category", sa.String(length=16), nullable=True),
        sa.Column("stage_group", sa.String(length=8), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("behaviour IN ('invasive', 'dcis')", name=op.f("ck_outcomes_behaviour")),
        sa.CheckConstraint(
            "detection_mode IN ('screen_detected', 'interval', 'clinical')",
            name=op.f("ck_outcomes_detection_mode"),
        ),
        sa.CheckConstraint(
            "m_category IS NULL OR m_category LIKE 'M%' "
            "OR m_category LIKE 'cM%' OR m_category LIKE 'pM%'",
            name=op.f("ck_outcomes_m_category"),
        ),
        sa.CheckConstraint(
            "n_category IS NULL OR n_category LIKE 'N%' "
            "OR n_category LIKE 'cN%' OR n_category LIKE 'pN%'",
            name=op.f("ck_outcomes_n_category"),
        ),
        sa.CheckConstraint(
            "stage_group IN ('0', 'IA', 'IB', 'IIA', 'IIB', 'IIIA', 'IIIB', 'IIIC', 'IV')",
            name=op.f("ck_outcomes_stage_group"),
        ),
        sa.CheckConstraint(
            "t_category IS NULL OR t_category LIKE 'T%' "
            "OR t_category LIKE 'cT%' OR t_category LIKE 'pT%'",
            name=op.f("ck_outcomes_t_category"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_outcomes_participant_id")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_outcomes_recorded_by_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
    )
    op.create_index(
        op.f("ix_outcomes_participant_id"), "outcomes", ["participant_id"], unique=False
    )

    op.create_table(
        "participant_identities",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("date_of_birth_enc", sa.LargeBinary(), nullable=False),
        sa.Column("contact_enc", sa.LargeBinary(), nullable=True),
        sa.Column("national_id_enc", sa.LargeBinary(), nullable=True),
        sa.Column("national_id_hmac", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(national_id_hmac) = 64", name=op.f("ck_participant_identities_national_id_hmac")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_participant_identities_participant_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_participant_identities")),
        sa.UniqueConstraint(
            "national_id_hmac", name=op.f("uq_participant_identities_national_id_hmac")
        ),
    )
    op.create_table(
        "questionnaire_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("timepoint_months", sa.SmallInteger(), nullable=False),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "timepoint_months IN (0, 3, 12, 48)",
            name=op.f("ck_questionnaire_responses_timepoint_months"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_questionnaire_responses_participant_id"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_questionnaire_responses_recorded_by_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_responses")),
        sa.UniqueConstraint(
            "participant_id",
            "timepoint_months",
            "instrument",
            name="uq_questionnaire_responses_timepoint",
        ),
    )
    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "level IN ('low', 'average', 'high', 'very_high')",
            name=op.f("ck_risk_assessments_level"),
        ),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"], ["users.id"], name=op.f("fk_risk_assessments_assessed_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_risk_assessments_participant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
    )
    op.create_index(
        op.f("ix_risk_assessments_participant_id"),
        "risk_assessments",
        ["participant_id"],
        unique=False,
    )

    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("allocation_slot_id", sa.Integer(), nullable=True),
        sa.Column("arm", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("draw", sa.JSON(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("allocated_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "method <> 'list' OR allocation_slot_id IS NOT NULL",
            name=op.f("ck_allocations_list_slot"),
        ),
        sa.CheckConstraint(
            "method <> 'override' OR override_reason IS NOT NULL",
            name=op.f("ck_allocations_override"),
        ),
        sa.CheckConstraint(
            "method IN ('list', 'minimisation', 'override')", name=op.f("ck_allocations_method")
        ),
        sa.ForeignKeyConstraint(
            ["allocated_by_id"], ["users.id"], name=op.f("fk_allocations_allocated_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["allocation_slot_id"],
            ["allocation_slots.id"],
            name=op.f("fk_allocations_allocation_slot_id"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_allocations_participant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
        sa.UniqueConstraint("allocation_slot_id", name=op.f("uq_allocations_allocation_slot_id")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_allocations_participant_id")),
    )
    op.create_table(
        "screening_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("risk_assessment_id", sa.Integer(), nullable=True),
        sa.Column("arm", sa.String(length=32), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_screening_plans_created_by_id")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_screening_plans_participant_id")
        ),
        sa.ForeignKeyConstraint(
            ["risk_assessment_id"],
            ["risk_assessments.id"],
            name=op.f("fk_screening_plans_risk_assessment_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_plans")),
    )
    op.create_index(
        op.f("ix_screening_plans_participant_id"),
        "screening_plans",
        ["participant_id"],
        unique=False,
    )

    op.create_table(
        "planned_exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screening_plan_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("modality", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "modality IN ('mammography', 'tomosynthesis', 'mri', 'ultrasound',"
            " 'clinical_examination')",
            name=op.f("ck_planned_exams_modality"),
        ),
        sa.CheckConstraint(
            "window_start <= due_date AND due_date <= window_end",
            name=op.f("ck_planned_exams_window"),
        ),
        sa.ForeignKeyConstraint(
            ["screening_plan_id"],
            ["screening_plans.id"],
            name=op.f("fk_planned_exams_screening_plan_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_exams")),
    )
    op.create_index(
        op.f("ix_planned_exams_screening_plan_id"),
        "planned_exams",
        ["screening_plan_id"],
        unique=False,
    )

    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("planned_exam_id", sa.Integer(), nullable=True),
        sa.Column("visit_type", sa.String(length=16), nullable=False),
        sa.Column("modality", sa.String(length=32), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("performed_date", sa.Date(), nullable=True),
        sa.Column("birads", sa.SmallInteger(), nullable=True),
        sa.Column("recall", sa.Boolean(), nullable=True),
        sa.Column("biopsy", sa.Boolean(), nullable=True),
        sa.Column("histology", sa.String(length=32), nullable=True),
        sa.Column("histology_detail", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "histology IN ('benign', 'high_risk_lesion', 'dcis', 'invasive', 'inconclusive')",
            name=op.f("ck_visits_histology"),
        ),
        sa.CheckConstraint(
            "modality IN ('mammography', 'tomosynthesis', 'mri', 'ultrasound',"
            " 'clinical_examination')",
            name=op.f("ck_visits_modality"),
        ),
        sa.CheckConstraint(
            "visit_type IN ('screening', 'recall', 'diagnostic', 'follow_up', 'end_of_study')",
            name=op.f("ck_visits_visit_type"),
        ),
        sa.CheckConstraint("birads BETWEEN 0 AND 6", name=op.f("ck_visits_birads")),
        sa.CheckConstraint(
            "window_start <= due_date AND due_date <= window_end", name=op.f("ck_visits_window")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_visits_participant_id")
        ),
        sa.ForeignKeyConstraint(
            ["planned_exam_id"], ["planned_exams.id"], name=op.f("fk_visits_planned_exam_id")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_visits_recorded_by_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_index(
        op.f("ix_visits_participant_id_due_date"),
        "visits",
        ["participant_id", "due_date"],
        unique=False,
    )
    op.create_index(
        op.f("ix_visits_performed_date_window_start"),
        "visits",
        ["performed_date", "window_start"],
        unique=False,
    )
    _create_append_only_triggers()


_APPEND_ONLY_MESSAGE = "audit_events is append-only"


def _create_append_only_triggers() -> None:
    """Refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) of audit events at the database level."""
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION pebs_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{_APPEND_ONLY_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION pebs_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION pebs_audit_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY_MESSAGE}'); END"
        )


_TABLES_CHILDREN_FIRST = (
    "visits",
    "planned_exams",
    "screening_plans",
    "allocations",
    "risk_assessments",
    "questionnaire_responses",
    "participant_identities",
    "outcomes",
    "eligibility_assessments",
    "deaths",
    "consents",
    "allocation_slots",
    "participants",
    "allocation_lists",
    "users",
    "sites",
    "consent_documents",
    "protocol_versions",
    "countries",
    "arms",
    "studies",
    "audit_events",
)


def downgrade() -> None:
    for table in _TABLES_CHILDREN_FIRST:
        op.drop_table(table)  # drops its indexes and triggers too
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION pebs_audit_append_only()")
