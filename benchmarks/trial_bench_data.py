"""The trial benchmark's women and databases: a fixed-seed cohort over the demo study's sites, and a
fresh database (SQLite file or PostgreSQL schema) with the study loaded and allocation lists
generated for those women."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

POSTGRES_URL = os.environ.get(
    "PEBS_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
STUDY = "mypebs-demo"
AT = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
TODAY = date(2025, 3, 3)
HMAC_KEY = b"b" * 32
SEED = 20250303
ACTOR = "demo-data-manager"
GOAL_TRIAL_S = 180.0
WORKERS = 8
ELIGIBLE = {
    "history_breast_cancer": False,
    "history_atypical_lesion": False,
    "history_lcis": False,
    "chest_irradiation": False,
    "high_penetrance_mutation": False,
    "bilateral_mastectomy": False,
    "abnormality_under_workup": False,
    "able_to_consent": True,
    "understands_study_language": True,
    "health_coverage": True,
}
LANGUAGE = {"IT": "it", "FR": "fr", "IL": "he", "BE": "nl", "UK": "en", "ES": "es"}
STEPS = ("register", "eligibility", "consent", "allocate", "risk+plan", "plan")


def _progress(message: str) -> None:
    print(f"[trial-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the women ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Woman:
    site: str
    birth_date: date
    national_id: str
    factors: tuple[Any, ...]
    """(n_biopsies, age_at_menarche, age_at_first_birth, nulliparous, n_relatives, density, prs)"""


def cohort(n: int, seed: int = SEED) -> list[Woman]:
    """``n`` women over the demo study's sites (weights: site targets), ages 40-70 on TODAY."""
    from pebs.trial import load_study

    sites = load_study(STUDY).sites
    rng = random.Random(seed)
    codes = rng.choices([s.code for s in sites], weights=[s.target for s in sites], k=n)
    women = []
    for i, site in enumerate(codes):
        age = rng.randint(40, 70)
        born = date(TODAY.year - age - 1, TODAY.month, TODAY.day) + timedelta(
            days=rng.randint(1, 364)
        )
        nulliparous = rng.random() < 0.15
        factors = (
            rng.choice([0, 0, 0, 1, 2]),
            rng.randint(10, 16),
            None if nulliparous else rng.randint(18, 38),
            nulliparous,
            rng.choice([0, 0, 0, 0, 1, 2]),
            rng.choice("abcd"),
            round(rng.gauss(0.0, 1.0), 3),
        )
        women.append(Woman(site, born, f"B{seed % 1000:03d}{i:08d}", factors))
    return women


def slots_needed(women: list[Woman]) -> dict[str, int]:
    """Slots per stratum for ``women`` plus a margin, for every stratum of the study."""
    from pebs.screening import age_on
    from pebs.trial import age_band, all_strata, load_study

    study = load_study(STUDY)
    counts = Counter(f"{w.site}:{age_band(age_on(w.birth_date, TODAY)).label}" for w in women)
    labels = all_strata(
        study.strata,
        sites=[s.code for s in study.sites],
        countries=[c.code for c in study.countries],
    )
    return {label: counts[label] + 12 + counts[label] // 50 for label in labels}


# --- databases ---------------------------------------------------------------------------------


@dataclass
class BenchDb:
    backend: str
    url: str
    fernet_key: str
    cleanup: Callable[[], None]
    path: Path | None = None
    schema: str | None = None

    def size_bytes(self) -> int:
        from sqlalchemy import create_engine, text

        if self.backend == "sqlite":  # fold the WAL into the file (outside any transaction)
            connection = sqlite3.connect(self.path)
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
            return sum(
                p.stat().st_size
                for p in self.path.parent.glob(self.path.name + "*")  # type: ignore[union-attr]
            )
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            size = connection.execute(
                text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :schema AND c.relkind = 'r'"
                ),
                {"schema": self.schema},
            ).scalar_one()
        engine.dispose()
        return int(size)


@contextlib.contextmanager
def fresh_database(backend: str, women: list[Woman], *, keep: bool = False) -> Iterator[BenchDb]:
    """A new database with the demo study loaded and lists for ``women``; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from pebs.store import migrate
    from pebs.store.crypto import IdentityCipher

    fernet_key = IdentityCipher.generate_key()
    if backend == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="pebs-trial-bench-"))
        path = directory / "pebs.db"
        db = BenchDb(backend, f"sqlite:///{path}", fernet_key,
                     lambda: shutil.rmtree(directory, ignore_errors=True), path=path)  # fmt: skip
    else:
        schema = f"pebs_bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))

        def drop() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        db = BenchDb(backend, url.render_as_string(hide_password=False), fernet_key, drop,
                     schema=schema)  # fmt: skip
    try:
        migrate.upgrade(db.url)
        _load_study(db, women)
        yield db
    finally:
        if keep:
            _progress(f"kept {db.backend} database: {db.path or db.schema}")
        else:
            db.cleanup()


def _load_study(db: BenchDb, women: list[Woman]) -> None:
    from pebs.services.actor import Actor, actor_for
    from pebs.services.trial import generate_allocation_list, load_study_config
    from pebs.store.engine import create_engine_for, session_factory

    engine = create_engine_for(db.url)
    try:
        sessions = session_factory(engine)
        load_study_config(sessions, Actor.system("trial-bench"), STUDY, demo_users=True)
        generate_allocation_list(
            sessions, actor_for(sessions, "demo-statistician"), STUDY,
            slots_per_stratum=slots_needed(women), seed=SEED, at=AT,
        )  # fmt: skip
    finally:
        engine.dispose()
