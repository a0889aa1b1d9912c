"""Inviting people into a case through the API, and withdrawing an invitation before it is used."""

import json
import re

import pytest
from django.test import Client

from mend.accounts.keys import unknown_credentials
from mend.accounts.models import Invitation
from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Participant


def _path_of(link: str) -> str:
    return link.split("testserver", 1)[1]


def test_it_invites_a_community_member_with_a_one_time_link(cast, api_as):
    response = api_as("facilitator").post(
        f"/cases/{cast.case.reference}/invitations", {"role": "community_member", "expires_in_days": 3}
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["role"], body["state"]) == ("community_member", "open")
    assert "/join/" in body["link"]
    assert AuditEvent.objects.filter(case=cast.case, code="participant.invited").count() == 4

    visitor = Client()
    assert visitor.get(_path_of(body["link"])).status_code == 200
    page = visitor.get(_path_of(body["link"])).content.decode()
    signed_name = re.search(r'name="sign_in_name" value="([^"]+)"', page).group(1)
    made = unknown_credentials("unused-name")  # what the page's script makes: a derived key and keys
    joined = visitor.post(
        _path_of(body["link"]),
        {
            "pseudonym": "Heron",
            "time_zone": "UTC",
            "sign_in_name": signed_name,
            "auth_key": made["auth_key"],
            "keys": json.dumps(made["keys"]),
        },
        HTTP_ACCEPT="application/json",
    )
    assert joined.status_code == 200 and joined.json()["sign_in_name"]
    assert Participant.objects.get(pk=body["participant_id"]).pseudonym == "Heron"
    assert Client().get(_path_of(body["link"])).status_code == 410


def test_it_never_stores_the_link(cast, api_as):
    body = (
        api_as("facilitator")
        .post(f"/cases/{cast.case.reference}/invitations", {"role": "interpreter"})
        .json()
    )
    token = body["link"].rstrip("/").rsplit("/", 1)[1]
    assert not Invitation.objects.filter(digest=token).exists()
    assert Invitation.objects.get(pk=body["id"]).digest != token


def test_it_invites_a_supporter_for_a_party(cast, api_as):
    response = api_as("facilitator").post(
        f"/cases/{cast.case.reference}/invitations", {"role": "supporter", "supports_id": cast.responsible.pk}
    )
    assert response.status_code == 201
    assert Participant.objects.get(pk=response.json()["participant_id"]).supports == cast.responsible


@pytest.mark.parametrize("supports", ["none", "supporter", "other_case", "missing", "huge"])
def test_it_asks_which_party_a_supporter_is_for(cast, api_as, supports):
    other_case_party = Participant.objects.filter(user=cast.outsider).get()
    supports_id = {
        "none": None,
        "supporter": cast.supporter.pk,
        "other_case": other_case_party.pk,
        "missing": 99999,
        "huge": 2**70,
    }[supports]
    before = Participant.objects.count()
    response = api_as("facilitator").post(
        f"/cases/{cast.case.reference}/invitations", {"role": "supporter", "supports_id": supports_id}
    )
    assert response.status_code in (400, 422)
    body = response.json()
    assert "supports" in body["detail"] + body.get("field", "")
    assert Participant.objects.count() == before


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"role": "facilitator"}, "role: Input should be 'harmed_party'"),
        ({"role": "judge"}, "role: Input should be 'harmed_party'"),
        ({"role": "interpreter", "expires_in_days": 0}, "expires_in_days:"),
        ({"role": "interpreter", "expires_in_days": 31}, "expires_in_days:"),
        ({}, "role:"),
    ],
)
def test_it_says_what_to_fix_in_an_invitation(cast, api_as, body, words):
    before = Participant.objects.count()
    response = api_as("facilitator").post(f"/cases/{cast.case.reference}/invitations", body)
    assert response.status_code == 422
    assert words in response.json()["detail"]
    assert Participant.objects.count() == before


def test_it_invites_nobody_into_a_closed_case(cast, api_as):
    case_services.case_transition(
        actor=cast.facilitator, case=cast.case, action="close", closure_reason="not_suitable"
    )
    response = api_as("facilitator").post(
        f"/cases/{cast.case.reference}/invitations", {"role": "interpreter"}
    )
    assert response.status_code == 409
    assert "closed" in response.json()["detail"]


@pytest.mark.parametrize("who", ["other_facilitator_same_program", "other_program_facilitator", "volunteer"])
def test_it_answers_404_to_staff_outside_the_case_who_try_to_invite(cast, api_as, who):
    before = Participant.objects.count()
    response = api_as(who).post(f"/cases/{cast.case.reference}/invitations", {"role": "interpreter"})
    assert response.status_code == 404
    assert Participant.objects.count() == before


def _open_invitation(cast) -> tuple[Invitation, str]:
    return case_services.participant_invite(actor=cast.facilitator, case=cast.case, role="interpreter")


def test_it_revokes_an_open_invitation(cast, api_as):
    invitation, raw = _open_invitation(cast)
    response = api_as("facilitator").post(f"/cases/{cast.case.reference}/invitations/{invitation.pk}/revoke")
    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert response.json()["link"] is None
    assert AuditEvent.objects.filter(case=cast.case, code="invitation.revoked").count() == 1
    assert Client().get(f"/join/{raw}/").status_code == 410


def test_it_cannot_revoke_a_used_invitation(cast, api_as):
    used = Invitation.objects.get(participant=cast.harmed)
    response = api_as("facilitator").post(f"/cases/{cast.case.reference}/invitations/{used.pk}/revoke")
    assert response.status_code == 409
    assert "already been used" in response.json()["detail"]


def test_it_answers_404_for_an_invitation_of_another_case(cast, api_as):
    other_case_invitation = Invitation.objects.get(participant__user=cast.outsider)
    response = api_as("coordinator").post(
        f"/cases/{cast.case.reference}/invitations/{other_case_invitation.pk}/revoke"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("invitation_id", ["999999", str(2**70), "-1", "abc"])
def test_it_answers_4xx_for_an_invitation_that_cannot_exist(cast, api_as, invitation_id):
    response = api_as("facilitator").post(f"/cases/{cast.case.reference}/invitations/{invitation_id}/revoke")
    assert response.status_code in (404, 422)
    assert response.json()["detail"]


@pytest.mark.parametrize("who", ["other_facilitator_same_program", "other_program_facilitator", "volunteer"])
def test_it_answers_404_to_staff_outside_the_case_who_try_to_revoke(cast, api_as, who):
    invitation, _raw = _open_invitation(cast)
    response = api_as(who).post(f"/cases/{cast.case.reference}/invitations/{invitation.pk}/revoke")
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
