"""The trial platform's vocabularies: the values a stored field may take.

One source of truth for every side: the store's ``CHECK`` constraints (:mod:`pebs.store.models`),
the services' checks, the API schema's enums and the pages' choice lists. Values owned by a rule
of the core are taken from it (the pathway's states, the eligibility statuses, the AJCC stage
groups, the risk levels, the screening modalities). The database migrations hold literal copies,
and ``tests/store/test_migrations.py`` checks that the migrated database allows exactly these
values, so a change here (or in the rules they come from) needs a new migration.

>>> PARTICIPANT_STATES[0], "dcis" in BEHAVIOURS, QUESTIONNAIRE_TIMEPOINTS
('registered', True, (0, 3, 12, 48))
"""

from __future__ import annotations

from pebs.risk.levels import LEVELS
from pebs.screening.policy import MODALITIES as POLICY_MODALITIES
from pebs.trial.eligibility import STATUSES
from pebs.trial.pathway import WITHDRAWAL_LEVELS as PATHWAY_WITHDRAWAL_LEVELS
from pebs.trial.pathway import State
from pebs.trial.staging import STAGE_GROUPS as AJCC_STAGE_GROUPS

__all__ = [
    "ALLOCATION_METHODS",
    "BEHAVIOURS",
    "BREAST_DENSITIES",
    "CONSULTATION_MODES",
    "COUNTRY_ROLES",
    "DEATH_CAUSES",
    "DETECTION_MODES",
    "ELIGIBILITY_RESULTS",
    "HISTOLOGIES",
    "LANGUAGES",
    "LETTER_KINDS",
    "LETTER_RECIPIENTS",
    "MODALITIES",
    "PARTICIPANT_ROLES",
    "PARTICIPANT_STATES",
    "QUERY_KINDS",
    "QUERY_STATES",
    "QUERY_STEPS",
    "QUESTIONNAIRE_TIMEPOINTS",
    "RISK_LEVELS",
    "ROLES",
    "SITE_ROLES",
    "STAGE_GROUPS",
    "VISIT_TYPES",
    "WITHDRAWAL_LEVELS",
]

ROLES = (
    "site_staff", "site_investigator", "country_coordinator", "data_manager", "statistician",
    "monitor", "administrator", "laboratory",
)  # fmt: skip
"""The roles of the platform's users (one per account)."""
PARTICIPANT_ROLES = tuple(role for role in ROLES if role != "laboratory")
"""Roles whose accounts may be given participant data (the laboratory sees kits only)."""
SITE_ROLES = ("site_staff", "site_investigator")
"""Roles tied to one site."""
COUNTRY_ROLES = ("country_coordinator",)
"""Roles tied to one country."""
PARTICIPANT_STATES = tuple(state.value for state in State)
"""A participant's pathway state (:class:`pebs.trial.pathway.State`)."""
ELIGIBILITY_RESULTS = tuple(STATUSES)
"""The outcome of an eligibility check (:data:`pebs.trial.eligibility.STATUSES`)."""
WITHDRAWAL_LEVELS = tuple(PATHWAY_WITHDRAWAL_LEVELS)
"""How far a participant withdraws (:data:`pebs.trial.pathway.WITHDRAWAL_LEVELS`)."""
STAGE_GROUPS = tuple(AJCC_STAGE_GROUPS)
"""AJCC 8th anatomic stage groups (:data:`pebs.trial.staging.STAGE_GROUPS`)."""
RISK_LEVELS = tuple(LEVELS)
"""Risk levels, lowest first (:data:`pebs.risk.levels.LEVELS`)."""
MODALITIES = tuple(POLICY_MODALITIES)
"""Screening examinations (:data:`pebs.screening.policy.MODALITIES`)."""
ALLOCATION_METHODS = ("list", "minimisation", "override", "imported")
"""How an arm was allocated: from the allocation list, by minimisation, overridden, or imported
(made by the system the trial migrated from, kept as it was made there)."""
VISIT_TYPES = ("screening", "recall", "diagnostic", "follow_up", "end_of_study")
HISTOLOGIES = ("benign", "high_risk_lesion", "dcis", "invasive", "inconclusive")
"""The result of a biopsy."""
DETECTION_MODES = ("screen_detected", "interval", "clinical")
"""How a breast cancer was found."""
BEHAVIOURS = ("invasive", "dcis")
"""A breast cancer's behaviour: invasive, or ductal carcinoma in situ."""
DEATH_CAUSES = ("breast_cancer", "other_cancer", "other", "unknown")
QUESTIONNAIRE_TIMEPOINTS = (0, 3, 12, 48)
"""Months after randomisation at which the questionnaires are answered."""
BREAST_DENSITIES = ("a", "b", "c", "d")
"""BI-RADS 5th edition breast density categories, read on a mammogram."""
LANGUAGES = ("en", "fr", "it", "nl", "he", "es")
"""Languages of the pages and letters (ISO 639-1), in the order the language menu shows them."""
LETTER_KINDS = ("risk_result", "standard_arm", "recollection", "end_of_study")
"""Letters to a participant: her risk result and plan (risk-based arm), the information that she
follows her national programme (standard arm), a request to give saliva again (failed sample),
and the invitation to the end-of-study visit."""
LETTER_RECIPIENTS = ("woman", "doctor")
"""Whom a letter is written to: the participant, or her doctor (a copy of her risk result with
the model's inputs, components, name and version)."""
CONSULTATION_MODES = ("visit", "phone")
"""How a risk result was explained to her: at a visit or by telephone."""
QUERY_STATES = ("open", "answered", "closed")
"""A data query's state: raised and waiting for the site, answered by the site (waiting for
review), closed by the reviewer (or by itself when an edit check's data is fixed)."""
QUERY_KINDS = ("manual", "edit_check")
"""Who raised a data query: a data manager or monitor, or an edit check of the study."""
QUERY_STEPS = ("raise", "answer", "close", "reopen")
"""The steps of a data query's thread (an answer may carry a corrected value)."""
