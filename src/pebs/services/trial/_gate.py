"""The allocation gate with its facts read from the database, and the stratification fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from pebs.screening import age_on
from pebs.services.errors import AllocationRefused, Conflict
from pebs.store.randomisation import GateRecords, gate_records
from pebs.trial import StrataDefinition, allocation_gate, stratum_values

__all__ = ["GateFacts", "OpenGate", "open_gate", "strata_fields"]


@dataclass(frozen=True)
class GateFacts:
    """Who is to be randomised: what the gate needs besides her stored records."""

    participant_id: int
    study_id: str
    """Her pseudonymous study ID (for messages)."""
    status: str
    study_pk: int
    study_name: str
    site_code: str
    country_code: str
    birth_date: date


@dataclass(frozen=True)
class OpenGate:
    """She may be randomised now, in ``stratum``."""

    stratum: str
    age: int
    strata: StrataDefinition


def open_gate(
    session: Session,
    facts: GateFacts,
    strata: StrataDefinition,
    day: date,
    records: GateRecords | None = None,
) -> OpenGate:
    """Check the gate (eligible under the protocol in force, consent, strata values) on ``day``.

    ``records``: her stored gate records on ``day`` when the caller has already read them
    (:func:`pebs.store.randomisation.allocation_records`); read here otherwise.
    :class:`AllocationRefused` lists every unmet condition at once.
    """
    age = age_on(facts.birth_date, day)
    if records is None:
        records = gate_records(session, facts.participant_id, facts.study_pk, day)
    eligibility, consented, in_force = records
    if in_force is None:
        raise Conflict(f"study {facts.study_name!r}: no protocol version is in force on {day}")
    extra: list[str] = []
    eligible = eligibility is not None and eligibility.result == "eligible"
    if eligible and eligibility.protocol_version_id != in_force.id:
        extra.append(
            f"eligibility was assessed under protocol {eligibility.protocol_version}, but protocol "
            f"{in_force.version} is in force on {day}: assess her again"
        )
        eligible = False
    gate = allocation_gate(
        facts.status,
        eligible=eligible,
        consent_recorded=consented,
        strata=strata,
        site=facts.site_code,
        country=facts.country_code,
        age=age,
    )
    if not gate.allowed:
        reasons = (*gate.reasons, *extra)
        raise AllocationRefused(
            f"{facts.study_id} cannot be randomised: " + "; ".join(reasons), reasons
        )
    return OpenGate(gate.stratum, age, strata)  # type: ignore[arg-type]


def strata_fields(gate: OpenGate, age_band: str | None, at: datetime) -> dict[str, object]:
    """Her stratification fields as locked at allocation (also what the audit event records)."""
    values = stratum_values(gate.stratum, gate.strata)
    return {
        "age_band": values.get("age_band", age_band),
        "stratum": gate.stratum,
        "strata": {**values, "age": gate.age},
        "strata_locked_at": at,
    }
