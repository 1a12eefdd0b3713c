"""docs/openapi.yaml: valid OpenAPI 3.1, and naming exactly the REST routes the app serves.

Not REST, so not in the spec: `GET /` (the HTML page), the static files, `GET /ws` (the
WebSocket, described in docs/API.md) and the HEAD aiohttp adds for every GET."""

import copy
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from chatd.app import create_app
from chatd.config import Settings

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
NOT_REST = {("GET", "/"), ("GET", "/ws")}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def load_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def spec_routes(spec: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def app_routes(app: web.Application) -> set[tuple[str, str]]:
    routes = set()
    for route in app.router.routes():
        if isinstance(route.resource, web.StaticResource) or route.method == "HEAD":
            continue
        routes.add((route.method, route.resource.canonical))
    return routes - NOT_REST


def test_the_spec_is_valid_openapi_3_1():
    spec = load_spec()
    assert spec["openapi"].startswith("3.1")
    validate(spec, cls=OpenAPIV31SpecValidator)


def test_the_validator_refuses_a_broken_spec():
    """The check above can fail: a parameter must be in path, query, header or cookie."""
    spec = copy.deepcopy(load_spec())
    spec["components"]["parameters"]["RoomId"]["in"] = "body"
    with pytest.raises(OpenAPIValidationError):
        validate(spec, cls=OpenAPIV31SpecValidator)


def test_the_spec_and_the_router_name_the_same_routes(figure):
    settings = Settings(database_url="postgresql://unused", redis_url="redis://unused")
    app = create_app(settings.with_overrides(jwt_secret="x" * 32))  # connects to nothing yet
    served, described = app_routes(app), spec_routes(load_spec())
    missing = sorted(served - described)
    extra = sorted(described - served)
    problems = [f"served by the app, missing from docs/openapi.yaml: {m} {p}" for m, p in missing]
    problems += [f"in docs/openapi.yaml but not served by the app: {m} {p}" for m, p in extra]
    assert not problems, "\n".join(problems)
    figure(f"routes described {len(described)} of {len(served)} served")


def test_every_authenticated_operation_says_401_and_every_body_route_400_and_422():
    spec = load_spec()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            where = f"{method.upper()} {path}"
            statuses = set(operation["responses"])
            if operation.get("security", spec["security"]):
                assert "401" in statuses, where
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= statuses, where
            if path.startswith("/api"):
                assert "503" in statuses, where
