"""Tampering with the tables or the audit chain is detected by ``pebs audit verify --deep`` and
by ``pebs check``, on SQLite and PostgreSQL.

A database with 40 synthetic participants (the demo seed, entered through the use cases) is
built once per backend; each test gets its own copy, changes it the way someone with write
access to the database (or to a backup) could, and requires the change to be reported, naming
the row that was changed. The expected rows come from the tampering itself (the ids it
touched), never from the verification's output.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, select, text, update
from sqlalchemy.engine import make_url

from pebs.cli import main
from pebs.services.actor import Actor, actor_for
from pebs.services.errors import SignatureRejected
from pebs.services.keys import IdentityKeys
from pebs.services.operations import (
    BackupManifest,
    backup_database,
    deep_verify_database,
    manifest_path,
    restore_database,
    run_checks,
)
from pebs.services.trial import load_study_config
from pebs.services.trial.demo_data import seed_demo_participants
from pebs.store import IdentityCipher
from pebs.store.engine import create_engine_for, session_factory
from pebs.store.models import (
    Allocation,
    AllocationSlot,
    AuditEvent,
    Base,
    Consent,
    Participant,
    ParticipantIdentity,
    RiskAssessment,
    RiskQuestionnaire,
    Sample,
    ScreeningPlan,
    Shipment,
    Site,
    Visit,
)

KEYS = IdentityKeys.from_settings_values([IdentityCipher.generate_key()], b"h" * 32)
INSTALLATION_KEY = b"installation hmac key of the tests, 32+ bytes"
TODAY = date(2025, 6, 1)
DEEP = "tables match the audit trail"
CHAIN = "audit chain intact"


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def backend(request: pytest.FixtureRequest) -> str:
    """Module-scoped here: the seeded database is built once per backend."""
    return request.param


def _schema(database_url: str) -> str:
    return make_url(database_url).query["options"].removeprefix("-csearch_path=")


def _seed(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        sessions = session_factory(engine)
        load_study_config(sessions, Actor.system("ops"), "mypebs-demo", demo_users=True)
        seed_demo_participants(
            sessions, actor_for(sessions, "demo-data-manager"), KEYS, "mypebs-demo", n=40,
            today=TODAY, statistician=actor_for(sessions, "demo-statistician"),
        )  # fmt: skip
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def seeded(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The seeded database: a SQLite file, or a PostgreSQL schema (dropped afterwards)."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("seeded") / "pebs.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        _seed(f"sqlite:///{path}")
        yield f"sqlite:///{path}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    script: str = request.getfixturevalue("_postgres_migration_sql")
    schema = f"pebs_seeded_{uuid.uuid4().hex[:12]}"
    script = script.replace("BEGIN;", f'BEGIN;\nSET LOCAL search_path TO "{schema}";', 1)
    with admin.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        autocommit.exec_driver_sql(script)
    seeded_url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        _seed(seeded_url.render_as_string(hide_password=False))
        yield seeded_url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def copy_url(url: str, seeded: str, backend: str, request: pytest.FixtureRequest) -> str:
    """A copy of the seeded database, for one test to tamper with."""
    if backend == "sqlite":
        path = Path(make_url(url).database)
        shutil.copyfile(make_url(seeded).database, path)
        os.chmod(path, 0o600)  # as an installation must (pebs check)
        return url
    admin: Engine = request.getfixturevalue("postgres_admin")
    source, target = _schema(seeded), _schema(url)
    with admin.begin() as connection:
        for table in Base.metadata.sorted_tables:  # parents first: foreign keys hold
            order = " ORDER BY id" if "id" in table.c else ""  # audit events: each after its link
            connection.execute(text(
                f'INSERT INTO "{target}"."{table.name}" SELECT * FROM "{source}"."{table.name}"'
                + order
            ))  # fmt: skip
            if "id" in table.c:  # a row a tampering adds takes the next id, as in the seeded one
                copied = f'"{target}"."{table.name}"'
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{copied}', 'id'), "
                    f"coalesce(max(id), 0) + 1, false) FROM {copied}"
                ))  # fmt: skip
    return url


# --- the tamperings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What the verification must report: mismatched rows (``table``, ``row``), or a broken
    chain."""

    rows: tuple[tuple[str, str], ...] = ()
    chain_broken: bool = False


def _other_arm(arm: str) -> str:
    return "standard" if arm == "risk-based" else "risk-based"


def _audit_triggers_off(connection: Connection) -> None:
    """What someone rewriting the chain does first: the append-only triggers go."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        connection.execute(text("DROP TRIGGER audit_events_no_update"))
        connection.execute(text("DROP TRIGGER audit_events_no_delete"))


def edit_allocation_arm(connection: Connection) -> Expected:
    allocation_id, arm = connection.execute(
        select(Allocation.id, Allocation.arm).where(Allocation.method == "list").limit(1)
    ).one()
    connection.execute(
        update(Allocation).where(Allocation.id == allocation_id).values(arm=_other_arm(arm))
    )
    return Expected(
        (
            ("allocations", f"allocation {allocation_id}"),
            ("allocations ~ allocation_slots", f"allocation {allocation_id}"),
        )
    )


def swap_two_allocations(connection: Connection) -> Expected:
    """Two women exchange arms, with their slots, so that allocations and slots still agree."""
    columns = (Allocation.id, Allocation.participant_id, Allocation.arm,
               Allocation.allocation_slot_id, AllocationSlot.used_at)  # fmt: skip
    pairs = select(*columns).join(
        AllocationSlot, AllocationSlot.id == Allocation.allocation_slot_id
    )
    a = connection.execute(pairs.where(Allocation.arm == "standard").limit(1)).one()
    b = connection.execute(pairs.where(Allocation.arm == "risk-based").limit(1)).one()

    def allocation(row, **values) -> None:
        connection.execute(update(Allocation).where(Allocation.id == row.id).values(**values))

    def slot(slot_id: int, participant_id: int | None, at) -> None:
        connection.execute(
            update(AllocationSlot)
            .where(AllocationSlot.id == slot_id)
            .values(used_by_participant_id=participant_id, used_at=at)
        )

    free = connection.execute(
        select(func.min(AllocationSlot.id)).where(AllocationSlot.used_by_participant_id.is_(None))
    ).scalar_one()
    allocation(a, allocation_slot_id=free)  # slot ids are unique: one is parked meanwhile
    allocation(b, arm=a.arm, allocation_slot_id=a.allocation_slot_id)
    allocation(a, arm=b.arm, allocation_slot_id=b.allocation_slot_id)
    slot(a.allocation_slot_id, None, None)
    slot(b.allocation_slot_id, a.participant_id, b.used_at)
    slot(a.allocation_slot_id, b.participant_id, a.used_at)
    return Expected(
        (
            ("allocations", f"allocation {a.id}"),
            ("allocations", f"allocation {b.id}"),
            ("allocation_slots", f"allocation slot {a.allocation_slot_id}"),
            ("allocation_slots", f"allocation slot {b.allocation_slot_id}"),
        )
    )


def delete_a_consent(connection: Connection) -> Expected:
    consent_id = connection.execute(select(func.min(Consent.id))).scalar_one()
    connection.execute(Consent.__table__.delete().where(Consent.id == consent_id))
    return Expected((("consents", f"consent {consent_id}"),))


def insert_a_participant(connection: Connection) -> Expected:
    site_id, site_code = connection.execute(select(Site.id, Site.code).limit(1)).one()
    new_id = connection.execute(select(func.max(Participant.id))).scalar_one() + 1
    when = connection.execute(select(func.max(Participant.registered_at))).scalar_one()
    study_id = f"{site_code}-999999"
    row = {
        "id": new_id,
        "study_id": study_id,
        "site_id": site_id,
        "status": "registered",
        "age_at_entry": 52,
        "age_band": "50-59",
        "is_test": False,
        "registered_at": when,
    }
    connection.execute(Participant.__table__.insert().values(**row))
    return Expected((("participants", f"participant {study_id}"),))


def edit_a_stored_risk(connection: Connection) -> Expected:
    risk_id, outputs = connection.execute(
        select(RiskAssessment.id, RiskAssessment.outputs).order_by(RiskAssessment.id).limit(1)
    ).one()
    edited = {**outputs, "risk_5y": outputs["risk_5y"] / 2}
    connection.execute(
        update(RiskAssessment).where(RiskAssessment.id == risk_id).values(outputs=edited)
    )
    return Expected((("risk_assessments", f"risk assessment {risk_id}"),))


def edit_a_plan(connection: Connection) -> Expected:
    plan_id, end = connection.execute(
        select(ScreeningPlan.id, ScreeningPlan.end_date).order_by(ScreeningPlan.id).limit(1)
    ).one()
    connection.execute(
        update(ScreeningPlan)
        .where(ScreeningPlan.id == plan_id)
        .values(end_date=end + timedelta(days=365))
    )
    return Expected((("screening_plans", f"screening plan {plan_id}"),))


def edit_an_identity(connection: Connection) -> Expected:
    """Her name becomes another woman's (a valid ciphertext: only the digest can tell)."""
    rows = connection.execute(
        select(ParticipantIdentity.participant_id, ParticipantIdentity.name_enc)
        .order_by(ParticipantIdentity.participant_id)
        .limit(2)
    ).all()
    connection.execute(
        update(ParticipantIdentity)
        .where(ParticipantIdentity.participant_id == rows[0].participant_id)
        .values(name_enc=rows[1].name_enc)
    )
    study_id = connection.execute(
        select(Participant.study_id).where(Participant.id == rows[0].participant_id)
    ).scalar_one()
    return Expected((("participant_identities", f"identity of {study_id}"),))


def edit_an_allocation_slot(connection: Connection) -> Expected:
    """An unused slot gets the other arm: the next woman of that stratum would get it."""
    slot_id, list_id, arm = connection.execute(
        select(AllocationSlot.id, AllocationSlot.allocation_list_id, AllocationSlot.arm)
        .where(AllocationSlot.used_by_participant_id.is_(None))
        .order_by(AllocationSlot.id)
        .limit(1)
    ).one()
    connection.execute(
        update(AllocationSlot).where(AllocationSlot.id == slot_id).values(arm=_other_arm(arm))
    )
    return Expected((("allocation_lists ~ allocation_slots", f"allocation list {list_id}"),))


def truncate_the_chain(connection: Connection) -> Expected:
    """The last three events go: the chain that remains is internally consistent."""
    _audit_triggers_off(connection)
    last = connection.execute(select(func.max(AuditEvent.id))).scalar_one()
    removed = connection.execute(
        select(AuditEvent.entity, AuditEvent.entity_id).where(AuditEvent.id > last - 3)
    ).all()
    connection.execute(AuditEvent.__table__.delete().where(AuditEvent.id > last - 3))
    tables = {"participant": "participants", "death": "deaths", "visit": "visits",
              "questionnaire_response": "questionnaire_responses", "sample": "samples"}  # fmt: skip
    labels = {"participant": "participant", "death": "death", "visit": "visit",
              "questionnaire_response": "questionnaire", "sample": "sample"}  # fmt: skip
    return Expected(tuple((tables[e.entity], f"{labels[e.entity]} {e.entity_id}") for e in removed))


def reorder_events(connection: Connection) -> Expected:
    """Events 20 and 21 exchange places."""
    _audit_triggers_off(connection)
    events = AuditEvent.__table__
    parked = 10**12
    connection.execute(update(events).where(events.c.id == 20).values(id=parked))
    connection.execute(update(events).where(events.c.id == 21).values(id=20))
    connection.execute(update(events).where(events.c.id == parked).values(id=21))
    return Expected(chain_broken=True)


def mark_a_used_slot_free(connection: Connection) -> Expected:
    """A used slot is made free again: it would be handed out a second time."""
    slot_id = connection.execute(
        select(AllocationSlot.id)
        .where(AllocationSlot.used_by_participant_id.is_not(None))
        .order_by(AllocationSlot.id)
        .limit(1)
    ).scalar_one()
    connection.execute(
        update(AllocationSlot)
        .where(AllocationSlot.id == slot_id)
        .values(used_by_participant_id=None, used_at=None)
    )
    return Expected((("allocation_slots", f"allocation slot {slot_id}"),))


def give_a_kit_to_another_woman(connection: Connection) -> Expected:
    """A kit (the demo gives one to each woman randomised to the risk-based arm) is moved to
    another woman: her genotype result would be read as someone else's."""
    kit_id, owner = connection.execute(
        select(Sample.kit_id, Sample.participant_id).order_by(Sample.id).limit(1)
    ).one()
    other = connection.execute(
        select(func.min(Participant.id)).where(Participant.id != owner)
    ).scalar_one()
    connection.execute(update(Sample).where(Sample.kit_id == kit_id).values(participant_id=other))
    return Expected((("samples", f"sample {kit_id}"),))


def slip_a_kit_into_a_made_up_shipment(connection: Connection) -> Expected:
    """A shipment row written by hand, and an assigned kit marked as shipped in it."""
    kit_id, site_id = connection.execute(
        select(Sample.kit_id, Participant.site_id)
        .join(Participant, Participant.id == Sample.participant_id)
        .where(Sample.state == "assigned")
        .order_by(Sample.id)
        .limit(1)
    ).one()
    site_code = connection.execute(select(Site.code).where(Site.id == site_id)).scalar_one()
    reference = f"{site_code}-S9999"
    shipment_id = connection.execute(
        Shipment.__table__.insert()
        .values(reference=reference, site_id=site_id, shipped_on=TODAY,
                shipped_at=connection.execute(select(func.max(AuditEvent.at))).scalar_one())
        .returning(Shipment.id)
    ).scalar_one()  # fmt: skip
    connection.execute(
        update(Sample).where(Sample.kit_id == kit_id).values(state="shipped",
                                                             shipment_id=shipment_id)
    )  # fmt: skip
    return Expected((("shipments", f"shipment {reference}"), ("samples", f"sample {kit_id}")))


def slip_in_a_risk_questionnaire(connection: Connection) -> Expected:
    """Risk answers written by hand for a woman: her risk would be computed from them."""
    participant_id = connection.execute(select(func.min(Participant.id))).scalar_one()
    new_id = connection.execute(
        RiskQuestionnaire.__table__.insert()
        .values(participant_id=participant_id, answered_on=TODAY,
                answers={"n_biopsies": 2, "atypical_hyperplasia": True, "age_at_menarche": 10,
                         "age_at_first_birth": "nulliparous", "n_relatives": 2},
                recorded_at=connection.execute(select(func.max(AuditEvent.at))).scalar_one())
        .returning(RiskQuestionnaire.id)
    ).scalar_one()  # fmt: skip
    return Expected((("risk_questionnaires", f"risk questionnaire {new_id}"),))


def give_a_mammogram_a_density(connection: Connection) -> Expected:
    """A denser reading written on a performed visit: her baseline density would change."""
    visit_id = connection.execute(
        select(func.min(Visit.id)).where(Visit.performed_date.is_not(None))
    ).scalar_one()
    connection.execute(
        update(Visit).where(Visit.id == visit_id).values(density="d", density_reader="nobody")
    )
    return Expected((("visits", f"visit {visit_id}"),))


TAMPERINGS: tuple[Callable[[Connection], Expected], ...] = (
    edit_allocation_arm,
    swap_two_allocations,
    delete_a_consent,
    insert_a_participant,
    edit_a_stored_risk,
    edit_a_plan,
    edit_an_identity,
    edit_an_allocation_slot,
    truncate_the_chain,
    reorder_events,
    mark_a_used_slot_free,
    give_a_kit_to_another_woman,
    slip_a_kit_into_a_made_up_shipment,
    slip_in_a_risk_questionnaire,
    give_a_mammogram_a_density,
)


def _tamper(database_url: str, tampering: Callable[[Connection], Expected]) -> Expected:
    engine = create_engine_for(database_url)
    try:
        with engine.begin() as connection:
            return tampering(connection)
    finally:
        engine.dispose()


def _cli(database_url: str, argv: list[str], monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setenv("PEBS_DATABASE_URL", database_url)
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_untouched_copy_matches_its_audit_trail(copy_url: str, monkeypatch, capsys) -> None:
    report = deep_verify_database(copy_url)
    assert report.ok, report.mismatches
    assert report.mismatches == ()
    counted = {table.table: table.n_rows for table in report.tables}
    engine = create_engine_for(copy_url)
    try:
        with engine.connect() as connection:  # counted independently of the verification
            for table in ("participants", "allocations", "consents", "allocation_slots"):
                assert (
                    counted[table]
                    == connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                )
    finally:
        engine.dispose()
    assert all(table.n_unverified == 0 for table in report.tables)  # this release audits all
    code, out = _cli(copy_url, ["audit", "verify", "--deep"], monkeypatch, capsys)
    assert code == 0, out
    assert "match the audit trail" in out
    assert run_checks(database_url=copy_url, environment="development", keys=KEYS).ok


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=lambda t: t.__name__)
def test_tampering_is_detected(
    copy_url: str, tampering: Callable[[Connection], Expected], monkeypatch, capsys
) -> None:
    expected = _tamper(copy_url, tampering)

    report = deep_verify_database(copy_url)
    assert not report.ok
    if expected.chain_broken:
        assert not report.chain_ok
    else:
        assert report.chain_ok  # the chain alone cannot see it
        found = {(m.table, m.row) for m in report.mismatches}
        missing = [row for row in expected.rows if row not in found]
        assert not missing, (missing, report.mismatches)

    code, out = _cli(copy_url, ["audit", "verify", "--deep"], monkeypatch, capsys)
    assert code == 1, out
    if expected.chain_broken:
        assert "audit chain BROKEN" in out
    for table, row in expected.rows:
        assert re.search(rf"^  {re.escape(table)}: {re.escape(row)}: ", out, re.M), out

    checks = run_checks(database_url=copy_url, environment="development", keys=KEYS)
    assert not checks.ok
    assert (CHAIN if expected.chain_broken else DEEP) in checks.failed


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_allocation_edited_in_a_backup_is_caught(copy_url: str, tmp_path: Path) -> None:
    """The attack that a SHA-256 alone let through: edit ``allocations.arm`` in a backup and
    recompute the manifest's SHA-256. The signature refuses it; someone who also holds the
    installation's key gets it restored, and reported."""
    backup = tmp_path / "backup.db"
    backup_database(copy_url, backup, operator="cli:tester", installation_key=INSTALLATION_KEY)
    expected = _tamper(f"sqlite:///{backup}", edit_allocation_arm)
    manifest = json.loads(manifest_path(backup).read_text(encoding="utf-8"))
    manifest["sha256"] = hashlib.sha256(backup.read_bytes()).hexdigest()
    manifest_path(backup).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(SignatureRejected):
        restore_database(copy_url, backup, operator="cli:tester",
                         installation_key=INSTALLATION_KEY, force=True)  # fmt: skip

    manifest_path(backup).unlink()
    BackupManifest(**manifest).signed(INSTALLATION_KEY).write(manifest_path(backup))
    done = restore_database(copy_url, backup, operator="cli:tester",
                            installation_key=INSTALLATION_KEY, force=True)  # fmt: skip
    assert done.chain.ok
    assert not done.ok
    assert {(m.table, m.row) for m in done.deep.mismatches} == set(expected.rows)
