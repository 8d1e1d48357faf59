"""Schemathesis as its command line runs it (``st run --checks all``), once per role.

For each demo role, Schemathesis' engine runs every phase (the schema's examples, coverage of
each constraint's edges and of undeclared methods, fuzzing with valid and invalid data, and the
stateful phase that follows the schema's links, e.g. register -> read -> consent -> allocate)
with every check enabled: no server error, documented status codes, content types and headers,
responses that match their schema, invalid data refused, valid data accepted, credentials
enforced, undeclared methods answered 405. Requests carry the role's API token where the
operation accepts one, and a session of a new account of the role (with its CSRF header) where
it asks for the session cookie. The app runs in-process on a new database per role with the
demo study, demo logins and allocation lists (``api_on_each_database``): SQLite here, SQLite and
PostgreSQL in ``make schema-fuzz`` (``PEBS_SCHEMA_FUZZ_BACKENDS``).

Schema-valid data that breaks a rule a JSON schema cannot state is answered 422 naming the rule;
:data:`SEMANTIC_422` lists the operations that have such rules, and every other 422 to valid data
is a failure. A 422 from request validation itself (the schema allowed what the models refuse)
is a failure everywhere (:func:`_request_validation_accepts_valid_data`).

The run is bounded for ``make test`` (:data:`EXAMPLES` per operation and phase, :data:`STEPS`
per stateful scenario, a fixed derandomised search); ``make schema-fuzz`` runs it longer with a
random search (``PEBS_SCHEMA_FUZZ_EXAMPLES``, ``_STEPS``, ``_RANDOM=1``). Each role prints its
figures (cases per phase, links followed, failures; ``pytest -s`` shows them).

The engine is driven directly, as the command line drives it, so Schemathesis' pytest plugin is
not needed and not loaded (``-p no:schemathesis`` in ``pyproject.toml``).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.exceptions import RequestValidationError
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from pebs.api import OPENAPI_URL
from pebs.api.deps import CSRF_HEADER
from pebs.http.session_cookie import SESSION_COOKIE

EXAMPLES = int(os.environ.get("PEBS_SCHEMA_FUZZ_EXAMPLES", "3"))
STEPS = int(os.environ.get("PEBS_SCHEMA_FUZZ_STEPS", "12"))
RANDOM = os.environ.get("PEBS_SCHEMA_FUZZ_RANDOM") == "1"
REQUEST_TIMEOUT_S = 120
BACKENDS = tuple(os.environ.get("PEBS_SCHEMA_FUZZ_BACKENDS", "sqlite").split(","))
ROLES = ("site_staff", "site_investigator", "country_coordinator", "data_manager",
         "statistician", "monitor", "administrator", "laboratory")  # fmt: skip
VALIDATION_MARK = "x-test-request-validation"
"""Set (by this module only) on the 422 answers of request validation."""

SEMANTIC_422 = {
    "POST /api/v1/participants/{study_id}/queries": "an item of the form, the key of its "
    "instance when it repeats, a question that is not blank, a proposed value the item takes",
    "POST /api/v1/queries/{query_id}/answer": "an answer that is not blank, a corrected value "
    "the item takes, for an item a use case corrects",
    "POST /api/v1/queries/{query_id}/close": "a text that is not blank, when given",
    "POST /api/v1/queries/{query_id}/reopen": "a reason that is not blank",
    "POST /api/v1/participants": "a birth date that gives an age outside the study's",
    "POST /api/v1/participants/{study_id}/eligibility": "criteria of the protocol in force",
    "POST /api/v1/participants/{study_id}/consent": "a language of her country in the study",
    "POST /api/v1/participants/{study_id}/withdrawal": "a reason that is not blank",
    "POST /api/v1/participants/{study_id}/allocation/override": "a reason that is not blank",
    "POST /api/v1/allocation-slots/{slot_id}/unusable": "a reason that is not blank",
    "POST /api/v1/allocation-lists": "strata of the study",
    "POST /api/v1/allocation-lists/{list_id}/verification": "a seed the generator takes",
    "POST /api/v1/participants/{study_id}/risk-assessment": "the inputs the study requires, a "
    "classical factor known",
    "POST /api/v1/participants/{study_id}/screening-plan": "dates the planner takes",
    "POST /api/v1/participants/{study_id}/visits": "histology only after a biopsy, the visit's "
    "dates, a density with its reader on a mammogram",
    "POST /api/v1/participants/{study_id}/risk-questionnaire": "the answers the study requires, "
    "a day not in the future",
    "POST /api/v1/participants/{study_id}/canrisk": "a file the CanRisk specification allows, "
    "carrying answers of her questionnaire, the answers the study requires",
    "POST /api/v1/participants/{study_id}/outcomes": "a TNM combination that has a stage",
    "POST /api/v1/studies/{study}/imports": "files whose content is their format's (CSV with "
    "known columns and a header, an ODM 1.3.2 file of the study with its identities file)",
    "POST /api/v1/participants/{study_id}/death": "an ICD-10 code",
    "POST /api/v1/participants/{study_id}/questionnaires": "an instrument of the study and its "
    "items",
    "POST /api/v1/auth/totp/enrolment/confirm": "the code of the new secret",
    "POST /api/v1/users/{username}/disable": "another account than her own",
    "POST /api/v1/users": "a username, a role with its site or country, a password the rules take",
    "POST /api/v1/kits/{kit_id}/collection": "a day from her randomisation to today",
    "POST /api/v1/kits/{kit_id}/abandonment": "a reason that is not blank",
    "POST /api/v1/kits/{kit_id}/recollection": "a reason that is not blank",
    "POST /api/v1/shipments": "kit IDs given once, a day from the collections to today",
    "GET /api/v1/shipments": "an after that is a shipment of the list",
    "POST /api/v1/shipments/{reference}/receipt": "a time from the shipping day to now",
    "POST /api/v1/lab/batches": "a VCF file carrying the variants of the study's score",
    "GET /api/v1/lab/batches": "an after that is a batch of the study",
    "POST /api/v1/lab/conflicts/{kit_id}/resolution": "a reason that is not blank",
    "POST /api/v1/participants/{study_id}/letters": "a letter that applies to her (her arm, her "
    "final result, a kit waiting), the doctor's copy of a risk result only",
    "PUT /api/v1/participants/{study_id}/language": "a language of her country in the study",
    "POST /api/v1/participants/{study_id}/consultations": "a day from her randomisation to today",
    "GET /api/v1/exports/participants.{format}": "identifying columns in a table format only (a "
    "casebook file is pseudonymised)",
    "POST /api/v1/participants/{study_id}/source-verification": "a form of the casebook, with "
    "the key of its instance when it repeats",
    "POST /api/v1/participants/{study_id}/locks": "a form of the casebook, with the key of its "
    "instance when it repeats",
    "POST /api/v1/participants/{study_id}/locks/release": "a form of the casebook, with the key "
    "of its instance when it repeats; a reason that is not blank",
    "POST /api/v1/participants/{study_id}/signature": "the meaning confirmed (accept) in its "
    "current version, a language of the site",
    "POST /api/v1/studies/{study}/lock": "a reason that is not blank",
    "POST /api/v1/studies/{study}/unlock": "a reason that is not blank",
}
"""Operation -> the rules beyond the schema for which valid data may be answered 422."""


@dataclass
class Figures:
    """What one role's run did."""

    role: str
    backend: str
    cases: Counter[str] = field(default_factory=Counter)
    """Phase -> requests sent (generated cases, as Schemathesis counts them)."""
    phase_seconds: Counter[str] = field(default_factory=Counter)
    """Phase -> seconds spent in it."""
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    """(operation, status) -> responses."""
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    """(operation, check) -> the first failure's message and request."""
    errors: list[str] = field(default_factory=list)
    links: int = 0
    """Links between operations the stateful phase chose to follow."""
    seconds: float = 0.0

    def line(self) -> str:
        phases = ", ".join(
            f"{phase} {n} in {self.phase_seconds[phase]:.0f} s"
            for phase, n in sorted(self.cases.items())
        )
        return (f"{self.backend} {self.role}: {sum(self.cases.values())} cases ({phases}); "
                f"{self.links} links; "
                f"{len(self.failures)} failures, {len(self.errors)} errors; "
                f"{self.seconds:.0f} s")  # fmt: skip


class _RunningApp:
    """The fixture's app, already started (its lifespan ran once): the lifespan events of
    Schemathesis' own client are answered here."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await self.app(scope, receive, send)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backends of :data:`BACKENDS` (overrides the suite's, which runs both)."""
    return request.param


@pytest.fixture
def marked_api(api_on_each_database: Any, backend: str) -> Any:
    """The API on a new database (see ``tests/api/conftest.py``), its request-validation
    answers marked with :data:`VALIDATION_MARK`."""
    api = api_on_each_database
    app = api.client.app
    handler = app.exception_handlers[RequestValidationError]

    async def marked(request: Any, error: Exception) -> Any:
        response = await handler(request, error)
        response.headers[VALIDATION_MARK] = "1"
        return response

    app.exception_handlers[RequestValidationError] = marked
    app.middleware_stack = app.build_middleware_stack()
    api.backend = backend
    return api


@schemathesis.check
def _request_validation_accepts_valid_data(ctx: Any, response: Any, case: Any) -> bool | None:
    """Data valid under the schema passes request validation (the schema is the models)."""
    meta = case.meta
    if (
        meta is not None
        and meta.generation.mode.is_positive
        and response.headers.get(VALIDATION_MARK)
    ):
        raise AssertionError(f"request validation refused schema-valid data: {response.text}")
    return None


def _config(api: Any, role: str) -> SchemathesisConfig:
    username, password, secret = api.new_user(role)
    csrf = api.login(username, password, secret)
    session = api.client.cookies[SESSION_COOKIE]
    api.client.cookies.clear()
    accepted = ["2xx", "3xx", "401", "403", "404", "409", "429"]
    return SchemathesisConfig.from_dict({
        "workers": 1,
        # Correctness, not speed (benchmarks measure that): generating a list of 10,000 slots per
        # stratum for every stratum takes over 10 s (the default) on a loaded machine.
        "request-timeout": REQUEST_TIMEOUT_S,
        "headers": {CSRF_HEADER: csrf[CSRF_HEADER]},
        "auth": {
            "openapi": {"HTTPBearer": {"bearer": api.tokens[role]},
                        "APIKeyCookie": {"api_key": session}},
            "auto-signup": False,
        },
        "checks": {"enabled": True},
        "generation": {"max-examples": EXAMPLES, "deterministic": not RANDOM},
        "phases": {"stateful": {"max-steps": STEPS}},
        "operations": [
            {"include-name": operation,
             "checks": {"positive_data_acceptance": {"expected-statuses": [*accepted, "422"]}}}
            for operation in SEMANTIC_422
        ],
    })  # fmt: skip


def run_schemathesis(api: Any, role: str) -> Figures:
    """Every phase and check of Schemathesis against the app, as ``role``."""
    figures = Figures(role, api.backend)
    schema = schemathesis.openapi.from_dict(api.client.app.openapi(), config=_config(api, role))
    schema.app = _RunningApp(api.client.app)
    schema.location = OPENAPI_URL
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            figures.cases[event.phase.value] += len(recorder.cases)
            figures.phase_seconds[event.phase.value] += event.elapsed_time
            for case_id, interaction in recorder.interactions.items():
                if interaction.response is not None and case_id in recorder.cases:
                    label = recorder.cases[case_id].value.operation.label
                    figures.statuses[label, interaction.response.status_code] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    case = recorder.cases[case_id].value if case_id in recorder.cases else None
                    label = case.operation.label if case is not None else recorder.label
                    failure = check.failure_info.failure
                    figures.failures.setdefault(
                        (label, check.name),
                        f"{failure.title}: {failure.message}\n{check.failure_info.code_sample}",
                    )
        elif isinstance(event, events.PhaseStarted) and event.payload is not None:
            figures.links = event.payload.transitions_selected
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            figures.errors.append(str(getattr(event, "info", event)))
    figures.seconds = time.monotonic() - started
    return figures


@pytest.mark.slow
@pytest.mark.filterwarnings(  # Hypothesis' notice about its own report of a large body
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_finds_nothing(marked_api: Any, role: str) -> None:
    assert set(ROLES) == set(marked_api.ROLES)  # every demo role, none left out
    figures = run_schemathesis(marked_api, role)
    print(figures.line())
    report = "\n\n".join(f"{op} [{check}]\n{text[:1500]}"
                         for (op, check), text in sorted(figures.failures.items()))  # fmt: skip
    assert not figures.failures, report
    assert not figures.errors, "\n\n".join(error[:1500] for error in figures.errors)
    # Every phase ran, the stateful one included, and every operation was reached.
    assert {"examples", "coverage", "fuzzing", "stateful"} <= set(figures.cases), figures.cases
    operations = {
        f"{method.upper()} {path}"
        for path, item in marked_api.client.app.openapi()["paths"].items()
        for method in item
    }
    assert operations <= {label for label, _ in figures.statuses}, figures.statuses
    # Valid requests were answered 2xx somewhere, and invalid ones were refused.
    statuses = {status for _, status in figures.statuses}
    assert any(200 <= status < 300 for status in statuses), figures.statuses
    assert {401, 422} <= statuses, figures.statuses
