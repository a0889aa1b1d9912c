"""Callers of the JSON API: a staff member's personal token, or their web session."""

import pytest
from django.test import Client

from mend.accounts import services as account_services

API = "/api/v1"


class ApiCaller:
    """Calls /api/v1/ as one person, with their personal API token as a Bearer token."""

    def __init__(self, raw_token: str):
        self.raw_token = raw_token
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}")

    def get(self, path: str, params: dict | None = None):
        return self.client.get(API + path, params or {})

    def post(self, path: str, body: dict | None = None):
        return self.client.post(API + path, body or {}, content_type="application/json")


def token_for(user) -> str:
    _api_token, raw = account_services.api_token_create(actor=user, label="tests")
    return raw


@pytest.fixture
def api_as(cast):
    """`api_as("facilitator")` is an ApiCaller for that member of the cast."""

    def caller(who: str) -> ApiCaller:
        return ApiCaller(token_for(getattr(cast, who)))

    return caller
