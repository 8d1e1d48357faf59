"""The visit page takes a mammogram's breast density and who read it; the density is stored with
the visit, and a density without its reader is refused next to the reader's field."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import select

from pebs.services.field_rules import DENSITY_READER_CHARS
from pebs.store.models import Participant, Visit


def _field_error(text: str, name: str) -> str | None:
    found = re.search(rf'id="f-{name}-error">([^<]*)<', html.unescape(text))
    return None if found is None else found.group(1)


def test_the_visit_page_records_a_density_with_its_reader(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("site_staff")
    path = f"/participants/{study_id}/visit"
    page = site.client.get(path)
    assert page.status_code == 200
    assert "Density read by" in page.text
    assert f'maxlength="{DENSITY_READER_CHARS}"' in page.text
    today = site.db.today().isoformat()
    form = {"visit_type": "screening", "modality": "mammography", "performed_date": today,
            "density": "c"}  # fmt: skip
    refused = site.post_form(path, form)
    assert refused.status_code == 422
    assert _field_error(refused.text, "density_reader") is not None
    too_long = site.post_form(path, {**form, "density_reader": "r" * (DENSITY_READER_CHARS + 1)})
    assert _field_error(too_long.text, "density_reader") == (
        f"at most {DENSITY_READER_CHARS} characters"
    )
    response = site.post_form(path, {**form, "density_reader": "Dr Radiologist"})
    assert response.status_code == 303, response.text
    with site.db.sessions() as session:
        visit = session.scalar(select(Visit).join(Participant).where(
            Participant.study_id == study_id))  # fmt: skip
        assert (visit.density, visit.density_reader) == ("c", "Dr Radiologist")
