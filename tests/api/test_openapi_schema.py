"""The OpenAPI schema says exactly what the API does: one error body for every error status an
operation can answer, the allowed values of enumerated fields, the session-only operations, the
links between operations; and the API keeps to it (real answers validated against it).

The expected values come from outside the schema code: the pathway and store definitions for the
vocabularies, the HTTP semantics for the statuses, JSON's own types for the bodies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from cryptography.fernet import Fernet
from fastapi.routing import APIRoute, iter_route_contexts

from pebs.api.deps import get_actor, get_principal
from pebs.api.vocabularies import document_vocabularies
from pebs.http.deps import get_keys, get_read_sessions, get_session_maker, get_state
from pebs.risk.levels import LEVELS
from pebs.services.auth.totp import code_at
from pebs.trial import ARM_EVENTS, WITHDRAWAL_LEVELS, State
from pebs.trial.vocabularies import DEATH_CAUSES

Api = Any  # conftest.Api
V1 = "/api/v1"
ERROR_BODY = "#/components/schemas/ErrorBody"


@pytest.fixture(scope="module")
def schema(api: Api) -> dict[str, Any]:
    response = api.client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def _json_schema(response: dict[str, Any]) -> dict[str, Any]:
    return response["content"]["application/json"]["schema"]


def _conforms(schema: dict[str, Any], operation: str, status: int, body: Any) -> None:
    """``body`` is valid under the schema documented for ``status`` of ``operation``."""
    documented = _operations(schema)[operation]["responses"]
    assert str(status) in documented, (operation, status, sorted(documented))
    root = {**_json_schema(documented[str(status)]), "components": schema["components"]}
    jsonschema_rs.validate(root, body)


def test_every_error_response_is_the_error_body(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components  # FastAPI's 422, a body never sent
    assert "ValidationError" not in components
    body = components["ErrorBody"]
    assert body["required"] == ["error", "detail"]
    assert body["additionalProperties"] is False
    assert set(body["properties"]) == {
        "error", "detail", "fields", "reasons", "existing_study_id", "stratum",
        "previous_level", "new_level",
    }  # fmt: skip
    for operation, item in _operations(schema).items():
        for status, response in item["responses"].items():
            if status[0] in "45":
                documented = _json_schema(response)
                assert documented.get("$ref") == ERROR_BODY or documented["allOf"] == [
                    {"$ref": ERROR_BODY}
                ], (operation, status)


def test_error_statuses_follow_the_shape_of_each_operation(schema: dict[str, Any]) -> None:
    for name, operation in _operations(schema).items():
        statuses = set(operation["responses"])
        parameters = operation.get("parameters", [])
        if operation.get("security"):  # credentials missing or wrong; role or scope
            assert {"401", "403"} <= statuses, name
        if any(p["in"] == "path" for p in parameters):  # no such object
            assert "404" in statuses, name
        if parameters or "requestBody" in operation:  # inputs that can be wrong
            assert "422" in statuses, name
        if "requestBody" in operation:  # a body that is not JSON, or too large
            assert {"400", "413"} <= statuses, name


def test_declared_refusals_name_their_codes(schema: dict[str, Any]) -> None:
    operations = _operations(schema)

    def codes(operation: str, status: str) -> set[str]:
        documented = _json_schema(operations[operation]["responses"][status])
        return set(documented["properties"]["error"]["enum"])

    assert codes(f"POST {V1}/participants", "409") == {"duplicate", "conflict"}
    allocation = f"POST {V1}/participants/{{study_id}}/allocation"
    assert codes(allocation, "409") == {"allocation_refused", "stratum_exhausted", "conflict"}
    risk = f"POST {V1}/participants/{{study_id}}/risk-assessment"
    assert codes(risk, "409") == {"level_lowered", "conflict"}
    override = f"POST {V1}/participants/{{study_id}}/allocation/override"
    assert codes(override, "409") == {"allocation_refused", "conflict"}
    assert codes(f"POST {V1}/auth/login", "401") == {"not_authenticated", "totp_reused"}
    login_limited = operations[f"POST {V1}/auth/login"]["responses"]["429"]
    assert login_limited["headers"]["Retry-After"]["required"] is True
    assert codes(f"GET {V1}/participants", "403") == {"permission_denied", "totp_required"}


def test_a_repeated_allocation_is_documented(schema: dict[str, Any]) -> None:
    responses = _operations(schema)[f"POST {V1}/participants/{{study_id}}/allocation"]["responses"]
    for status in ("200", "201"):  # 201 randomised now, 200 her earlier allocation
        assert _json_schema(responses[status]) == {"$ref": "#/components/schemas/Allocated"}


def test_enumerated_fields_list_their_vocabularies(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    states = [state.value for state in State]
    assert components["WithdrawalIn"]["properties"]["level"]["enum"] == list(WITHDRAWAL_LEVELS)
    assert components["Withdrawal"]["properties"]["pathway_state"]["enum"] == states
    assert components["DeathIn"]["properties"]["cause"]["enum"] == list(DEATH_CAUSES)
    assert components["OverrideIn"]["properties"]["arm"]["enum"] == list(ARM_EVENTS)
    level = components["RiskRecorded"]["properties"]["previous_level"]
    assert level["anyOf"][0]["enum"] == list(LEVELS)  # low, average, high, very_high
    assert {"type": "null"} in level["anyOf"]
    assert components["RiskLevels"]["properties"]["levels"]["items"]["enum"] == list(LEVELS)
    assert components["QuestionnaireIn"]["properties"]["timepoint_months"]["enum"] == [
        0, 3, 12, 48
    ]  # fmt: skip
    assert components["OverrideIn"]["properties"]["confirm"]["enum"] == [True]
    one_birth_answer = components["RiskIn"]  # nulliparous: true leaves no age at first birth
    assert one_birth_answer["if"]["properties"] == {"nulliparous": {"const": True}}
    assert one_birth_answer["then"]["properties"]["age_at_first_birth"]["enum"] == [
        None, "nulliparous"
    ]  # fmt: skip
    density = components["RiskIn"]["properties"]["density"]["anyOf"]
    assert {"enum": ["a", "b", "c", "d"], "type": "string"} in density  # BI-RADS 5th edition
    listing = _operations(schema)[f"GET {V1}/participants"]["parameters"]
    status = next(p for p in listing if p["name"] == "status")["schema"]["anyOf"][0]
    assert status["enum"] == states


def test_a_vocabulary_for_a_missing_field_is_an_error() -> None:
    document = {"components": {"schemas": {"Allocated": {"properties": {}}}}, "paths": {}}
    with pytest.raises(ValueError, match=r"Allocated\.arm: no such field"):
        document_vocabularies(document)


def test_session_only_operations_declare_the_cookie_alone(schema: dict[str, Any], api: Api) -> None:
    operations = _operations(schema)
    for path in ("/auth/logout", "/auth/totp/verify", "/auth/totp/enrolment", "/auth/tokens"):
        assert operations[f"POST {V1}{path}"]["security"] == [{"APIKeyCookie": []}], path
    assert {"HTTPBearer": []} in operations[f"GET {V1}/auth/me"]["security"]
    refused = api.client.post(f"{V1}/auth/logout", headers=api.bearer("monitor"))
    _conforms(schema, f"POST {V1}/auth/logout", refused.status_code, refused.json())


def test_links_lead_from_a_new_object_to_its_operations(schema: dict[str, Any]) -> None:
    operations = _operations(schema)
    registered = operations[f"POST {V1}/participants"]["responses"]["201"]["links"]
    read = operations[f"GET {V1}/participants/{{study_id}}"]["operationId"]
    assert {"operationId": read, "parameters": {"study_id": "$response.body#/study_id"}} in (
        registered.values()
    )
    assert len(registered) == sum("{study_id}" in name for name in operations)
    generated = operations[f"POST {V1}/allocation-lists"]["responses"]["201"]["links"]
    (verification,) = generated.values()
    assert verification["requestBody"] == {"seed": "$response.body#/seed"}


def test_error_answers_conform_to_the_schema(schema: dict[str, Any], api: Api) -> None:
    staff, manager = api.bearer("site_staff"), api.bearer("data_manager")
    register = f"POST {V1}/participants"
    body = {"study": api.STUDY, "site": "IT-TO", "name": "Ada", "birth_date": "1970-05-05"}
    answers = {
        400: api.client.post(f"{V1}/participants", content=b'{"name": "\xff"}', headers={
            **staff, "Content-Type": "application/json"}),
        401: api.client.post(f"{V1}/participants", json=body),
        403: api.client.post(f"{V1}/participants", json=body, headers=api.bearer("monitor")),
        404: api.client.post(f"{V1}/participants", json={**body, "study": "none"}, headers=staff),
        422: api.client.post(f"{V1}/participants", json={**body, "site": 1}, headers=staff),
    }  # fmt: skip
    for status, response in answers.items():
        assert response.status_code == status, response.text
        _conforms(schema, register, status, response.json())
    national = {**body, "national_id": "CF-OPENAPI-1"}
    assert api.client.post(f"{V1}/participants", json=national, headers=manager).status_code == 201
    duplicate = api.client.post(f"{V1}/participants", json=national, headers=manager)
    assert duplicate.status_code == 409
    assert duplicate.json()["existing_study_id"]
    _conforms(schema, register, 409, duplicate.json())
    study_id = api.participant("own", "registered")
    refused = api.client.post(f"{V1}/participants/{study_id}/allocation", headers=manager)
    assert refused.json()["error"] == "allocation_refused"
    assert refused.json()["reasons"]
    _conforms(schema, f"POST {V1}/participants/{{study_id}}/allocation", 409, refused.json())


def test_an_undeclared_method_names_every_method_of_the_path(api: Api) -> None:
    for method in ("PUT", "OPTIONS"):
        response = api.client.request(method, f"{V1}/participants", headers=api.bearer("monitor"))
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"  # list and register
        assert response.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_death", 0),  # lax parsing: 1 January 1970
        ("date_of_death", "0"),
        ("date_of_death", "2024-01-01T00:00:00"),  # a date-time is not a date
        ("cause", 1),
        ("cause_icd10", True),
    ],
)
def test_a_body_value_of_another_json_type_is_refused(api: Api, field: str, value: Any) -> None:
    study_id = api.participant("own", "registered")
    body = {"date_of_death": "2024-01-01", "cause": "other", field: value}
    response = api.client.post(
        f"{V1}/participants/{study_id}/death", json=body, headers=api.bearer("site_staff")
    )
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == [field]


def test_booleans_are_true_or_false_and_whole_numbers_may_be_written_3_0(api: Api) -> None:
    staff, statistician = api.bearer("site_staff"), api.bearer("statistician")
    body = {"study": api.STUDY, "site": "IT-TO", "name": "Ida", "birth_date": "1970-05-05"}
    for flag in (0, "false", "no"):
        response = api.client.post(f"{V1}/participants", json={**body, "is_test": flag},
                                   headers=staff)  # fmt: skip
        assert response.status_code == 422, response.text
        assert [f["field"] for f in response.json()["fields"]] == ["is_test"]
    lists = f"{V1}/allocation-lists"
    request = {"study": api.STUDY, "strata": ["IT-TO:50-59"], "is_test": True}
    text = api.client.post(lists, json={**request, "slots_per_stratum": "4"}, headers=statistician)
    assert text.status_code == 422
    assert [f["field"] for f in text.json()["fields"]] == ["slots_per_stratum"]
    number = api.client.post(lists, json={**request, "slots_per_stratum": 4.0},
                             headers=statistician)  # fmt: skip
    assert number.status_code == 201, number.text  # JSON Schema: 4.0 is an integer


def test_list_filters_refuse_unknown_values_and_ids_beyond_the_database(api: Api) -> None:
    monitor = api.bearer("monitor")
    arm = api.client.get(f"{V1}/participants", params={"arm": "placebo"}, headers=monitor)
    assert arm.status_code == 422
    assert arm.json()["detail"] == "arm: 'placebo' is unknown; arms: standard, risk-based"
    beyond = api.client.get(f"{V1}/participants", params={"after": 2**31}, headers=monitor)
    assert beyond.status_code == 422  # PostgreSQL integer ids: it would fail in the database
    assert [f["field"] for f in beyond.json()["fields"]] == ["after"]
    last = api.client.get(f"{V1}/participants", params={"after": 2**31 - 1}, headers=monitor)
    assert last.status_code == 200
    assert last.json()["rows"] == []


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/dashboards/consort", {"study": "demo\x00"}, "study"),
        ("/dashboards/recruitment", {"study": "demo\x00"}, "study"),
        ("/dashboards/allocation-balance", {"study": "demo\x00"}, "study"),
        ("/dashboards/risk-levels", {"study": "demo\x00"}, "study"),
        ("/participants", {"q": "IT\x00"}, "search"),  # the use case's name for q
        ("/worklists/IT-TO", {"study": "demo\x00", "on": "2024-01-02"}, "study"),
    ],
)
def test_a_nul_in_a_query_text_is_refused_on_every_database(
    api_on_each_database: Api, path: str, params: dict[str, str], field: str
) -> None:
    """The schema's text pattern holds everywhere (PostgreSQL text cannot hold U+0000)."""
    api = api_on_each_database
    response = api.client.get(f"{V1}{path}", params=params, headers=api.bearer("data_manager"))
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == [field]


def _takes(dependant: Any, dependency: Any) -> bool:
    return any(sub.call is dependency or _takes(sub, dependency) for sub in dependant.dependencies)


def _operations_taking(api: Api, *dependencies: Any) -> Iterator[str]:
    for route in iter_route_contexts(api.client.app.routes):
        if isinstance(route.original_route, APIRoute) and any(
            _takes(route.dependant, dependency) for dependency in dependencies
        ):
            yield from (f"{method} {route.path_format}" for method in route.methods)


def _operations_taking_the_keys(api: Api) -> Iterator[str]:
    return _operations_taking(api, get_keys)


def _503_codes(operation: dict[str, Any]) -> set[str]:
    documented = _json_schema(operation["responses"]["503"])
    assert documented["allOf"] == [{"$ref": ERROR_BODY}]
    return set(documented["properties"]["error"]["enum"])


def test_every_operation_that_takes_the_identity_keys_documents_503(
    schema: dict[str, Any], api: Api
) -> None:
    """A wrong identity key is answered 503 by whatever route decrypts; the schema says so on
    every operation that takes the keys, and on no other (their 503 is also a busy database)."""
    taking = set(_operations_taking_the_keys(api))
    assert {
        f"GET {V1}/participants/{{study_id}}/identity",  # decrypts her identity
        f"GET {V1}/exports/participants.{{format}}",  # with identifying columns
        f"POST {V1}/participants/{{study_id}}/allocation",  # her age from her date of birth
        f"POST {V1}/auth/login",  # her TOTP secret
        f"POST {V1}/auth/totp/verify",
    } <= taking
    for name, operation in _operations(schema).items():
        codes = _503_codes(operation)
        assert ("identity_key_mismatch" in codes) is (name in taking), name
    # The keys reach a route only through the dependency, never through the app's state.
    api_source = Path(__file__).resolve().parents[2] / "src" / "pebs" / "api"
    for module in api_source.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert not re.search(r"\bstate\.keys\b", text), module


def test_every_operation_documents_a_busy_database(schema: dict[str, Any], api: Api) -> None:
    """Every operation reads the database (the caller's credentials, or its own data), so any
    may find it busy: a 503 ``database_busy`` that may carry ``Retry-After`` (the identity key's
    503 does not)."""
    database = (get_state, get_session_maker, get_read_sessions, get_principal, get_actor)
    operations = _operations(schema)
    assert set(_operations_taking(api, *database)) == set(operations)
    for name, operation in operations.items():
        assert "database_busy" in _503_codes(operation), name
        retry_after = operation["responses"]["503"]["headers"]["Retry-After"]
        assert retry_after["required"] is False, name
        assert retry_after["schema"] == {"type": "string"}, name


def test_a_wrong_identity_key_is_answered_as_documented(schema: dict[str, Any], api: Api) -> None:
    study_id = api.participant("own", "registered")
    username, password, secret = api.new_user("site_staff")
    assert secret is not None
    other_key = Fernet.generate_key().decode()
    with api.client_with_identity_key(other_key) as client:
        identity = client.get(
            f"{V1}/participants/{study_id}/identity", headers=api.bearer("site_staff")
        )
        login = client.post(f"{V1}/auth/login", json={
            "username": username, "password": password,
            "totp_code": code_at(secret, datetime.now(UTC)),
        })  # fmt: skip
    answers = {
        f"GET {V1}/participants/{{study_id}}/identity": identity,
        f"POST {V1}/auth/login": login,  # her TOTP secret is encrypted with the identity key
    }
    for operation, response in answers.items():
        assert response.status_code == 503, (operation, response.text)
        assert response.json()["error"] == "identity_key_mismatch"
        assert other_key not in response.text
        _conforms(schema, operation, 503, response.json())
