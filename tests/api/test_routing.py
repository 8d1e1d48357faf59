"""How the app serves the API's routes: each one a route of the app itself, and the caller found
from the ``Authorization`` header and the session cookie as the schema declares them."""

from __future__ import annotations

from typing import Any

from fastapi.routing import iter_route_contexts

from pebs.api.routers._router import ApiRoute

Api = Any  # conftest.Api
V1 = "/api/v1"


def test_every_api_route_is_a_route_of_the_app_itself(api: Api) -> None:
    routes = api.client.app.routes
    own = {
        (route.path, frozenset(route.methods)) for route in routes if isinstance(route, ApiRoute)
    }
    served = {
        (context.path_format, frozenset(context.methods))
        for context in iter_route_contexts(routes)
        if context.path_format.startswith(f"{V1}/")
    }
    assert served
    assert served == own


def test_the_caller_is_found_by_the_declared_schemes_only(api: Api) -> None:
    token = api.tokens["data_manager"]
    listed = api.client.get(f"{V1}/participants", headers={"Authorization": f"bearer {token}"})
    assert listed.status_code == 200  # the scheme's name in any case, as HTTP says
    for header in (f"Basic {token}", token, f"Bearer{token}", "Bearer "):
        refused = api.client.get(f"{V1}/participants", headers={"Authorization": header})
        assert refused.status_code == 401, header
        assert refused.json()["error"] == "not_authenticated"
    schema = api.client.get("/api/openapi.json").json()
    assert schema["paths"][f"{V1}/participants"]["get"]["security"] == [
        {"HTTPBearer": []},
        {"APIKeyCookie": []},
    ]
