"""Who may call the API: staff with a personal token, or staff whose web session passed the second factor."""

import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from mend.accounts import services as account_services
from mend.accounts.models import ApiToken
from mend.core.errors import DomainError
from tests.api.conftest import API, ApiCaller, token_for
from tests.builders import signed_in


def test_it_accepts_a_token_from_api_token_create_as_a_bearer_token(cast):
    response = ApiCaller(token_for(cast.facilitator)).get("/programs")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == [cast.program.name]


def test_it_refuses_a_revoked_token(cast):
    api_token, raw = account_services.api_token_create(actor=cast.facilitator, label="laptop")
    account_services.api_token_revoke(actor=cast.facilitator, api_token=api_token)
    response = ApiCaller(raw).get("/programs")
    assert response.status_code == 401
    assert "token" in response.json()["detail"]
    assert "revoked" in response.json()["detail"]


def test_it_refuses_a_wrong_token(cast):
    raw = token_for(cast.facilitator)
    response = ApiCaller(raw[:-2] + "xx").get("/cases")
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]


def test_it_refuses_a_call_without_a_token(cast):
    response = Client().get(f"{API}/cases")
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_another_authorization_scheme(cast):
    raw = token_for(cast.facilitator)
    response = Client(HTTP_AUTHORIZATION=f"Token {raw}").get(f"{API}/cases")
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


def test_it_answers_401_not_a_csrf_error_to_a_post_with_a_wrong_token(cast):
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION="Bearer mend_not-a-real-token")
    response = client.post(f"{API}/cases", {}, content_type="application/json")
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]


def test_it_needs_no_csrf_token_with_a_bearer_token(cast):
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token_for(cast.facilitator)}")
    response = client.post(
        f"{API}/cases/{cast.case.reference}/transitions", {"action": "pause"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["stage"] == "paused"


def test_it_refuses_a_token_whose_owner_was_deactivated(cast):
    raw = token_for(cast.facilitator)
    cast.facilitator.is_active = False
    cast.facilitator.save(update_fields=["is_active"])
    assert ApiCaller(raw).get("/programs").status_code == 401


def test_it_makes_no_token_for_a_participant(cast):
    with pytest.raises(DomainError):
        account_services.api_token_create(actor=cast.harmed.user, label="mine")
    assert not ApiToken.objects.filter(user=cast.harmed.user).exists()


def test_it_stores_a_token_only_as_its_digest(cast):
    api_token, raw = account_services.api_token_create(actor=cast.facilitator, label="laptop")
    api_token.refresh_from_db()
    assert api_token.digest == hashlib.sha256(raw.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.filter(pk=api_token.pk).values().get().values()]
    assert not any(raw in value or raw[5:] in value for value in stored)
    assert len(api_token.prefix) < 8


def test_it_records_when_a_token_was_last_used(cast):
    api_token, raw = account_services.api_token_create(actor=cast.facilitator, label="laptop")
    assert api_token.last_used_at is None
    before = timezone.now()
    ApiCaller(raw).get("/programs")
    api_token.refresh_from_db()
    assert api_token.last_used_at is not None
    assert api_token.last_used_at >= before


def test_it_refuses_a_staff_session_without_the_second_factor(cast):
    client = Client()
    client.force_login(cast.facilitator)
    response = client.get(f"{API}/cases")
    assert response.status_code == 401
    assert response.json() == {"detail": "Sign in, or send a personal API token as a Bearer token."}


def test_it_accepts_a_staff_session_with_the_second_factor_checked(cast):
    response = signed_in(cast.facilitator).get(f"{API}/cases")
    assert response.status_code == 200
    assert [c["reference"] for c in response.json()["items"]] == [cast.case.reference]


@pytest.mark.parametrize("who", ["harmed", "responsible", "supporter"])
def test_it_refuses_a_participant_session(cast, who):
    response = cast.client(who).get(f"{API}/cases/{cast.case.reference}")
    assert response.status_code == 401


def test_it_refuses_an_outsider_session(cast):
    response = signed_in(cast.outsider).get(f"{API}/cases")
    assert response.status_code == 401


def _verified_client_enforcing_csrf(user) -> Client:
    client = signed_in(user)
    checked = Client(enforce_csrf_checks=True)
    checked.cookies = client.cookies
    return checked


def test_it_refuses_a_session_post_without_a_csrf_token(cast):
    client = _verified_client_enforcing_csrf(cast.facilitator)
    response = client.post(
        f"{API}/cases/{cast.case.reference}/transitions", {"action": "pause"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "X-CSRFToken" in response.json()["detail"]
    cast.case.refresh_from_db()
    assert cast.case.stage == "referral"


def test_it_accepts_a_session_post_with_a_csrf_token(cast):
    client = _verified_client_enforcing_csrf(cast.facilitator)
    client.get("/cases/new/")  # any page with a form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        f"{API}/cases/{cast.case.reference}/transitions",
        {"action": "pause"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert response.status_code == 200
    assert response.json()["stage"] == "paused"


def test_it_lets_a_session_get_through_without_a_csrf_token(cast):
    client = _verified_client_enforcing_csrf(cast.facilitator)
    assert client.get(f"{API}/cases").status_code == 200
