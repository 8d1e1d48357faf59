"""Who is calling a use case (:class:`Actor`), and which roles may do what (:data:`PERMISSIONS`).

Entry points authenticate the user and build an :class:`Actor` from her account
(:func:`actor_for` or :meth:`Actor.from_user`); every use case checks its permission first and
reads participant data only through the actor's :attr:`~Actor.scope` (site roles: their site;
country coordinators: their country; central roles: everything). An out-of-scope participant is
reported as not found.

Roles (``docs/security.md`` §1):

=====================  ===========================================================================
role                   may
=====================  ===========================================================================
site_staff             register, assess, consent, randomise, record data and saliva kits at her
                       site
site_investigator      the same as site staff; signs the casebooks of her site
country_coordinator    the same, for every site of her country
data_manager           the same, for every site; manual allocation (override); locks forms,
                       casebooks and the study; the DSMB's open report (pooled over arms)
statistician           generate and verify allocation lists; mark a slot unusable; read
                       pseudonymised data; run the trial's analysis (``pebs analyse``); the
                       DSMB's open and closed reports (``pebs dsmb``)
monitor                read (participants, worklists); marks source data as verified
administrator          load study configurations, create users; no participant data
laboratory             receive shipments, import genotype batches; sees kit IDs and samples, never
                       a participant, her identity or her arm
=====================  ===========================================================================

Data queries (``docs/trial/queries.md``): the data manager and the monitor raise, close and
re-open them; site staff, site investigators and country coordinators answer them (or correct
the value) for their sites; every role that records data, and the monitor, reads them in its
scope. Only the data manager runs the edit checks over a whole study.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.errors import NotFound, PermissionDenied
from pebs.services.storable_text import refuses_unstorable_text
from pebs.store.models import User
from pebs.store.repositories import Scope, get_user
from pebs.trial.vocabularies import COUNTRY_ROLES, ROLES, SITE_ROLES

__all__ = [
    "LABORATORY_ROLE",
    "PERMISSIONS",
    "SYSTEM_ROLE",
    "Action",
    "Actor",
    "actor_for",
    "require",
]

LABORATORY_ROLE = "laboratory"
"""The central laboratory: sees kits and samples by kit ID, never a participant, her identity or
her arm (its participant scope is empty)."""
SYSTEM_ROLE = "administrator"
"""Role of :meth:`Actor.system` (operations run from the command line)."""


class Action(enum.StrEnum):
    """Use cases that need a permission."""

    LOAD_STUDY = "load a study configuration"
    REGISTER = "register a participant"
    READ_PARTICIPANT = "read participant data"
    ASSESS_ELIGIBILITY = "assess eligibility"
    RECORD_CONSENT = "record consent or withdrawal"
    GENERATE_LIST = "generate or verify an allocation list"
    ALLOCATE = "randomise a participant"
    OVERRIDE_ALLOCATION = "override an allocation"
    MARK_SLOT_UNUSABLE = "mark an allocation slot unusable"
    RECORD_RISK = "record a risk assessment or screening plan"
    RECORD_FOLLOW_UP = "record visits, outcomes, deaths and questionnaires"
    READ_WORKLIST = "read visit worklists"
    RECORD_SAMPLE = "assign, collect, ship or abandon saliva kits"
    READ_SAMPLES = "read saliva kits and samples"
    RECEIVE_SHIPMENT = "receive sample shipments at the laboratory"
    IMPORT_GENOTYPES = "import genotype batches from the laboratory"
    IMPORT_TRIAL = "import a whole trial's participants and records from files"
    RESOLVE_GENOTYPES = "resolve conflicting genotype results"
    ISSUE_LETTER = "render and issue letters to participants and their doctors"
    RECORD_CONSULTATION = "record that a risk result was explained"
    READ_QUERIES = "read data queries"
    RAISE_QUERY = "raise a data query"
    ANSWER_QUERY = "answer a data query (or correct the value it is about)"
    CLOSE_QUERY = "close or re-open a data query"
    RUN_EDIT_CHECKS = "run the study's edit checks over every participant"
    VERIFY_SOURCE_DATA = "mark form data as verified against the source documents"
    SIGN_CASEBOOK = "sign a participant's casebook"
    LOCK_DATA = "lock or unlock a participant's forms"
    LOCK_STUDY = "lock or unlock a whole study"
    ANALYSE = "run the trial's statistical analysis"
    DSMB_OPEN_REPORT = "produce the data monitoring committee's open report (pooled over arms)"
    DSMB_CLOSED_REPORT = "produce the data monitoring committee's closed report (by arm)"


_RECORDERS = frozenset({"site_staff", "site_investigator", "country_coordinator", "data_manager"})
_REVIEWERS = frozenset({"data_manager", "monitor"})
"""Who raises, closes and re-opens data queries; the site roles (and the country coordinator)
answer them. A data manager does not answer a site's query: the site answers for its own data."""

PERMISSIONS: dict[Action, frozenset[str]] = {
    Action.LOAD_STUDY: frozenset({"administrator"}),
    Action.REGISTER: _RECORDERS,
    Action.READ_PARTICIPANT: _RECORDERS | {"statistician", "monitor"},
    Action.ASSESS_ELIGIBILITY: _RECORDERS,
    Action.RECORD_CONSENT: _RECORDERS,
    Action.GENERATE_LIST: frozenset({"statistician"}),
    Action.ALLOCATE: _RECORDERS,
    Action.OVERRIDE_ALLOCATION: frozenset({"data_manager"}),
    Action.MARK_SLOT_UNUSABLE: frozenset({"statistician"}),
    Action.RECORD_RISK: _RECORDERS,
    Action.RECORD_FOLLOW_UP: _RECORDERS,
    Action.READ_WORKLIST: _RECORDERS | {"monitor"},
    Action.RECORD_SAMPLE: _RECORDERS,
    Action.READ_SAMPLES: _RECORDERS | {"monitor", LABORATORY_ROLE},
    Action.RECEIVE_SHIPMENT: frozenset({LABORATORY_ROLE, "data_manager"}),
    Action.IMPORT_GENOTYPES: frozenset({LABORATORY_ROLE, "data_manager"}),
    Action.IMPORT_TRIAL: frozenset({"data_manager"}),
    Action.RESOLVE_GENOTYPES: frozenset({"data_manager"}),
    Action.ISSUE_LETTER: _RECORDERS,
    Action.RECORD_CONSULTATION: _RECORDERS,
    Action.READ_QUERIES: _RECORDERS | {"monitor"},
    Action.RAISE_QUERY: _REVIEWERS,
    Action.ANSWER_QUERY: _RECORDERS - {"data_manager"},
    Action.CLOSE_QUERY: _REVIEWERS,
    Action.RUN_EDIT_CHECKS: frozenset({"data_manager"}),
    Action.VERIFY_SOURCE_DATA: frozenset({"monitor"}),
    Action.SIGN_CASEBOOK: frozenset({"site_investigator"}),
    Action.LOCK_DATA: frozenset({"data_manager"}),
    Action.LOCK_STUDY: frozenset({"data_manager"}),
    Action.ANALYSE: frozenset({"statistician"}),
    Action.DSMB_OPEN_REPORT: frozenset({"statistician", "data_manager"}),
    Action.DSMB_CLOSED_REPORT: frozenset({"statistician"}),
}
"""Action -> roles allowed to do it. Scope (site, country) is applied on top, in the queries."""


@dataclass(frozen=True)
class Actor:
    """The caller of a use case.

    ``user_id`` is ``None`` only for :meth:`system` (command-line operations); use cases that
    record who did something clinically (consent taken by, allocated by) need a real account.
    """

    username: str
    role: str
    user_id: int | None = None
    site_id: int | None = None
    country_id: int | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role {self.role!r} is unknown; roles: {', '.join(ROLES)}")
        if self.role in SITE_ROLES and self.site_id is None:
            raise ValueError(f"role {self.role} needs a site_id")
        if self.role in COUNTRY_ROLES and self.country_id is None:
            raise ValueError(f"role {self.role} needs a country_id")

    @classmethod
    def from_user(cls, user: User) -> Actor:
        """The actor of an active account; :class:`PermissionDenied` for a disabled one."""
        if not user.is_active:
            raise PermissionDenied(f"account {user.username!r} is disabled")
        return cls(
            username=user.username,
            role=user.role,
            user_id=user.id,
            site_id=user.site_id if user.role in SITE_ROLES else None,
            country_id=user.country_id if user.role in COUNTRY_ROLES else None,
        )

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """An operator without an account (``pebs study load`` from the command line)."""
        return cls(username=name, role=SYSTEM_ROLE)

    @property
    def scope(self) -> Scope:
        """The participants this actor may see (see :class:`pebs.store.repositories.Scope`)."""
        if self.role in SITE_ROLES:
            return Scope.for_sites(self.site_id)  # type: ignore[arg-type]
        if self.role in COUNTRY_ROLES:
            return Scope.for_countries(self.country_id)  # type: ignore[arg-type]
        if self.role == LABORATORY_ROLE:
            return Scope.nothing()
        return Scope.everything()

    def sees_site(self, site_id: int, country_id: int) -> bool:
        """Whether a site is in this actor's scope."""
        if self.role in SITE_ROLES:
            return site_id == self.site_id
        if self.role in COUNTRY_ROLES:
            return country_id == self.country_id
        return self.role != LABORATORY_ROLE


def require(actor: Actor, action: Action, *, needs_account: bool = False) -> None:
    """Raise :class:`PermissionDenied` unless ``actor``'s role may do ``action``."""
    allowed = PERMISSIONS[action]
    if actor.role not in allowed:
        roles = ", ".join(sorted(allowed))
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not {action}; allowed roles: {roles}",
            message_code="error.role_may_not",
            values={"username": actor.username, "role": actor.role, "action": action.name.lower(),
                    "allowed_roles": tuple(sorted(allowed))},
        )  # fmt: skip
    if needs_account and actor.user_id is None:
        raise PermissionDenied(f"to {action} needs a user account, not {actor.username!r}")


@refuses_unstorable_text
def actor_for(session_maker: sessionmaker[Session], username: str) -> Actor:
    """The actor of an existing, active account (:class:`NotFound` for an unknown username)."""
    with session_maker() as session, session.begin():
        user = get_user(session, username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        return Actor.from_user(user)
