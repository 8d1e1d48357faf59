"""The trial's analysis (``pebs analyse``): the analysis plan of the study run on its database.

:func:`run_analysis` reads the study's randomised women from the live database or from a
study-lock snapshot file (read-only; its SHA-256 computed, and matched against the study locks
the live database recorded), runs the analyses of the study's ``[analysis]`` plan
(:mod:`pebs.services.analysis._results`) and writes into a folder:

- ``results.json``: every result, machine-readable, with the source, its SHA-256, the software
  version, the data cut and who ran it;
- tables (CSV): ``primary.csv``, ``tests.csv``, ``secondary.csv``, ``time_to_event.csv``,
  ``screens.csv``, ``cancers.csv``, and ``analysis_data.csv`` (one row per woman, pseudonymised);
- ``cumulative_incidence.png`` / ``.svg``, ``consort.svg``, ``report.html`` and ``report.pdf``.

Statistician only (:data:`~pebs.services.actor.Action.ANALYSE`); each run appends an
``analysis_run`` event to the live database's audit trail (who, the source, its SHA-256, the
SHA-256 of ``results.json``). The data cut is the lock time of a snapshot (the latest lock of
the study it holds), the given day (default today, UTC) for the live database.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from pebs.io.atomic import write_atomically
from pebs.io.errors import FileAccessError
from pebs.reports.analysis_pdf import analysis_pdf
from pebs.reports.analysis_plots import cumulative_incidence_figure, save_figure
from pebs.reports.analysis_report import analysis_html
from pebs.reports.consort_svg import consort_svg
from pebs.services.actor import Action, Actor, require
from pebs.services.analysis._results import analyse_women, endpoint_time
from pebs.services.analysis._source import (
    AnalysisSource,
    open_snapshot,
    recorded_lock,
    snapshot_data_cut,
    study_plan,
)
from pebs.services.analysis._women import WomenData, read_women
from pebs.services.errors import NotFound
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import transaction
from pebs.services.trial import consort_flow
from pebs.services.trial.study_rules import study_named
from pebs.store.audit import append_event
from pebs.trial.analysis_plan import AnalysisPlan

__all__ = [
    "OUTPUT_FILES",
    "AnalysisRun",
    "analysis_archive",
    "analysis_results",
    "is_run_name",
    "run_analysis",
    "run_name",
]

OUTPUT_FILES = (
    "results.json",
    "primary.csv",
    "tests.csv",
    "secondary.csv",
    "time_to_event.csv",
    "screens.csv",
    "cancers.csv",
    "analysis_data.csv",
    "cumulative_incidence.png",
    "cumulative_incidence.svg",
    "consort.svg",
    "report.html",
    "report.pdf",
)
RUN_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}-\d{8}T\d{6}\.\d{6}Z")


@dataclass(frozen=True)
class AnalysisRun:
    folder: Path
    results: dict[str, Any]
    source: AnalysisSource
    results_sha256: str
    """SHA-256 of ``results.json`` as written (recorded in the audit trail)."""


def _read(
    sessions: sessionmaker[Session], actor: Actor, study: str, data_cut: date | None
) -> tuple[AnalysisPlan, WomenData, dict[str, Any]]:
    with sessions() as session, session.begin():
        found = study_named(session, study)
        plan = study_plan(session, study)
        if data_cut is None:  # a snapshot: the time of its latest lock of the study
            data_cut = snapshot_data_cut(session, found.id, study)
        women = read_women(session, actor, found.id, data_cut)
    flow = consort_flow(sessions, actor, study)
    return (
        plan,
        women,
        {
            "registered": flow.registered,
            "assessed": flow.assessed,
            "screen_failures": flow.screen_failures,
            "eligible": flow.eligible,
            "consented": flow.consented,
            "randomised": flow.randomised,
            "arms": {
                a.arm: {
                    "randomised": a.randomised,
                    "followed": a.followed,
                    "withdrawn": sum(a.withdrawn.values()),
                    "died": a.died,
                    "with_cancer": a.with_cancer,
                }
                for a in flow.arms
            },
        },
    )


@refuses_unstorable_text
def run_analysis(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    folder: Path,
    software_version: str,
    snapshot: Path | None = None,
    today: date | None = None,
    at: datetime | None = None,
) -> AnalysisRun:
    """Run the study's analysis plan and write its outputs into ``folder`` (module docstring)."""
    require(actor, Action.ANALYSE)
    now = (at or datetime.now(UTC)).astimezone(UTC)
    if snapshot is None:
        backend = session_maker.kw["bind"].dialect.name
        source = AnalysisSource("live", backend, None)
        plan, women, flow = _read(session_maker, actor, study, today or now.date())
    else:
        with open_snapshot(snapshot) as (source, sessions):
            plan, women, flow = _read(sessions, actor, study, None)
    lock = None
    if source.sha256 is not None:
        with session_maker() as session, session.begin():
            found = recorded_lock(session, source.sha256)
            lock = None if found is None else f"{found.locked_by}, {found.locked_at.isoformat()}"
    results = analyse_women(women, plan)
    results = {
        "study": study,
        "software": {"pebs": software_version},
        "source": {**source.as_json(), "study_lock": lock},
        "run_by": actor.username,
        "run_at": now.isoformat(timespec="seconds"),
        **results,
    }
    results["consort"] = flow
    digest = _write(Path(folder), results, women, plan)
    with transaction(session_maker) as session:
        append_event(
            session,
            actor=actor.username,
            action="analysis_run",
            entity="study",
            entity_id=study,
            reason="statistical analysis",
            new={
                "source": source.kind,
                "file": source.name,
                "sha256": source.sha256,
                "data_cut": results["data_cut"],
                "results_sha256": digest,
            },
            at=now,
        )
    return AnalysisRun(Path(folder), results, source, digest)


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    def write(stream) -> None:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)

    write_atomically(path, write)


def _write(folder: Path, results: dict[str, Any], women: WomenData, plan: AnalysisPlan) -> str:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileAccessError(f"{folder}: cannot be created ({error.strerror})") from None
    text = json.dumps(results, indent=2, sort_keys=True, allow_nan=False) + "\n"
    write_atomically(folder / "results.json", lambda s: s.write(text))
    _tables(folder, results, women, plan)
    figure = cumulative_incidence_figure(
        results["time_to_event"], title=f"{results['study']}: {plan.endpoint}"
    )
    save_figure(figure, folder)
    arms = {
        arm: {
            **counts,
            "analysed": results["counts"]["per_arm"].get(arm, 0),
            "per_protocol": results["primary"]["per_protocol"]["arms"].get(arm, {}).get("n", 0),
        }
        for arm, counts in results["consort"]["arms"].items()
    }
    svg = consort_svg(results["consort"], arms)
    write_atomically(folder / "consort.svg", lambda s: s.write(svg))
    html = analysis_html(results, figure="cumulative_incidence.svg", consort="consort.svg")
    write_atomically(folder / "report.html", lambda s: s.write(html))
    document = analysis_pdf(results, figure_png=folder / "cumulative_incidence.png")
    write_atomically(folder / "report.pdf", lambda s: s.write(document), binary=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _tables(folder: Path, results: dict[str, Any], women: WomenData, plan: AnalysisPlan) -> None:
    sections = [(name, plan.endpoint, section) for name, section in results["primary"].items()]
    sections += [
        ("intention_to_treat", name, section)
        for name, section in results["alternative_endpoints"].items()
    ]
    _csv(
        folder / "primary.csv",
        ["analysis_set", "endpoint", "arm", "events", "women", "proportion", "lower", "upper"],
        [
            [s, e, arm, a["events"], a["n"], a["proportion"], a["lower"], a["upper"]]
            for s, e, section in sections
            for arm, a in section["arms"].items()
        ],
    )
    tests = []
    for s, e, section in sections:
        for scale in ("ratio", "difference"):
            t = section.get(scale)
            if t is not None:
                tests.append(
                    [
                        s,
                        e,
                        scale,
                        t["method"],
                        t["estimate"],
                        t["lower"],
                        t["upper"],
                        t["z"],
                        t["p_value"],
                        t["margin"],
                        t["conclusion"],
                    ]
                )
        mh = section["mantel_haenszel"]
        if "risk_ratio" in mh:
            tests.append(
                [
                    s,
                    e,
                    "ratio",
                    "mantel-haenszel by country",
                    mh["risk_ratio"],
                    mh["lower"],
                    mh["upper"],
                    None,
                    mh["cmh_p_value"],
                    mh["margin"],
                    "non-inferior" if mh["noninferior"] else "not shown",
                ]
            )
    _csv(
        folder / "tests.csv",
        [
            "analysis_set",
            "endpoint",
            "scale",
            "method",
            "estimate",
            "lower",
            "upper",
            "z",
            "p_value",
            "margin",
            "conclusion",
        ],
        tests,
    )
    _csv(
        folder / "secondary.csv",
        [
            "breakdown",
            "arm",
            "group",
            "endpoint",
            "events",
            "women",
            "proportion",
            "lower",
            "upper",
        ],
        [
            [
                by,
                r["arm"],
                r["group"],
                r["endpoint"],
                r["events"],
                r["n"],
                r["proportion"],
                r["lower"],
                r["upper"],
            ]
            for by, rows in results["secondary"].items()
            for r in rows
        ],
    )
    _csv(
        folder / "time_to_event.csv",
        ["arm", "years", "aalen_johansen", "one_minus_km"],
        [
            [arm, t, aj, km]
            for arm, c in results["time_to_event"]["arms"].items()
            for t, aj, km in zip(c["times"], c["aalen_johansen"], c["one_minus_km"], strict=True)
        ],
    )
    _csv(
        folder / "screens.csv",
        ["arm", "modality", "examinations", "women", "per_woman"],
        [
            [r["arm"], r["modality"], r["examinations"], r["women"], r["per_woman"]]
            for r in results["screens"]
        ],
    )
    _csv(
        folder / "cancers.csv",
        ["arm", "behaviour", "stage_group", "t_group", "detection_mode", "n"],
        [
            [r[k] for k in ("arm", "behaviour", "stage_group", "t_group", "detection_mode", "n")]
            for r in results["cancers"]
        ],
    )
    rows = []
    for w in women.women:
        years, cause = endpoint_time(w, plan.endpoint, plan.horizon_years)
        rows.append(
            [
                w.study_id,
                w.arm,
                w.country,
                w.site,
                w.risk_level or "",
                w.randomised.isoformat(),
                w.end.isoformat(),
                w.end_reason,
                round(years, 6),
                cause,
                len(w.diagnoses),
                sum(1 for d in w.diagnoses if d.detection_mode == "interval"),
                sum(w.screens.values()),
                w.n_recalls,
                w.n_benign_biopsies,
                w.n_mri,
            ]
        )
    _csv(
        folder / "analysis_data.csv",
        [
            "study_id",
            "arm",
            "country",
            "site",
            "risk_level",
            "randomised",
            "end_of_follow_up",
            "end_reason",
            "endpoint_years",
            "endpoint_cause",
            "diagnoses",
            "interval_cancers",
            "screens",
            "recalls",
            "benign_biopsies",
            "mri",
        ],
        rows,
    )


def run_name(study: str, at: datetime) -> str:
    """``<study>-<UTC time>``: the folder of a run started at ``at`` from the API or a page."""
    return f"{study}-{at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}"


def is_run_name(study: str, name: str) -> bool:
    """Whether ``name`` is a :func:`run_name` of ``study`` (nothing else is a run's folder)."""
    return RUN_NAME.fullmatch(name) is not None and name.startswith(f"{study}-")


def analysis_results(actor: Actor, folder: Path) -> dict[str, Any]:
    """The ``results.json`` of the run in ``folder`` (statisticians only)."""
    require(actor, Action.ANALYSE)
    path = Path(folder) / "results.json"
    if not path.is_file():
        raise NotFound(f"no analysis run {Path(folder).name!r}")
    return json.loads(path.read_text(encoding="utf-8"))


def analysis_archive(actor: Actor, folder: Path) -> bytes:
    """The outputs of a run in ``folder`` (:data:`OUTPUT_FILES`) as one ZIP archive
    (statisticians only)."""
    require(actor, Action.ANALYSE)
    if not (Path(folder) / "results.json").is_file():
        raise NotFound(f"no analysis run {Path(folder).name!r}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in OUTPUT_FILES:
            path = Path(folder) / name
            if path.is_file():
                archive.write(path, name)
    return buffer.getvalue()
