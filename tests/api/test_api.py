"""The API with a real client: cookie sessions and CSRF, errors, headers, the trial pathway."""

from __future__ import annotations

import csv
import io
from typing import Any

from factories import ELIGIBLE
from pebs.services.auth.tokens import token_sha256

Api = Any  # conftest.Api
V1 = "/api/v1"


def test_openapi_schema_is_served_and_versioned(api: Api) -> None:
    response = api.client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert paths
    assert all(path.startswith("/api/v1/") for path in paths)
    assert api.client.get("/docs").status_code == 404  # no CDN-loaded interactive docs


def test_cookie_session_needs_csrf_for_changes_and_ends_at_logout(api: Api) -> None:
    api.client.cookies.clear()
    username, password, secret = api.new_user("site_staff")
    csrf = api.login(username, password, secret)
    me = api.client.get(f"{V1}/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == username
    assert me.json()["csrf_token"] == csrf["X-CSRF-Token"]
    body = {"study": api.STUDY, "site": "IT-TO", "name": "Eve", "birth_date": "1968-04-01"}
    refused = api.client.post(f"{V1}/participants", json=body)
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    forged = api.client.post(f"{V1}/participants", json=body, headers={"X-CSRF-Token": "x" * 64})
    assert forged.status_code == 403
    assert api.client.post(f"{V1}/participants", json=body, headers=csrf).status_code == 201
    assert api.client.post(f"{V1}/auth/logout", headers=csrf).status_code == 204
    assert api.client.get(f"{V1}/auth/me").status_code == 401
    api.client.cookies.clear()


def test_login_cookie_flags(api: Api) -> None:
    api.client.cookies.clear()
    username, password, secret = api.new_user("monitor")
    from datetime import UTC, datetime

    from pebs.services.auth.totp import code_at

    response = api.client.post(f"{V1}/auth/login", json={
        "username": username, "password": password,
        "totp_code": code_at(secret, datetime.now(UTC))})  # fmt: skip
    cookie = response.headers["set-cookie"].lower()
    assert "pebs_session=pebs_s_" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    token = response.headers["set-cookie"].split("=", 1)[1].split(";", 1)[0]
    assert token not in response.text  # the session token is only in the cookie
    with api.sessions() as session:
        from sqlalchemy import select

        from pebs.store.models import AuthSession

        stored = set(session.scalars(select(AuthSession.token_sha256)))
    assert token_sha256(token) in stored
    assert token not in stored
    api.client.cookies.clear()


def test_errors_have_one_shape_and_security_headers(api: Api) -> None:
    anonymous = api.client.get(f"{V1}/participants")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "not_authenticated"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    for response in (anonymous, api.client.get("/api/openapi.json"),
                     api.client.get(f"{V1}/nowhere")):  # fmt: skip
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"
    missing = api.client.get(f"{V1}/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    bad_token = api.client.get(f"{V1}/auth/me", headers={"Authorization": "Bearer pebs_t_nope"})
    assert bad_token.status_code == 401
    assert set(bad_token.json()) == {"error", "detail"}


def test_validation_errors_name_the_field(api: Api) -> None:
    body = {"study": api.STUDY, "site": "IT-TO", "name": "Eve", "birth_date": "soon"}
    response = api.client.post(f"{V1}/participants", json=body, headers=api.bearer("site_staff"))
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"] == "invalid_input"
    assert [f["field"] for f in payload["fields"]] == ["birth_date"]
    assert payload["detail"].startswith("birth_date: ")
    service_refusal = api.client.post(
        f"{V1}/participants/{api.participant('own', 'consented')}/withdrawal",
        json={"level": "maybe", "reason": "x"}, headers=api.bearer("site_staff"),
    )  # fmt: skip
    assert service_refusal.status_code == 422
    assert service_refusal.json()["detail"].startswith("level: 'maybe' is not a withdrawal level")


def test_pathway_through_the_api_with_idempotent_allocation(api: Api) -> None:
    staff = api.bearer("site_staff")
    body = {"study": api.STUDY, "site": "IT-TO", "name": "Mia Rossi", "birth_date": "1970-06-15",
            "national_id": "RSSMIA70H55L219X"}  # fmt: skip
    registered = api.client.post(f"{V1}/participants", json=body, headers=staff)
    assert registered.status_code == 201
    study_id = registered.json()["study_id"]
    assert study_id.startswith("IT-TO-")
    duplicate = api.client.post(f"{V1}/participants", json=body, headers=staff)
    assert duplicate.status_code == 409
    assert duplicate.json()["existing_study_id"] == study_id
    refused = api.client.post(f"{V1}/participants/{study_id}/allocation", headers=staff)
    assert refused.status_code == 409
    assert refused.json()["error"] == "allocation_refused"
    assert refused.json()["reasons"]
    eligible = {"answers": ELIGIBLE}
    assessed = api.client.post(f"{V1}/participants/{study_id}/eligibility", json=eligible,
                               headers=staff)  # fmt: skip
    assert assessed.status_code == 200
    assert assessed.json()["status"] == "eligible"
    consent = api.client.post(f"{V1}/participants/{study_id}/consent", json={"language": "it"},
                              headers=staff)  # fmt: skip
    assert consent.status_code == 200
    first = api.client.post(f"{V1}/participants/{study_id}/allocation", headers=staff)
    again = api.client.post(f"{V1}/participants/{study_id}/allocation", headers=staff)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["arm"] == again.json()["arm"]
    assert again.json()["created"] is False
    assert "slot" not in first.text
    assert "block" not in first.text
    summary = api.client.get(f"{V1}/participants/{study_id}", headers=staff).json()
    assert summary["arm"] == first.json()["arm"]
    assert "Rossi" not in str(summary)
    identity = api.client.get(f"{V1}/participants/{study_id}/identity", headers=staff).json()
    assert identity["name"] == "Mia Rossi"
    assert identity["birth_date"] == "1970-06-15"
    listed = api.client.get(f"{V1}/participants", params={"q": study_id[-6:]}, headers=staff)
    assert [row["study_id"] for row in listed.json()["rows"]] == [study_id]
    events = api.client.get(f"{V1}/participants/{study_id}/audit-events", headers=staff).json()
    actions = [e["action"] for e in events]
    assert actions[:4] == ["register", "assess", "consent", "allocate"]
    assert "read_identity" in actions
    assert all("allocation_slot_id" not in (e["new"] or {}) for e in events)  # site role
    manager_view = api.client.get(f"{V1}/participants/{study_id}/audit-events",
                                  headers=api.bearer("data_manager")).json()  # fmt: skip
    assert any("allocation_slot_id" in (e["new"] or {}) for e in manager_view)


def test_export_is_pseudonymised_by_default_and_streams_csv(api: Api) -> None:
    api.participant("own", "standard")
    response = api.client.get(f"{V1}/exports/participants.csv", params={"study": api.STUDY},
                              headers=api.bearer("monitor"))  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows
    assert "name" not in rows[0]
    assert "national_id" not in rows[0]
    refused = api.client.get(f"{V1}/exports/participants.csv",
                             params={"study": api.STUDY, "include_identity": "true"},
                             headers=api.bearer("monitor"))  # fmt: skip
    assert refused.status_code == 403


def test_the_export_format_is_named_by_the_path_and_an_unknown_one_is_refused(api: Api) -> None:
    from sqlalchemy import func, select

    from pebs.store.models import AuditEvent

    schema = api.client.get("/api/openapi.json").json()
    operation = schema["paths"][f"{V1}/exports/participants.{{format}}"]["get"]
    parameter = next(p for p in operation["parameters"] if p["name"] == "format")
    assert (parameter["in"], parameter["schema"]["enum"]) == (
        "path", ["csv", "parquet", "odm", "fhir"])  # fmt: skip
    content = operation["responses"]["200"]["content"]
    assert list(content) == ["text/csv", "application/vnd.apache.parquet", "application/xml",
                             "application/fhir+json"]  # fmt: skip
    assert content["application/xml"]["schema"] == {"type": "string"}
    assert content["application/fhir+json"]["schema"]["properties"]["resourceType"] == {
        "type": "string", "enum": ["Bundle"]}  # fmt: skip
    binary = {"type": "string", "format": "binary"}
    assert content["application/vnd.apache.parquet"]["schema"] == binary
    manager = api.bearer("data_manager")
    exported = api.client.get(f"{V1}/exports/participants.csv", params={"study": api.STUDY},
                              headers=manager)  # fmt: skip
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"] == (
        f'attachment; filename="{api.STUDY}-participants.csv"')  # fmt: skip

    def n_events() -> int:
        with api.sessions() as session:
            return session.scalar(select(func.count()).select_from(AuditEvent))

    before = n_events()
    refused = api.client.get(f"{V1}/exports/participants.xlsx", params={"study": api.STUDY},
                             headers=manager)  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_input"
    assert refused.json()["detail"] == (
        "format: 'xlsx' is not an export format; allowed: csv, parquet, odm, fhir")  # fmt: skip
    assert n_events() == before


def test_the_parquet_export_is_served_as_parquet(api: Api) -> None:
    import pyarrow.parquet as pq

    study_id = api.participant("own", "standard")
    response = api.client.get(f"{V1}/exports/participants.parquet", params={"study": api.STUDY},
                              headers=api.bearer("monitor"))  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{api.STUDY}-participants.parquet"')  # fmt: skip
    table = pq.read_table(io.BytesIO(response.content), use_threads=False)
    arms = dict(zip(table.column("study_id").to_pylist(), table.column("arm").to_pylist(),
                    strict=True))  # fmt: skip
    assert arms[study_id] == "standard"
    assert "name" not in table.column_names


def test_the_fhir_export_is_served_as_a_fhir_bundle(api: Api) -> None:
    from fhir.resources.R4B.bundle import Bundle

    study_id = api.participant("own", "standard")
    response = api.client.get(f"{V1}/exports/participants.fhir", params={"study": api.STUDY},
                              headers=api.bearer("monitor"))  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{api.STUDY}-participants.json"')  # fmt: skip
    bundle = Bundle.model_validate_json(response.content)
    subjects = {r.resource.individual.reference: r.resource for r in bundle.entry
                if r.resource.get_resource_type() == "ResearchSubject"}  # fmt: skip
    (patient,) = [e for e in bundle.entry if e.resource.get_resource_type() == "Patient"
                  and e.resource.identifier[0].value == study_id]  # fmt: skip
    assert subjects[patient.fullUrl].assignedArm == "standard"


def test_the_odm_export_is_served_as_xml_valid_against_the_odm_schema(api: Api) -> None:
    from lxml import etree

    from factories import odm_schema

    study_id = api.participant("own", "standard")
    response = api.client.get(f"{V1}/exports/participants.odm", params={"study": api.STUDY},
                              headers=api.bearer("monitor"))  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{api.STUDY}-participants.xml"')  # fmt: skip
    document = etree.fromstring(response.content)
    assert odm_schema().validate(document)
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
    arm = document.find(f".//odm:SubjectData[@SubjectKey='{study_id}']//odm:ItemData"
                        "[@ItemOID='IT.ALLOCATION.ARM']", ns)  # fmt: skip
    assert arm.get("Value") == "standard"
    refused = api.client.get(f"{V1}/exports/participants.odm",
                             params={"study": api.STUDY, "include_identity": "true"},
                             headers=api.bearer("data_manager"))  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "format: 'odm' is not a table format; allowed: csv, parquet")  # fmt: skip


def test_disabled_accounts_tokens_stop_working(api: Api) -> None:
    username, password, secret = api.new_user("statistician")
    csrf = api.login(username, password, secret)
    token = api.client.post(f"{V1}/auth/tokens", json={"name": "t"}, headers=csrf).json()["token"]
    api.client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.client.get(f"{V1}/auth/me", headers=bearer).status_code == 200
    disabled = api.client.post(f"{V1}/users/{username}/disable", json={"reason": "left"},
                               headers=api.bearer("administrator"))  # fmt: skip
    assert disabled.status_code == 200
    assert api.client.get(f"{V1}/auth/me", headers=bearer).status_code == 401


def test_api_on_sqlite_and_postgresql(api_on_each_database: Api) -> None:
    """The same requests on both databases: register, consent, allocate, read back, export."""
    api = api_on_each_database
    staff, other = api.bearer("site_staff"), api.bearer("country_coordinator")
    study_id = api.participant("own", "consented")
    allocated = api.client.post(f"{V1}/participants/{study_id}/allocation", headers=staff)
    assert allocated.status_code == 201
    french = api.participant("other_country", "registered")
    assert api.client.get(f"{V1}/participants/{french}", headers=other).status_code == 404
    assert api.client.get(f"{V1}/participants/{study_id}", headers=other).status_code == 200
    export = api.client.get(f"{V1}/exports/participants.csv", params={"study": api.STUDY},
                            headers=staff)  # fmt: skip
    assert [r["study_id"] for r in csv.DictReader(io.StringIO(export.text))] == [study_id]
