"""Participant-list latency among 85,000 participants, for :mod:`benchmarks.web_bench`.

For this measurement only, :func:`bulk_participants` inserts synthetic rows with SQL instead of
registering women through the use cases (about 4 ms each: minutes for 85,000): participants over
the demo study's sites (uniform), ages 40-70 with their age bands, 80 % randomised 1:1 with an
allocation row (method ``override``: no list slot) and a status on their arm's pathway, the rest
registered, eligible, consented or screen failures; one identity row each (the same Fernet token
of a dummy name and birth date: the list never reads it); the sites' sequences advanced; no audit
events. Then ``ANALYZE``. :func:`list_rows` times ``GET /participants?limit=50`` from one client.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from benchmarks.trial_bench_data import HMAC_KEY, SEED, STUDY, fresh_database
from benchmarks.web_load import API, percentile_ms
from benchmarks.web_server import running_server

USER = "demo-data-manager"
SITE_USER = "demo-site-staff"
WARM_UP = 3


def _progress(message: str) -> None:
    import sys

    print(f"[web-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bulk_participants(url: str, fernet_key: str, n: int, seed: int = SEED) -> dict[str, int]:
    """Insert ``n`` synthetic participants with SQL (this measurement only); counts by status."""
    from sqlalchemy import select, text

    from pebs.services.keys import IdentityKeys
    from pebs.store.engine import create_engine_for
    from pebs.store.models import Allocation, Participant, ParticipantIdentity, Site, User
    from pebs.trial import age_band

    rng = random.Random(seed)
    cipher = IdentityKeys.from_settings_values([fernet_key], HMAC_KEY).cipher
    name, born = cipher.encrypt_text("Synthetic Woman"), cipher.encrypt_date(date(1970, 1, 1))
    engine = create_engine_for(url)
    counts: Counter = Counter()
    with engine.begin() as connection:
        sites = connection.execute(select(Site.id, Site.code)).all()
        user = connection.execute(select(User.id).where(User.username == USER)).scalar_one()
        sequences: Counter = Counter()
        rows, arms = [], []
        start = datetime(2019, 1, 7, 9, tzinfo=UTC)
        for i in range(n):
            site_id, code = rng.choice(sites)
            sequences[site_id] += 1
            age = rng.randint(40, 70)
            arm = rng.choice(("standard", "risk-based")) if rng.random() < 0.8 else None
            if arm is None:
                status = rng.choices(
                    ("registered", "eligible", "screen_failure", "consented"), (4, 2, 10, 4)
                )[0]
            elif arm == "standard":
                status = rng.choice(("randomised_standard", "plan_given", "in_follow_up"))
            else:
                status = rng.choice(
                    ("randomised_risk_based", "risk_assessed", "plan_given", "in_follow_up")
                )
            when = start + timedelta(minutes=30 * i)
            band = age_band(age).label
            rows.append(
                {
                    "study_id": f"{code}-{sequences[site_id]:06d}",
                    "site_id": site_id,
                    "status": status,
                    "age_at_entry": age,
                    "age_band": band,
                    "stratum": f"{code}:{band}" if arm else None,
                    "strata_locked_at": when + timedelta(days=7) if arm else None,
                    "is_test": False,
                    "registered_at": when,
                    "registered_by_id": user,
                }
            )
            arms.append(arm)
            counts[status] += 1
        for chunk in range(0, n, 5_000):
            connection.execute(Participant.__table__.insert(), rows[chunk : chunk + 5_000])
        ids = dict(connection.execute(select(Participant.study_id, Participant.id)).all())
        identities = [
            {
                "participant_id": ids[r["study_id"]],
                "name_enc": name,
                "date_of_birth_enc": born,
                "updated_at": r["registered_at"],
            }
            for r in rows
        ]
        allocations = [
            {
                "participant_id": ids[r["study_id"]],
                "arm": arm,
                "method": "override",
                "override_reason": "synthetic benchmark row (web_bench)",
                "allocated_at": r["strata_locked_at"],
                "allocated_by_id": user,
            }
            for r, arm in zip(rows, arms, strict=True)
            if arm
        ]
        for table, values in (
            (ParticipantIdentity.__table__, identities),
            (Allocation.__table__, allocations),
        ):
            for chunk in range(0, len(values), 5_000):
                connection.execute(table.insert(), values[chunk : chunk + 5_000])
        for site_id, last in sequences.items():
            connection.execute(
                text("UPDATE sites SET last_sequence = :n WHERE id = :id"),
                {"n": last, "id": site_id},
            )
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()
    return dict(counts)


def _list_queries(n: int, sites: list[str], rng: random.Random) -> list[tuple]:
    """(label, user, parameters factory, check of each returned row) of the timed requests."""

    def deep() -> int:
        return rng.randint(1, n - 1_000)

    def anywhere(row: dict, query: dict) -> bool:
        return True

    def own_site(row: dict, query: dict) -> bool:
        return row["site"] == sites[0]  # the demo site staff works at the study's first site

    return [
        ("first page", USER, lambda: {}, anywhere),
        ("deep page (random `after`)", USER, lambda: {"after": deep()}, anywhere),
        ("site filter, deep page", USER, lambda: {"site": rng.choice(sites), "after": deep()},
         lambda row, query: row["site"] == query["site"]),
        ("status=consented (~4 %), deep page", USER,
         lambda: {"status": "consented", "after": deep()},
         lambda row, query: row["status"] == "consented"),
        ("arm=risk-based, deep page", USER, lambda: {"arm": "risk-based", "after": deep()},
         lambda row, query: row["arm"] == "risk-based"),
        ("study-ID search `q` (6 digits)", USER, lambda: {"q": f"{rng.randint(1, n // 40):06d}"},
         lambda row, query: query["q"] in row["study_id"]),
        ("site staff (her site), first page", SITE_USER, lambda: {}, own_site),
        ("site staff (her site), deep page", SITE_USER, lambda: {"after": deep()}, own_site),
    ]  # fmt: skip


def list_rows(backend: str, n: int, requests: int) -> tuple[list[str], list[str], float]:
    """Table rows, problems and the worst p95 (ms) of the list requests on ``backend``."""
    import httpx

    problems, lines, worst = [], [], 0.0
    with fresh_database(backend, []) as db:
        _progress(f"{backend}: bulk-inserting {n:,} participants")
        start = time.perf_counter()
        counts = bulk_participants(db.url, db.fernet_key, n)
        insert_s = time.perf_counter() - start
        with running_server(db.url, db.fernet_key, 1, (USER, SITE_USER)) as server:
            from pebs.trial import load_study

            sites = [s.code for s in load_study(STUDY).sites]
            rng = random.Random(SEED + 7)
            base = f"http://127.0.0.1:{server.port}{API}/participants"
            clients = {
                user: httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=120)
                for user, token in server.tokens.items()
            }
            for label, user, params, check in _list_queries(n, sites, rng):
                times, bad, rows, wrong = [], Counter(), 0, 0
                for i in range(requests + WARM_UP):
                    query = {"limit": 50, **params()}
                    begin = time.perf_counter()
                    response = clients[user].get(base, params=query)
                    elapsed = time.perf_counter() - begin
                    if response.status_code != 200:
                        bad[response.status_code] += 1
                        continue
                    page = response.json()["rows"]
                    wrong += sum(not check(row, query) for row in page)
                    if i >= WARM_UP:
                        times.append(elapsed)
                        rows += len(page)
                p95 = percentile_ms(times, 95)
                worst = max(worst, p95)
                if bad:
                    problems.append(f"{backend} list, {label}: statuses {dict(bad)}")
                if wrong:
                    problems.append(f"{backend} list, {label}: {wrong} rows do not match")
                p50, top = percentile_ms(times, 50), percentile_ms(times, 100)
                lines.append(
                    f"| {backend} | {label} | {len(times)} | {rows / max(len(times), 1):.1f} | "
                    f"{p50:.1f} | **{p95:.1f}** | {top:.1f} |"
                )
            for client in clients.values():
                client.close()
    shown = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
    note = f"{backend}: {n:,} rows bulk-inserted in {insert_s:.1f} s ({shown})."
    return [note, *lines], problems, worst
