"""A whole trial migrated into pebs: 85,000 women through ``pebs import``'s service, CSV (and
CDISC ODM when the reader is there), SQLite; the audit chain verified afterwards.

The women are the trial benchmark's cohort (:func:`benchmarks.trial_bench_data.cohort`, fixed
seed), each with a ``source_id`` and the allocation the source system made (arms alternating,
method ``minimisation``, a reference): registered, assessed eligible, consented, allocated
(imported), risk assessed and planned. One woman in :data:`VISIT_EVERY` has a performed
screening visit (BI-RADS 1) in the visits file, one in :data:`DIAGNOSIS_EVERY` a diagnosis in
the diagnoses file. The lists hold a few slots per stratum: an imported allocation takes none.

Goal: 85,000 women in < 180 s (wall, reading the files included), the audit chain verifying.

    python -m benchmarks.import_bench              # 85,000 women
    python -m benchmarks.import_bench --quick      # 5,000 women
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import timedelta
from pathlib import Path

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


def measure(n: int, directory: Path | None) -> tuple[list[str], bool]:
    """Import ``n`` women from CSV into a fresh SQLite database; the report lines and whether
    every goal was met."""
    from pebs.risk.personalised import country_model
    from pebs.services.actor import actor_for
    from pebs.services.keys import IdentityKeys
    from pebs.services.trial.trial_import import import_csv_files
    from pebs.store.engine import create_engine_for, session_factory

    women = cohort(n)
    lines = []
    with fresh_database("sqlite", []) as db:  # lists: a few slots, none taken
        assert db.path is not None
        folder = directory or db.path.parent
        paths = write_files(women, folder)
        engine = create_engine_for(db.url)
        try:
            sessions = session_factory(engine)
            keys = IdentityKeys.from_settings_values([db.fernet_key], HMAC_KEY)
            actor = actor_for(sessions, ACTOR)
            for country in LANGUAGE:  # calibrated once per process, before the clock
                country_model(country)
            _progress(f"importing {n:,} women (CSV)")
            wall, cpu = time.perf_counter(), time.process_time()
            summary = import_csv_files(sessions, actor, keys, STUDY, paths[0], visits=paths[1],
                                       diagnoses=paths[2])  # fmt: skip
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            engine.dispose()
        _progress(f"  -> {wall:,.1f} s; verifying the audit chain")
        ok, n_events, verify_s, rows = _counts(db.url)
        size = db.size_bytes() / 2**20
    refused = sum(summary.refused.values())
    goal = GOAL_TRIAL_S * n / 85_000
    lines += [
        "| format | women | wall (s) | CPU (s) | women/s | commits | audit events (verify s) | "
        "refused | rows |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|",
        f"| csv | {n:,} | {wall:,.1f} | {cpu:,.1f} | {n / wall:,.0f} | {summary.commits:,} | "
        f"{n_events:,} ({'ok' if ok else 'BROKEN'}, {verify_s:.1f} s) | {refused:,} | "
        + ", ".join(f"{k} {v:,}" for k, v in rows.items())
        + f"; {size:,.1f} MiB |",
        "",
        goal_line(f"import-csv-sqlite-{n}-women-s", wall, goal, at_most=True),
    ]
    met = wall < goal and ok and refused == 0 and rows["participants"] == n
    return lines, met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--women", type=int, default=85_000)
    parser.add_argument("--quick", action="store_true", help="5,000 women")
    parser.add_argument("--tmpdir", type=Path, help="where to write the files")
    args = parser.parse_args(argv)
    n = 5_000 if args.quick else args.women
    lines, met = measure(n, args.tmpdir)
    print("### Importing a whole trial (`pebs import`)\n")
    print(f"`python -m benchmarks.import_bench{' --quick' if args.quick else ''}`: {n:,} women "
          f"with imported allocations, a visit for one in {VISIT_EVERY}, a diagnosis for one in "
          f"{DIAGNOSIS_EVERY}; SQLite (WAL, synchronous=FULL); goal < 180 s per 85,000 women "
          "with the audit chain verifying.\n")  # fmt: skip
    print("\n".join(lines))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
