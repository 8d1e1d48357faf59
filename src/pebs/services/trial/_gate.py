"""The allocation gate with its facts read from the database, and the locking of strata fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from pebs.screening import age_on
from pebs.services.trial._participants import Subject, birth_date
from pebs.services.trial._study_rules import protocol_in_force, strata_of
from pebs.services.trial.errors import AllocationRefused
from pebs.services.trial.keys import IdentityKeys
from pebs.store.models import ProtocolVersion, Study
from pebs.store.repositories import active_consent, latest_eligibility
from pebs.trial import StrataDefinition, allocation_gate, stratum_values


@dataclass(frozen=True)
class OpenGate:
    """She may be randomised now, in ``stratum``."""

    stratum: str
    age: int
    strata: StrataDefinition


def open_gate(
    session: Session, keys: IdentityKeys, subject: Subject, study: Study, day: date
) -> OpenGate:
    """Check the gate (eligible under the protocol in force, consent, strata values) on ``day``.

    :class:`AllocationRefused` lists every unmet condition at once.
    """
    participant = subject.participant
    strata = strata_of(study)
    age = age_on(birth_date(session, keys, participant), day)
    eligibility = latest_eligibility(session, participant.id)
    in_force = protocol_in_force(session, study, day)
    extra: list[str] = []
    eligible = eligibility is not None and eligibility.result == "eligible"
    if eligible and eligibility.protocol_version_id != in_force.id:
        assessed = session.get(ProtocolVersion, eligibility.protocol_version_id)
        extra.append(
            f"eligibility was assessed under protocol {assessed.version if assessed else '?'}, "
            f"but protocol {in_force.version} is in force on {day}: assess her again"
        )
        eligible = False
    gate = allocation_gate(
        participant.status,
        eligible=eligible,
        consent_recorded=active_consent(session, participant.id) is not None,
        strata=strata,
        site=subject.site.code,
        country=subject.country.code,
        age=age,
    )
    if not gate.allowed:
        reasons = (*gate.reasons, *extra)
        raise AllocationRefused(
            f"{participant.study_id} cannot be randomised: " + "; ".join(reasons), reasons
        )
    return OpenGate(gate.stratum, age, strata)  # type: ignore[arg-type]


def lock_strata_fields(subject: Subject, gate: OpenGate, at: datetime) -> dict[str, object]:
    """Set and lock her stratification fields; returns them for the audit event."""
    participant = subject.participant
    values = stratum_values(gate.stratum, gate.strata)
    participant.age_band = values.get("age_band", participant.age_band)
    participant.stratum = gate.stratum
    participant.strata = {**values, "age": gate.age}
    participant.strata_locked_at = at
    return {"stratum": gate.stratum, "strata": participant.strata, "strata_locked_at": at}
