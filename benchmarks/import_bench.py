"""A whole trial migrated into pebs: 85,000 women through ``pebs import``'s service, from CSV
files and from CDISC ODM, each into a fresh SQLite database; the audit chain verified
afterwards.

The women are the trial benchmark's cohort (:func:`benchmarks.trial_bench_data.cohort`, fixed
seed), each with a ``source_id`` and the allocation the source system made (arms alternating,
method ``minimisation``, a reference): registered, assessed eligible, consented, allocated
(imported), risk assessed and planned. One woman in :data:`VISIT_EVERY` has a performed
screening visit (BI-RADS 1) in the visits file, one in :data:`DIAGNOSIS_EVERY` a diagnosis in
the diagnoses file. The lists hold a few slots per stratum: an imported allocation takes none.

The ODM file is the first database's own export (with the women's identities in a CSV file
keyed by their study IDs); its import is timed like the CSV one.

Goal: 85,000 women in < 180 s for each format (wall, reading the files included), nothing
refused, the audit chain verifying.

    python -m benchmarks.import_bench              # 85,000 women
    python -m benchmarks.import_bench --quick      # 5,000 women
    python -m benchmarks.import_bench --csv-only   # the CSV import only
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.report import goal_line
from benchmarks.trial_bench_data import (
    AT,
    ELIGIBLE,
    GOAL_TRIAL_S,
    HMAC_KEY,
    LANGUAGE,
    STUDY,
    Woman,
    cohort,
    fresh_database,
)

ACTOR = "demo-data-manager"
VISIT_EVERY = 4
DIAGNOSIS_EVERY = 200


def _progress(message: str) -> None:
    print(f"[import-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write_files(women: list[Woman], directory: Path) -> tuple[Path, Path, Path]:
    """The women's enrolment file, their visits and diagnoses files."""
    from pebs.services.trial.enrolment_file import CRITERION_PREFIX

    criteria = [f"{CRITERION_PREFIX}{name}" for name in ELIGIBLE]
    answers = ["yes" if ELIGIBLE[name] else "no" for name in ELIGIBLE]
    steps = [(AT + timedelta(minutes=k)).isoformat() for k in range(5)]
    women_path, visits_path, diagnoses_path = (
        directory / "women.csv", directory / "visits.csv", directory / "diagnoses.csv"
    )  # fmt: skip
    with (
        women_path.open("w", newline="", encoding="utf-8") as women_file,
        visits_path.open("w", newline="", encoding="utf-8") as visits_file,
        diagnoses_path.open("w", newline="", encoding="utf-8") as diagnoses_file,
    ):
        rows, visits, diagnoses = (
            csv.writer(women_file), csv.writer(visits_file), csv.writer(diagnoses_file)
        )  # fmt: skip
        rows.writerow([
            "source_id", "site", "name", "birth_date", "national_id", "registered_at", *criteria,
            "assessed_at", "consented_at", "consent_language", "allocated_at", "arm",
            "allocation_method", "allocation_reference", "n_biopsies", "atypical_hyperplasia",
            "age_at_menarche", "age_at_first_birth", "n_relatives", "density", "prs_z",
            "risk_at",
        ])  # fmt: skip
        visits.writerow(["source_id", "visit_type", "modality", "performed_date", "birads"])
        diagnoses.writerow(["source_id", "diagnosis_date", "detection_mode", "behaviour", "t",
                            "n", "m"])  # fmt: skip
        day = AT.date().isoformat()
        for i, woman in enumerate(women):
            biopsies, menarche, first_birth, nulliparous, relatives, density, prs = woman.factors
            source_id = f"SRC-{i:06d}"
            rows.writerow([
                source_id, woman.site, f"Woman {woman.national_id}", woman.birth_date.isoformat(),
                woman.national_id, steps[0], *answers, steps[1], steps[2],
                LANGUAGE[woman.site[:2]], steps[3], ("risk-based", "standard")[i % 2],
                "minimisation", f"R{i:06d}", biopsies, "no" if biopsies else "", menarche,
                "nulliparous" if nulliparous else first_birth, relatives, density, prs, steps[4],
            ])  # fmt: skip
            if i % VISIT_EVERY == 0:
                visits.writerow([source_id, "screening", "mammography", day, 1])
            if i % DIAGNOSIS_EVERY == 0:
                diagnoses.writerow([source_id, day, "screen_detected", "invasive", "pT1c", "pN0",
                                    "cM0"])  # fmt: skip
    return women_path, visits_path, diagnoses_path


def _counts(url: str) -> tuple[bool, int, float, dict[str, int]]:
    from sqlalchemy import func, select

    from pebs.services.trial import verify_audit_chain
    from pebs.store.engine import create_engine_for, session_factory
    from pebs.store.models import Allocation, AllocationSlot, Outcome, Participant, Visit

    engine = create_engine_for(url)
    try:
        sessions = session_factory(engine, read_only=True)
        start = time.perf_counter()
        report = verify_audit_chain(sessions)
        seconds = time.perf_counter() - start
        with sessions() as session:
            rows = {
                "participants": session.scalar(select(func.count()).select_from(Participant)),
                "imported allocations": session.scalar(
                    select(func.count()).where(Allocation.method == "imported")
                ),
                "slots": session.scalar(select(func.count()).select_from(AllocationSlot)),
                "visits recorded": session.scalar(
                    select(func.count()).where(Visit.performed_date.is_not(None))
                ),
                "diagnoses": session.scalar(select(func.count()).select_from(Outcome)),
            }
    finally:
        engine.dispose()
    return report.ok, report.n_events, seconds, {k: int(v or 0) for k, v in rows.items()}


@dataclass
class Run:
    """One timed import into a fresh database."""

    format: str
    wall_s: float
    cpu_s: float
    summary: Any
    study_ids: dict[int, str]
    """Study ID of each line of the women's file (CSV runs)."""
    ok: bool = False
    n_events: int = 0
    verify_s: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    size_mib: float = 0.0


def _import(db: Any, run: Callable[..., Any], file_format: str) -> Run:
    """``run(sessions, actor, keys, on_outcome)`` timed on ``db``, then its audit chain
    verified and its rows counted."""
    from pebs.risk.personalised import country_model
    from pebs.services.actor import actor_for
    from pebs.services.keys import IdentityKeys
    from pebs.store.engine import create_engine_for, session_factory

    study_ids: dict[int, str] = {}

    def on_outcome(outcome: Any) -> None:
        if outcome.file == "women" and outcome.study_id:
            study_ids[outcome.line] = outcome.study_id

    engine = create_engine_for(db.url)
    try:
        sessions = session_factory(engine)
        keys = IdentityKeys.from_settings_values([db.fernet_key], HMAC_KEY)
        actor = actor_for(sessions, ACTOR)
        for country in LANGUAGE:  # calibrated once per process, before the clock
            country_model(country)
        wall, cpu = time.perf_counter(), time.process_time()
        summary = run(sessions, actor, keys, on_outcome)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        engine.dispose()
    _progress(f"  -> {wall:,.1f} s; verifying the audit chain")
    result = Run(file_format, wall, cpu, summary, study_ids)
    result.ok, result.n_events, result.verify_s, result.rows = _counts(db.url)
    result.size_mib = db.size_bytes() / 2**20
    return result


def _export_odm(db: Any, path: Path) -> float:
    """Seconds to export the database's participants as ODM to ``path``."""
    from pebs.services.actor import actor_for
    from pebs.services.trial import export_participants
    from pebs.store.engine import create_engine_for, session_factory

    engine = create_engine_for(db.url)
    try:
        sessions = session_factory(engine)
        start = time.perf_counter()
        with path.open("wb") as handle:
            for chunk in export_participants(sessions, actor_for(sessions, ACTOR), STUDY,
                                             format="odm").chunks:  # fmt: skip
                handle.write(chunk)
        return time.perf_counter() - start
    finally:
        engine.dispose()


def _write_identities(women: list[Woman], study_ids: dict[int, str], path: Path) -> None:
    """The women's identities keyed by the study IDs the CSV import gave them (their ODM
    SubjectKey)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_id", "site", "name", "birth_date", "national_id"])
        for line, woman in enumerate(women, 2):
            writer.writerow([study_ids[line], woman.site, f"Woman {woman.national_id}",
                             woman.birth_date.isoformat(), woman.national_id])  # fmt: skip


def measure(n: int, directory: Path, *, odm: bool = True) -> tuple[list[str], bool]:
    """Import ``n`` women from CSV into a fresh SQLite database, export them as ODM, import
    that into another fresh database (``odm=False``: the CSV import only); the report lines and
    whether every goal was met."""
    from pebs.services.trial.trial_import import import_csv_files, import_odm_file

    women = cohort(n)
    women_path, visits_path, diagnoses_path = write_files(women, directory)
    odm_path, identities_path = directory / "trial.xml", directory / "identities.csv"
    runs: list[Run] = []
    with fresh_database("sqlite", []) as db:  # lists: a few slots, none taken
        _progress(f"importing {n:,} women (CSV)")
        runs.append(_import(db, lambda s, a, k, on: import_csv_files(
            s, a, k, STUDY, women_path, visits=visits_path, diagnoses=diagnoses_path,
            on_outcome=on), "csv"))  # fmt: skip
        if odm:
            _progress("exporting them as ODM")
            export_s = _export_odm(db, odm_path)
    if odm:
        _write_identities(women, runs[0].study_ids, identities_path)
        with fresh_database("sqlite", []) as db:
            _progress(f"importing {n:,} women (ODM, {odm_path.stat().st_size / 2**20:,.0f} MiB)")
            runs.append(_import(db, lambda s, a, k, on: import_odm_file(
                s, a, k, STUDY, odm_path, identities=identities_path, on_outcome=on,
            ), "odm"))  # fmt: skip
    goal = GOAL_TRIAL_S * n / 85_000
    lines = [
        "| format | women | wall (s) | CPU (s) | CPU ms/woman | women/s | commits | "
        "audit events (verify s) | refused | rows |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    met = True
    for run in runs:
        refused = sum(run.summary.refused.values())
        lines.append(
            f"| {run.format} | {n:,} | {run.wall_s:,.1f} | {run.cpu_s:,.1f} | "
            f"{1000 * run.cpu_s / n:.2f} | {n / run.wall_s:,.0f} | {run.summary.commits:,} | "
            f"{run.n_events:,} "
            f"({'ok' if run.ok else 'BROKEN'}, {run.verify_s:.1f} s) | {refused:,} | "
            + ", ".join(f"{k} {v:,}" for k, v in run.rows.items())
            + f"; {run.size_mib:,.1f} MiB |"
        )
        met = met and run.wall_s < goal and run.ok and refused == 0
        met = met and run.rows["participants"] == n
    if odm:
        lines += ["", f"ODM export of the first database (not timed against the goal): "
                  f"{export_s:,.1f} s, {odm_path.stat().st_size / 2**20:,.1f} MiB."]  # fmt: skip
    lines.append("")
    lines += [goal_line(f"import-{run.format}-sqlite-{n}-women-s", run.wall_s, goal,
                        at_most=True) for run in runs]  # fmt: skip
    return lines, met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--women", type=int, default=85_000)
    parser.add_argument("--quick", action="store_true", help="5,000 women")
    parser.add_argument(
        "--csv-only", action="store_true", help="the CSV import only (no ODM export and import)"
    )
    parser.add_argument("--tmpdir", type=Path, help="where to write the files (default: /tmp)")
    args = parser.parse_args(argv)
    n = 5_000 if args.quick else args.women
    with tempfile.TemporaryDirectory(prefix="pebs-import-bench-", dir=args.tmpdir) as folder:
        lines, met = measure(n, Path(folder), odm=not args.csv_only)
    print("### Importing a whole trial (`pebs import`)\n")
    command = "python -m benchmarks.import_bench" + " --quick" * args.quick
    command += f" --women {n}" * (not args.quick and n != 85_000) + " --csv-only" * args.csv_only
    what = (
        "CSV only"
        if args.csv_only
        else "CSV, then the ODM export of the result into a new database"
    )
    print(f"`{command}`: {n:,} women ({what}) with imported "
          f"allocations, a visit for one in {VISIT_EVERY}, a diagnosis for one in "
          f"{DIAGNOSIS_EVERY}; SQLite (WAL, synchronous=FULL); goal < 180 s per 85,000 women "
          "with the audit chain verifying.\n")  # fmt: skip
    print("\n".join(lines))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
