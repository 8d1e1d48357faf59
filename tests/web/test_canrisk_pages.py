"""Her page's CanRisk section: the download, the upload (dry run, stored, refused by line) and
the report, in the page's language; roles that do not record risk factors see none of it.

The file is written here from the CanRisk v4 specification; the expected answers are read off
it and the page words from the message catalogues.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from pebs.i18n import catalogues
from pebs.services.trial import RiskFactors, record_risk_questionnaire

COLUMNS = ("FamID\tName\tTarget\tIndivID\tFathID\tMothID\tSex\tMZtwin\tDead\tAge\tYob\tBC1\tBC2"
           "\tOC\tPRO\tPAN\tAshkn\tBRCA1\tBRCA2\tPALB2\tATM\tCHEK2\tBARD1\tRAD51D\tRAD51C\tBRIP1"
           "\tHOXB13\tER:PR:HER2:CK14:CK56")  # fmt: skip
UNTESTED = "\t".join(["0:0"] * 10 + ["0:0:0:0:0"])


def _file(sex: str = "F") -> bytes:
    lines = ["##CanRisk 4.0", "##menarche=12", "##BMI=23.1", "##" + COLUMNS,
             f"F1\tNA\t1\tPB\tPF\tPM\t{sex}\t0\t0\t55\t0\t0\t0\t0\t0\t0\t0\t{UNTESTED}",
             f"F1\tNA\t0\tPF\t0\t0\tM\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t{UNTESTED}",
             f"F1\tNA\t0\tPM\t0\t0\tF\t0\t0\t0\t0\t48\t0\t0\t0\t0\t0\t{UNTESTED}"]  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def _her(site: Any) -> str:
    study_id = site.db.participant("IT-TO", "risk-based")
    answers = RiskFactors(n_biopsies=0, age_at_menarche=14, age_at_first_birth=30, n_relatives=0)
    record_risk_questionnaire(site.db.sessions, site.db.manager, site.db.keys, study_id, answers,
                              answered_on=site.db.today() - timedelta(days=1))  # fmt: skip
    return study_id


def _upload(site: Any, study_id: str, data: bytes | None, **fields: str) -> Any:
    page = site.client.get(f"/participants/{study_id}")
    files = None if data is None else {"canrisk_file": ("her.txt", data, "text/plain")}
    return site.client.post(f"/participants/{study_id}/canrisk",
                            data={"csrf_token": site.csrf(page.text), **fields}, files=files,
                            follow_redirects=False)  # fmt: skip


def test_her_page_offers_the_download_and_the_upload(site: Any) -> None:
    study_id = _her(site)
    site.login("site_staff")
    page = html.unescape(site.client.get(f"/participants/{study_id}").text)
    english = catalogues()["en"]
    assert f'href="/participants/{study_id}/canrisk.txt"' in page
    assert english.text("canrisk.import") in page
    assert 'enctype="multipart/form-data"' in page
    download = site.client.get(f"/participants/{study_id}/canrisk.txt")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/tab-separated-values")
    assert download.text.startswith("##CanRisk 4.0\n##menarche=14\n")
    trail = html.unescape(site.client.get(f"/participants/{study_id}").text)
    assert english.text("audit.participant.canrisk_export") in trail  # the read is audited


def test_a_dry_run_then_an_import_show_what_the_file_gave(site: Any) -> None:
    study_id = _her(site)
    site.login("site_staff")
    checked = html.unescape(_upload(site, study_id, _file(), dry_run="on").text)
    english = catalogues()["en"]
    assert english.text("canrisk.checked") in checked
    assert "BMI" in checked  # not used by pebs, said so
    site.client.cookies.set("pebs_lang", "fr")
    stored = _upload(site, study_id, _file())
    assert stored.status_code == 200
    french = catalogues()["fr"]
    text = html.unescape(stored.text)
    assert french.text("canrisk.stored") in text
    assert f"{french.text('canrisk.relation_mother')} ({french.text('canrisk.at_age', age=48)})" \
        in text  # fmt: skip


def test_a_refused_file_lists_its_lines(site: Any) -> None:
    study_id = _her(site)
    site.login("site_staff")
    refused = _upload(site, study_id, _file(sex="M"))
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    assert "file.line_5.Sex" in page
    assert catalogues()["en"].text("error.canrisk_file") in page
    no_file = _upload(site, study_id, None)
    assert no_file.status_code == 422
    assert catalogues()["en"].text("error.choose_file") in html.unescape(no_file.text)


def test_roles_that_do_not_record_risk_see_no_canrisk_section(site: Any) -> None:
    study_id = _her(site)
    site.login("monitor")
    page = site.client.get(f"/participants/{study_id}").text
    assert 'id="canrisk"' not in page
    assert site.client.get(f"/participants/{study_id}/canrisk.txt").status_code == 403
