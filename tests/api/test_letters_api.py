"""Letters, her language and consultations over HTTP: the PDF and its SHA-256 header, the
documented answers, refusals (4xx naming the field), scope (404) and the batch ZIP."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

from sqlalchemy import select

from pebs.services.trial import create_screening_plan
from pebs.store.models import IssuedLetter

Api = Any  # conftest.Api
V1 = "/api/v1"


def _standard(api: Api, obj: str = "own") -> str:
    study_id = api.participant(obj, "standard")
    create_screening_plan(api.sessions, api.db.manager, api.db.keys, study_id)
    return study_id


def _recorded(api: Api) -> dict[int, str]:
    with api.sessions() as session:
        return dict(session.execute(select(IssuedLetter.id, IssuedLetter.pdf_sha256)).all())


def test_a_letter_is_a_pdf_whose_sha256_header_is_the_one_recorded(api: Api) -> None:
    study_id = _standard(api)
    before = _recorded(api)
    response = api.client.post(
        f"{V1}/participants/{study_id}/letters",
        json={"kind": "standard_arm"},
        headers=api.bearer("site_staff"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    digest = hashlib.sha256(response.content).hexdigest()
    assert response.headers["x-letter-sha256"] == digest
    assert set(_recorded(api).values()) - set(before.values()) == {digest}
    listed = api.client.get(f"{V1}/participants/{study_id}/letters",
                            headers=api.bearer("monitor"))  # fmt: skip
    assert listed.status_code == 200
    [letter] = listed.json()
    assert (letter["kind"], letter["recipient"], letter["language"], letter["sha256"]) == (
        "standard_arm",
        "woman",
        "it",
        digest,
    )
    html = api.client.post(f"{V1}/participants/{study_id}/letters",
                           json={"kind": "standard_arm", "format": "html", "language": "he"},
                           headers=api.bearer("site_staff"))  # fmt: skip
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert len(_recorded(api)) == len(before) + 1  # a preview is not issued


def test_bad_kinds_languages_and_formats_are_refused_naming_the_field(api: Api) -> None:
    study_id = _standard(api)
    before = _recorded(api)
    for body, field in (({"kind": "birthday"}, "kind"),
                        ({"kind": "standard_arm", "language": "xx"}, "language"),
                        ({"kind": "standard_arm", "format": "docx"}, "format"),
                        ({"kind": "risk_result"}, "kind"),
                        ({"kind": "standard_arm", "recipient": "doctor"},
                         "recipient")):  # fmt: skip
        response = api.client.post(f"{V1}/participants/{study_id}/letters", json=body,
                                   headers=api.bearer("site_staff"))  # fmt: skip
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"].startswith(f"{field}: "), response.json()
    assert _recorded(api) == before


def test_another_site_s_woman_is_not_found_and_a_monitor_may_not_issue(api: Api) -> None:
    other = _standard(api, "other_country")
    response = api.client.post(
        f"{V1}/participants/{other}/letters",
        json={"kind": "standard_arm"},
        headers=api.bearer("site_staff"),
    )
    assert response.status_code == 404
    own = _standard(api)
    response = api.client.post(f"{V1}/participants/{own}/letters", json={"kind": "standard_arm"},
                               headers=api.bearer("monitor"))  # fmt: skip
    assert response.status_code == 403
    for path in (f"/participants/{other}/letters", f"/participants/{other}/consultations"):
        assert api.client.get(V1 + path, headers=api.bearer("site_staff")).status_code == 404


def test_the_due_letters_and_the_batch_zip(api: Api) -> None:
    study_id = _standard(api)
    due = api.client.get(f"{V1}/studies/{api.STUDY}/letters/due",
                         headers=api.bearer("site_staff"))  # fmt: skip
    assert due.status_code == 200
    mine = [d for d in due.json() if d["study_id"] == study_id]
    assert [(d["kind"], d["language"]) for d in mine] == [("standard_arm", "it")]
    response = api.client.post(f"{V1}/studies/{api.STUDY}/letters/batch",
                               headers=api.bearer("site_staff"))  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    recorded = set(_recorded(api).values())
    assert archive.namelist(), "the due letters are in the ZIP"
    for name in archive.namelist():
        assert hashlib.sha256(archive.read(name)).hexdigest() in recorded
    assert f"{study_id}-standard_arm-woman-it.pdf" in archive.namelist()
    again = api.client.get(f"{V1}/studies/{api.STUDY}/letters/due",
                           headers=api.bearer("site_staff"))  # fmt: skip
    assert again.json() == []
    missing = api.client.get(f"{V1}/studies/no-such-study/letters/due",
                             headers=api.bearer("site_staff"))  # fmt: skip
    assert missing.status_code == 404


def test_her_language_and_consultations(api: Api) -> None:
    study_id = _standard(api)
    refused = api.client.put(f"{V1}/participants/{study_id}/language", json={"language": "fr"},
                             headers=api.bearer("site_staff"))  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["detail"] == "language: 'fr' is unknown; allowed: it"
    today = api.db.today().isoformat()
    made = api.client.post(f"{V1}/participants/{study_id}/consultations", json={
        "held_on": today, "mode": "visit", "held_by": "Dr Bianchi"},
        headers=api.bearer("site_staff"))  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["mode"] == "visit"
    bad = api.client.post(f"{V1}/participants/{study_id}/consultations", json={
        "held_on": today, "mode": "letter", "held_by": "Dr Bianchi"},
        headers=api.bearer("site_staff"))  # fmt: skip
    assert bad.status_code == 422
    listed = api.client.get(f"{V1}/participants/{study_id}/consultations",
                            headers=api.bearer("site_staff"))  # fmt: skip
    assert [c["held_by"] for c in listed.json()] == ["Dr Bianchi"]
    summary = api.client.get(f"{V1}/participants/{study_id}", headers=api.bearer("site_staff"))
    assert summary.json()["language"] == "it"
