"""The data monitoring committee's reports (``pebs dsmb``): the open report, pooled over arms,
and the closed report, by arm, with the group-sequential monitoring of the primary endpoint.

:func:`run_dsmb_report` reads the study from the live database or a study-lock snapshot file
(read-only, its SHA-256 computed; :mod:`pebs.services.analysis._source`) and writes into a
folder:

- ``tables.json``: the cover (study, kind, software version, source and its SHA-256, seed, data
  cut) and every table; byte-identical for the same source and software version (no time, no
  user in it);
- one CSV per table (:data:`OPEN_TABLES`, :data:`CLOSED_TABLES`), same property;
- ``recruitment.png``/``.svg``; in the closed report also ``boundaries.png``/``.svg``;
- ``report.html`` and ``report.pdf`` (English; their cover adds who produced them and when).

Open report (:data:`~pebs.services.actor.Action.DSMB_OPEN_REPORT`: statistician, data manager):
recruitment by month against target per country and site, baseline characteristics, data
completeness (missing forms per site, time point and form; open and answered queries per site),
follow-up, withdrawals, event rates and the plan's per-protocol exclusions, all pooled over
arms. Closed report (:data:`~pebs.services.actor.Action.DSMB_CLOSED_REPORT`: statistician
only): the same tables by arm, the primary endpoint per arm with its non-inferiority tests, and
the monitoring of :mod:`pebs.services.analysis._dsmb_monitoring`.

The report draws no random numbers: ``seed`` is ``null`` in the outputs and the audit event,
and the cover says so. Each production appends a ``dsmb_report`` event to the live database's
audit trail: who, the kind, the source, its SHA-256, the data cut, the software version, the
seed, the look (closed report) and the SHA-256 of every output file.

The completeness tables are the counts of the missing-forms report
(:func:`~pebs.services.trial.missing_forms.missing_forms_report`) and of the query dashboard
(:func:`~pebs.services.queries.ages.query_ages`), read with the monitor's read-only reach of
the whole study: the report holds counts per site, never a woman's forms or queries.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.io.atomic import write_atomically
from pebs.io.errors import FileAccessError
from pebs.reports.dsmb_report import dsmb_outputs
from pebs.services.actor import Action, Actor, require
from pebs.services.analysis._dsmb_data import DsmbData, read_dsmb_data
from pebs.services.analysis._dsmb_monitoring import monitoring
from pebs.services.analysis._dsmb_tables import ALL, table, women_tables
from pebs.services.analysis._results import _binary
from pebs.services.analysis._source import (
    AnalysisSource,
    open_snapshot,
    recorded_lock,
    snapshot_data_cut,
    study_plan,
)
from pebs.services.errors import InvalidInput, NotFound
from pebs.services.queries.ages import query_ages
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import transaction
from pebs.services.trial import recruitment
from pebs.services.trial.missing_forms import missing_forms_report
from pebs.services.trial.study_rules import study_named
from pebs.store.audit import append_event
from pebs.store.models import AuditEvent
from pebs.trial.analysis_plan import AnalysisPlan

__all__ = [
    "CLOSED_TABLES",
    "KINDS",
    "OPEN_TABLES",
    "DsmbReport",
    "dsmb_archive",
    "dsmb_report_files",
    "dsmb_run_name",
    "dsmb_tables",
    "is_dsmb_run_name",
    "run_dsmb_report",
]

KINDS = ("open", "closed")
OPEN_TABLES = ("recruitment", "baseline", "age", "missing_forms", "queries", "follow_up",
               "withdrawals", "events", "deviations")  # fmt: skip
CLOSED_TABLES = (*OPEN_TABLES, "primary", "monitoring")
ACTION = "dsmb_report"
_RUN = re.compile(r"(open|closed)-[a-z0-9][a-z0-9._-]{0,63}-\d{8}T\d{6}\.\d{6}Z")


@dataclass(frozen=True)
class DsmbReport:
    kind: str
    folder: Path
    source: AnalysisSource
    document: dict[str, Any]
    """``tables.json`` as written."""
    files: dict[str, str]
    """Output file name -> SHA-256 (hex), as audited."""


def dsmb_report_files(kind: str) -> tuple[str, ...]:
    """The files a report of ``kind`` writes."""
    names = OPEN_TABLES if kind == "open" else CLOSED_TABLES
    plots = ("recruitment",) if kind == "open" else ("recruitment", "boundaries")
    figures = tuple(f"{p}.{e}" for p in plots for e in ("png", "svg"))
    return ("tables.json", *(f"{n}.csv" for n in names), *figures, "report.html", "report.pdf")


def _action(kind: str) -> Action:
    if kind not in KINDS:
        raise InvalidInput(f"{kind!r} is not a report kind; allowed: {', '.join(KINDS)}",
                           field="kind")  # fmt: skip
    return Action.DSMB_OPEN_REPORT if kind == "open" else Action.DSMB_CLOSED_REPORT


def _reader(actor: Actor) -> Actor:
    """The monitor's read-only reach, for the completeness counts (module docstring)."""
    return Actor(username=actor.username, role="monitor", user_id=actor.user_id)


def _earlier_looks(session: Session, study: str, data_cut: date) -> list[date]:
    """Data cuts of the closed reports the source's audit trail records with a look (their
    monitoring computed), before ``data_cut``."""
    cuts = set()
    for new in session.scalars(
        select(AuditEvent.new).where(AuditEvent.action == ACTION, AuditEvent.entity_id == study)
    ):
        if (new or {}).get("kind") == "closed" and new.get("look") is not None:
            cut = date.fromisoformat(new["data_cut"])
            if cut < data_cut:
                cuts.add(cut)
    return sorted(cuts)


@dataclass(frozen=True)
class _Read:
    plan: AnalysisPlan
    arms: tuple[str, ...]
    data: DsmbData
    earlier: list[date]
    study_pk: int


def _read(sessions: sessionmaker[Session], actor: Actor, study: str, data_cut: date | None):
    with sessions() as session, session.begin():
        found = study_named(session, study)
        plan = study_plan(session, study)
        cut = data_cut or snapshot_data_cut(session, found.id, study)
        data = read_dsmb_data(session, actor, found.id, cut)
        earlier = _earlier_looks(session, study, cut)
        study_pk = found.id
    arms = (plan.reference_arm, plan.comparison_arm)
    tables = {"recruitment": _recruitment(sessions, actor, study, cut)}
    tables |= _completeness(sessions, actor, study, cut)
    return _Read(plan, arms, data, earlier, study_pk), tables


def _recruitment(sessions, actor: Actor, study: str, cut: date) -> dict[str, Any]:
    """Cumulative registered and randomised women per month, to the data cut's month."""
    rows = []
    last = cut.strftime("%Y-%m")
    for by in ("country", "site"):
        found = recruitment(sessions, actor, study, by=by, period="month")
        for series in (*found.series, replace(found.total, name="all")):
            for i, period in enumerate(found.periods):
                if period <= last:
                    rows.append([by, series.key, series.target, period,
                                 series.registered[i], series.randomised[i]])  # fmt: skip
    return table(["by", "key", "target", "month", "registered", "randomised"], rows)


def _completeness(sessions, actor: Actor, study: str, cut: date) -> dict[str, Any]:
    reader = _reader(actor)
    forms = missing_forms_report(sessions, reader, study, on=cut, limit=1)
    end_of_cut = datetime(cut.year, cut.month, cut.day, 23, 59, 59, tzinfo=UTC)
    queries = query_ages(sessions, reader, study, on=end_of_cut)
    return {
        "missing_forms": table(
            ["site", "time_point", "form", "missing"],
            [[c.site, c.time_point, c.form, c.n] for c in forms.counts],
        ),
        "queries": table(
            ["site", "open", "answered", "median_days_open", "max_days_open"],
            [
                [s.site, s.n_open, s.n_answered, s.median_days_open, s.max_days_open]
                for s in (*queries.sites, queries.total)
            ],
        ),
    }


def _primary(data: DsmbData, plan: AnalysisPlan) -> tuple[dict[str, Any], dict[str, Any]]:
    section = _binary([w.record for w in data.women], plan, plan.endpoint)
    rows = [[arm, a["events"], a["n"], a["proportion"], a["lower"], a["upper"]]
            for arm, a in section["arms"].items()]  # fmt: skip
    return table(["arm", "events", "women", "proportion", "lower", "upper"], rows), section


def _monitoring_table(section: dict[str, Any]) -> dict[str, Any]:
    columns = ["look", "data_cut", "information_planned", "information_fraction", "n_ref",
               "events_ref", "n_new", "events_new", "critical_value", "nominal_level",
               "alpha_spent", "z", "crossed"]  # fmt: skip
    return table(columns, [[row.get(c) for c in columns] for row in section.get("looks", [])])


@refuses_unstorable_text
def run_dsmb_report(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    kind: str,
    folder: Path,
    software_version: str,
    snapshot: Path | None = None,
    today: date | None = None,
    at: datetime | None = None,
) -> DsmbReport:
    """Produce the ``open`` or ``closed`` report into ``folder`` (module docstring)."""
    require(actor, _action(kind))
    now = (at or datetime.now(UTC)).astimezone(UTC)
    if snapshot is None:
        source = AnalysisSource("live", session_maker.kw["bind"].dialect.name, None)
        read, tables = _read(session_maker, actor, study, today or now.date())
    else:
        with open_snapshot(snapshot) as (source, sessions):
            read, tables = _read(sessions, actor, study, None)
    lock = None
    if source.sha256 is not None:
        with session_maker() as session, session.begin():
            found = recorded_lock(session, source.sha256)
            lock = None if found is None else f"{found.locked_by}, {found.locked_at.isoformat()}"
    closed = kind == "closed"
    tables |= women_tables(read.data, read.plan, read.arms if closed else None)
    document: dict[str, Any] = {
        "kind": kind,
        "study": study,
        "software": {"pebs": software_version},
        "source": {**source.as_json(), "study_lock": lock},
        "seed": None,
        "data_cut": read.data.data_cut.isoformat(),
        "plan": read.plan.as_json(),
        "groups": [*read.arms, ALL] if closed else [ALL],
        "counts": {
            "women": len(read.data.women),
            "randomised_after_data_cut": read.data.n_randomised_after_cut,
            "records_after_end_of_follow_up": read.data.n_records_after_end,
        },
    }
    if closed:
        tables["primary"], document["primary"] = _primary(read.data, read.plan)
        records = [w.record for w in read.data.women]
        document["monitoring"] = monitoring(records, read.plan, read.data.data_cut, read.earlier)
        tables["monitoring"] = _monitoring_table(document["monitoring"])
    document["tables"] = {name: tables[name] for name in (CLOSED_TABLES if closed else OPEN_TABLES)}
    cover = {"produced_by": actor.username, "produced_at": now.isoformat(timespec="seconds")}
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileAccessError(f"{folder}: cannot be created ({error.strerror})") from None
    outputs = dsmb_outputs(document, cover)
    for name in dsmb_report_files(kind):
        write_atomically(Path(folder) / name, lambda s, data=outputs[name]: s.write(data),
                         binary=True)  # fmt: skip
    files = {name: hashlib.sha256(outputs[name]).hexdigest() for name in dsmb_report_files(kind)}
    with transaction(session_maker) as session:
        append_event(
            session,
            actor=actor.username,
            action=ACTION,
            entity="study",
            entity_id=study,
            reason="data monitoring committee report",
            new={
                "kind": kind,
                "source": source.kind,
                "file": source.name,
                "sha256": source.sha256,
                "data_cut": document["data_cut"],
                "software": software_version,
                "seed": None,
                "look": _look_done(document) if closed else None,
                "files": files,
            },
            at=now,
        )
    return DsmbReport(kind, Path(folder), source, document, files)


def _look_done(document: dict[str, Any]) -> int | None:
    """The look a closed report tested (``None``: its monitoring was not computed, so it spent
    no alpha and is no look)."""
    watch = document["monitoring"]
    return None if "not_computed" in watch else watch["look"]


def dsmb_run_name(kind: str, study: str, at: datetime) -> str:
    """``<kind>-<study>-<UTC time>``: the folder of a report produced from the API or a page."""
    return f"{kind}-{study}-{at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}"


def is_dsmb_run_name(study: str, name: str) -> bool:
    """Whether ``name`` is a :func:`dsmb_run_name` of ``study``."""
    return _RUN.fullmatch(name) is not None and name.split("-", 1)[1].startswith(f"{study}-")


def _document(actor: Actor, folder: Path) -> dict[str, Any]:
    """The report's ``tables.json``, once the actor may read reports of its kind."""
    require(actor, Action.DSMB_OPEN_REPORT)  # every role that may read one kind or the other
    path = Path(folder) / "tables.json"
    if not path.is_file():
        raise NotFound(f"no DSMB report {Path(folder).name!r}")
    document = json.loads(path.read_text(encoding="utf-8"))
    require(actor, _action(document["kind"]))
    return document


def dsmb_tables(actor: Actor, folder: Path) -> dict[str, Any]:
    """The ``tables.json`` of the report in ``folder`` (the roles that may produce its kind)."""
    return _document(actor, folder)


def dsmb_archive(actor: Actor, folder: Path) -> bytes:
    """The files of the report in ``folder`` as one ZIP archive (the roles of its kind)."""
    kind = _document(actor, folder)["kind"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in dsmb_report_files(kind):
            path = Path(folder) / name
            if path.is_file():
                archive.write(path, name)
    return buffer.getvalue()
