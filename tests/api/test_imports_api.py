"""The trial import route: a data manager's upload answers with the counts and every refused row
(file, line, step, column); a dry run stores nothing (200), an import stores (201); an unusable
file is a 4xx naming it, never a 500."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from pebs.store.models import AuditEvent, Participant

ROUTE = "/api/v1/studies/mypebs-demo/imports"
WOMEN = (
    "source_id,site,name,birth_date\n"
    "API-1,IT-TO,First Woman,1972-05-10\n"
    "API-2,IT-TO,Second Woman,10/05/1972\n"  # line 3: not a date
)


def _counts(api) -> tuple[int, int]:
    with api.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Participant)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def _post(api, query: str, body: str = WOMEN, name: str = "file"):
    files = {name: ("women.csv", io.BytesIO(body.encode()), "text/csv")}
    return api.client.post(f"{ROUTE}?{query}", files=files, headers=api.bearer("data_manager"))


def test_a_dry_run_reports_every_refused_row_and_stores_nothing(api) -> None:
    before = _counts(api)
    answer = _post(api, "format=csv&dry_run=true")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["dry_run"] is True
    assert (body["rows"], body["reached"], body["n_errors"]) == (2, {"register": 1, "none": 1}, 1)
    [error] = body["errors"]
    assert (error["file"], error["line"], error["step"], error["field"]) == (
        "women", 3, "read", "birth_date")  # fmt: skip
    assert "10/05/1972" in error["message"]
    assert "YYYY-MM-DD" in error["message"]
    assert _counts(api) == before


def test_an_import_stores_and_a_second_one_skips(api) -> None:
    first = _post(api, "format=csv")
    assert first.status_code == 201, first.text
    assert first.json()["reached"] == {"register": 1, "none": 1}
    stored = _counts(api)
    second = _post(api, "format=csv")
    assert second.status_code == 201
    assert second.json()["skipped"] == 1
    assert _counts(api) == stored


def test_an_unusable_file_is_refused_naming_it(api) -> None:
    answer = _post(api, "format=csv", body="site,name,weight\nIT-TO,A,60\n")
    assert answer.status_code in (400, 409, 422)
    assert "unknown columns weight" in answer.text
    assert _post(api, "format=xml").status_code == 422
