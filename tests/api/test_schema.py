"""The OpenAPI schema and the reference page: public, complete, and loading nothing from elsewhere."""

import re

from django.test import Client

from tests.api.conftest import API

ROUTES = {
    ("get", "/api/v1/me/keys"),
    ("get", "/api/v1/cases/{reference}/conversations"),
    ("get", "/api/v1/conversations/{public_id}/members"),
    ("get", "/api/v1/conversations/{public_id}/messages"),
    ("post", "/api/v1/conversations/{public_id}/messages"),
    ("get", "/api/v1/programs"),
    ("get", "/api/v1/cases"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases/{reference}"),
    ("get", "/api/v1/cases/{reference}/timeline"),
    ("post", "/api/v1/cases/{reference}/transitions"),
    ("post", "/api/v1/cases/{reference}/invitations"),
    ("post", "/api/v1/cases/{reference}/invitations/{invitation_id}/revoke"),
    ("get", "/api/v1/cases/{reference}/readiness"),
    ("get", "/api/v1/cases/{reference}/sessions"),
    ("post", "/api/v1/cases/{reference}/sessions"),
    ("post", "/api/v1/cases/{reference}/sessions/{session_id}/cancel"),
    ("post", "/api/v1/cases/{reference}/people/{participant_id}/assessments"),
    ("post", "/api/v1/cases/{reference}/people/{participant_id}/acknowledgment/confirm"),
    ("post", "/api/v1/cases/{reference}/conflict-declarations"),
}


def _schema():
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_it_serves_the_schema_without_signing_in(db):
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["info"]["title"] == "Mend API"


def test_it_lists_every_route_in_the_schema(db):
    paths = _schema()["paths"]
    assert {(method, path) for path, methods in paths.items() for method in methods} == ROUTES


def test_it_asks_for_a_token_or_session_on_every_route(db):
    schema = _schema()
    assert schema["components"]["securitySchemes"]["ApiTokenAuth"] == {"type": "http", "scheme": "bearer"}
    for methods in schema["paths"].values():
        for operation in methods.values():
            assert {"ApiTokenAuth": []} in operation["security"]
            assert "401" in operation["responses"]


def test_it_lists_the_allowed_values_in_the_schema(db):
    body = _schema()["components"]["schemas"]["TransitionIn"]["properties"]["action"]
    assert "accept_referral" in body["enum"]


def test_it_serves_a_reference_page_that_loads_nothing_from_elsewhere(db):
    response = Client().get(f"{API}/docs")
    content = response.content.decode()
    assert response.status_code == 200
    assert "<script" not in content
    assert "style=" not in content
    assert not re.search(r'(src|href)="(https?:)?//', content)
    assert 'href="/api/v1/openapi.json"' in content
    for _method, path in ROUTES:
        assert path in content


def test_it_answers_404_at_the_api_root(db):
    assert Client().get(f"{API}/").status_code == 404
