"""Schemathesis against Mend's own OpenAPI schema: whatever a client sends, the API never answers 500."""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.api.conftest import token_for

# Loaded through the app itself, as any client would; serving the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())


@pytest.fixture
def bearer(cast) -> dict:
    # Calls go through the real WSGI handler inside the test's transaction, so it must not close the
    # connection after each request (Django's own test client avoids that the same way).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {token_for(cast.coordinator)}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _reach_real_data(case, cast) -> None:
    # Random references and program ids only ever meet a 404; pointing them at the cast's case and
    # program lets the generated bodies reach the services behind it.
    if "reference" in (case.path_parameters or {}):
        case.path_parameters["reference"] = cast.case.reference
    if isinstance(case.body, dict) and isinstance(case.body.get("program_id"), int):
        case.body["program_id"] = cast.program.pk


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_it_never_answers_500_to_what_the_schema_allows_or_forbids(case, cast, bearer):
    _reach_real_data(case, cast)
    case.call_and_validate(headers=bearer, checks=[not_a_server_error])
