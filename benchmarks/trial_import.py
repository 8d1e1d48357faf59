"""The trial through the import path, and the floor a use case is compared with.

- :func:`write_enrolment_file`: the bench's women as an enrolment file (the columns of
  :mod:`pebs.services.trial.enrolment_file`), each meant to go all the way: registered, assessed
  eligible, consented, allocated, and given her risk assessment and plan.
- :func:`import_trial`: :func:`pebs.services.trial.enrolment_import.import_enrolments` reading
  that file, one thread, group commit; wall and CPU seconds, commits.
- :func:`commit_floor`: seconds of two bare durable commits (each a one-row insert) on a new
  SQLite file in the same directory, with the engine's settings (WAL, ``synchronous=FULL``):
  what a register+allocate pair cannot go below if each use case commits on its own.
"""

from __future__ import annotations

import csv
import sqlite3
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.trial_bench_data import AT, ELIGIBLE, HMAC_KEY, LANGUAGE, STUDY, Woman

ACTOR = "demo-data-manager"


def write_enrolment_file(women: list[Woman], path: Path) -> None:
    """One row per woman: every step given, a minute apart, from :data:`AT`."""
    from pebs.services.trial.enrolment_file import CRITERION_PREFIX

    criteria = [f"{CRITERION_PREFIX}{name}" for name in ELIGIBLE]
    header = ["site", "name", "birth_date", "national_id", "registered_at", *criteria,
              "assessed_at", "consented_at", "consent_language", "allocated_at", "n_biopsies",
              "atypical_hyperplasia", "age_at_menarche", "age_at_first_birth", "n_relatives",
              "density", "prs_z", "risk_at"]  # fmt: skip
    answers = ["yes" if ELIGIBLE[name] else "no" for name in ELIGIBLE]
    steps = [(AT + timedelta(minutes=k)).isoformat() for k in range(5)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for woman in women:
            biopsies, menarche, first_birth, nulliparous, relatives, density, prs = woman.factors
            writer.writerow([
                woman.site, f"Woman {woman.national_id}", woman.birth_date.isoformat(),
                woman.national_id, steps[0], *answers, steps[1], steps[2],
                LANGUAGE[woman.site[:2]], steps[3], biopsies, "no" if biopsies else "",
                menarche, "nulliparous" if nulliparous else first_birth, relatives, density,
                prs, steps[4],
            ])  # fmt: skip


@dataclass(frozen=True)
class ImportRun:
    wall_s: float
    cpu_s: float
    summary: Any
    """:class:`pebs.services.trial.enrolment_import.ImportSummary`."""
    server_cpu_s: float | None = None
    """CPU seconds of the PostgreSQL server's processes during the import (:func:`server_cpu`);
    ``None`` on SQLite or when the server's processes cannot be read."""


def server_cpu() -> float | None:
    """CPU seconds so far of the local PostgreSQL server: the postmaster, its live processes and
    those that ended (their time is added to the postmaster's when it reaps them). ``None`` when
    no postmaster of this machine can be read. It counts every database's work on that server,
    not only this benchmark's."""
    import psutil

    total, found = 0.0, False
    for process in psutil.process_iter(["name", "cpu_times"]):
        try:
            if process.info["name"] != "postgres" or process.info["cpu_times"] is None:
                continue
            times = process.info["cpu_times"]
            total += times.user + times.system
            parent = process.parent()
            if parent is None or parent.name() != "postgres":  # the postmaster
                total += times.children_user + times.children_system
                found = True
        except psutil.Error:
            continue
    return total if found else None


def import_trial(url: str, fernet_key: str, women: list[Woman], directory: Path) -> ImportRun:
    """Write the women's enrolment file and import it (reading included in the time)."""
    from pebs.risk.personalised import country_model
    from pebs.services.actor import actor_for
    from pebs.services.keys import IdentityKeys
    from pebs.services.trial.enrolment_file import read_enrolments
    from pebs.services.trial.enrolment_import import import_enrolments
    from pebs.store.engine import create_engine_for, session_factory

    path = directory / "enrolment.csv"
    write_enrolment_file(women, path)
    engine = create_engine_for(url)
    try:
        sessions = session_factory(engine)
        keys = IdentityKeys.from_settings_values([fernet_key], HMAC_KEY)
        actor = actor_for(sessions, ACTOR)
        for country in LANGUAGE:  # calibrated once per process, before the clock
            country_model(country)
        server = server_cpu() if engine.dialect.name == "postgresql" else None
        wall, cpu = time.perf_counter(), time.process_time()
        summary = import_enrolments(sessions, actor, keys, STUDY, read_enrolments(path))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        engine.dispose()  # the import's server process ends (its time goes to the postmaster)
        time.sleep(1.0 if server is not None else 0.0)  # once the postmaster has reaped it
        after = server_cpu() if server is not None else None
        used = None if server is None or after is None else after - server
        return ImportRun(wall, cpu, summary, used)
    finally:
        engine.dispose()


def commit_floor(directory: Path, pairs: int = 200) -> list[float]:
    """Seconds of each of ``pairs`` pairs of bare durable commits (a one-row insert each)."""
    path = directory / "floor.db"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
        seconds = []
        for i in range(pairs):
            start = time.perf_counter()
            for j in range(2):
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO t (v) VALUES (?)", (f"{i}-{j}",))
                connection.execute("COMMIT")
            seconds.append(time.perf_counter() - start)
        return seconds
    finally:
        connection.close()
        for leftover in directory.glob("floor.db*"):
            leftover.unlink()
