"""Property-based requests generated from the OpenAPI schema: no input may cause a 5xx.

Every operation gets :data:`EXAMPLES` generated requests (valid and invalid bodies, queries and
path parameters), sent with the data manager's API token (the role that may call most routes);
the statistician's allocation-list routes get as many again with her own token.
The schema is read from an app built for that purpose; the requests run against the state
(database, keys, policy) of the ``api`` fixture's running app: a real SQLite database with the
demo study, demo logins and allocation lists.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from pebs.api import OPENAPI_URL, create_app
from pebs.config import Settings

EXAMPLES = 12
SEEN: Counter[tuple[str, int]] = Counter()
"""(operation, status) of the generated requests (checked by the last test of the module)."""
SEEN_BY_STATISTICIAN: Counter[tuple[str, int]] = Counter()


class _RunningApp:
    """Forwards requests to the ``api`` fixture's app, already started (its lifespan ran once);
    the lifespan events of schemathesis' own client are answered here."""

    def __init__(self) -> None:
        self.app: Any = None

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


_running = _RunningApp()
_OPENAPI = create_app(Settings(database_url="sqlite://")).openapi()  # no database needed
schema = schemathesis.openapi.from_dict(_OPENAPI)
schema.app = _running
schema.location = OPENAPI_URL


@pytest.fixture
def app_state(api: Any) -> Any:
    _running.app = api.client.app
    return api


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_no_server_error_for_any_generated_request(case: Any, app_state: Any) -> None:
    response = case.call(headers=app_state.bearer("data_manager"))
    SEEN[f"{case.method.upper()} {case.path}", response.status_code] += 1
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
    content_type = response.headers.get("content-type") or [""]  # header values are lists
    if content_type[0].startswith("application/json"):
        body = response.json()
        if response.status_code >= 400:
            assert set(body) >= {"error", "detail"}, body


statistician_schema = schema.include(path_regex=r"^/api/v1/allocation-(lists|slots)")


@statistician_schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_no_server_error_for_the_statisticians_routes(case: Any, app_state: Any) -> None:
    """The allocation-list routes answer the data manager 403 above; here, their own role.
    Generated list lengths are capped at 20 slots per stratum to keep the run short (the
    upper limit itself is a validation error, checked in ``test_randomisation_routes``)."""
    body = case.body
    if isinstance(body, dict) and type(body.get("slots_per_stratum")) is int:
        body["slots_per_stratum"] = min(body["slots_per_stratum"], 20)
    response = case.call(headers=app_state.bearer("statistician"))
    SEEN_BY_STATISTICIAN[f"{case.method.upper()} {case.path}", response.status_code] += 1
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
    if response.status_code >= 400:
        assert set(response.json()) >= {"error", "detail"}, response.text


def test_generated_requests_reached_the_routes() -> None:
    """Runs after the generated tests: authenticated requests got both answers and refusals."""
    statuses = {status for _, status in SEEN}
    documented = {
        f"{method.upper()} {path}" for path, ops in _OPENAPI["paths"].items() for method in ops
    }
    assert len(documented) == 38
    assert documented <= {operation for operation, _ in SEEN}
    assert any(200 <= status < 300 for status in statuses), SEEN
    assert {404, 422} <= statuses, SEEN
    # The token was accepted everywhere; only a login with generated credentials fails.
    assert {op for op, status in SEEN if status == 401} <= {"POST /api/v1/auth/login"}, SEEN
    # The statistician's own requests reached her three routes, and some succeeded.
    hers = {op for op in documented if op.startswith("POST /api/v1/allocation-")}
    assert len(hers) == 3
    assert hers <= {operation for operation, _ in SEEN_BY_STATISTICIAN}
    assert any(op in hers and 200 <= status < 300 for op, status in SEEN_BY_STATISTICIAN), (
        SEEN_BY_STATISTICIAN
    )
