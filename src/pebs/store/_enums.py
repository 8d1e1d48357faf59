"""Enumerations of the store: allowed values of the ``CHECK`` constraints.

Values owned by the core are imported from it (one source of truth). The migrations hold literal
copies, and ``tests/store/test_migrations.py`` checks that the migrated database allows exactly
these values, so a change here (or in the core) needs a new migration.
"""

from pebs.risk.personalised.levels import LEVELS
from pebs.screening.policy import MODALITIES as POLICY_MODALITIES
from pebs.trial.eligibility import STATUSES
from pebs.trial.pathway import WITHDRAWAL_LEVELS as PATHWAY_WITHDRAWAL_LEVELS
from pebs.trial.pathway import State
from pebs.trial.staging import STAGE_GROUPS as AJCC_STAGE_GROUPS

ROLES = (
    "site_staff", "site_investigator", "country_coordinator", "data_manager", "statistician",
    "monitor", "administrator",
)  # fmt: skip
SITE_ROLES = ("site_staff", "site_investigator")
COUNTRY_ROLES = ("country_coordinator",)
PARTICIPANT_STATES = tuple(state.value for state in State)
ELIGIBILITY_RESULTS = tuple(STATUSES)
WITHDRAWAL_LEVELS = tuple(PATHWAY_WITHDRAWAL_LEVELS)
STAGE_GROUPS = tuple(AJCC_STAGE_GROUPS)
RISK_LEVELS = tuple(LEVELS)
MODALITIES = tuple(POLICY_MODALITIES)
ALLOCATION_METHODS = ("list", "minimisation", "override")
VISIT_TYPES = ("screening", "recall", "diagnostic", "follow_up", "end_of_study")
HISTOLOGIES = ("benign", "high_risk_lesion", "dcis", "invasive", "inconclusive")
DETECTION_MODES = ("screen_detected", "interval", "clinical")
BEHAVIOURS = ("invasive", "dcis")
DEATH_CAUSES = ("breast_cancer", "other_cancer", "other", "unknown")
QUESTIONNAIRE_TIMEPOINTS = (0, 3, 12, 48)
