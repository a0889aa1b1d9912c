"""Bad input on every form and API call gets a 4xx that says what to fix, and writes nothing at all."""

import functools
import html
import json
import re
import zoneinfo
from contextlib import contextmanager

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mend.accounts import services as account_services
from mend.accounts.forms import NEEDS_JAVASCRIPT
from mend.accounts.models import ApiToken, Invitation
from mend.accounts.views import SIGN_IN_FAILED
from mend.api import api
from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Case, HarmCategory, Participant, ReferralSource, Role
from mend.cases.services import INVITABLE_ROLES
from mend.cases.workflow import ACTIONS
from mend.core import envelope as env
from mend.dialogue import services as dialogue_services
from mend.dialogue.models import Attachment, Message
from tests.accounts.helpers import sign_in
from tests.builders import PASSWORD
from tests.dialogue.helpers import give_keys, seal

_time_zones = functools.cache(zoneinfo.available_timezones)


@pytest.fixture(autouse=True)
def quick_time_zones(monkeypatch):
    """Speed only: mend.core.validators.time_zone walks the time-zone files on every call."""
    monkeypatch.setattr(zoneinfo, "available_timezones", _time_zones)


def counts() -> dict:
    return {
        "cases": Case.objects.count(),
        "participants": Participant.objects.count(),
        "invitations": Invitation.objects.count(),
        "audit": AuditEvent.objects.count(),
        "tokens": ApiToken.objects.count(),
        "devices": TOTPDevice.objects.count(),
        "messages": Message.objects.count(),
        "files": Attachment.objects.count(),
        "stages": sorted(Case.objects.values_list("reference", "stage")),
    }


@contextmanager
def nothing_written():
    before = counts()
    yield
    assert counts() == before, "a refused request changed the database"


def text(response) -> str:
    return html.unescape(response.content.decode())


def field_error(response, field: str) -> str:
    """The error shown next to a form field (its <p class="error"> tied to the field by id)."""
    found = re.search(rf'<p class="error" id="id_{field}_error">(.*?)</p>', text(response), re.S)
    assert found, f"no error shown for {field}"
    return found.group(1)


def summary_error(response) -> str:
    """The words of the page's error summary, without its heading ("There is 1 thing to fix")."""
    found = re.search(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', text(response), re.S)
    assert found, "no error summary shown"
    words = re.sub(r"<h2>.*?</h2>", "", found.group(1), flags=re.S)
    return re.sub(r"\s*\n\s*", "", re.sub(r"<[^>]+>", "", words)).strip()


# Pages -------------------------------------------------------------------------------------------


def intake(cast, **changes):
    form = {
        "program": str(cast.program.pk),
        "harm_category": "fraud",
        "jurisdictions": "NZ",
        "referral_source": "self",
        "referral_details": "",
        "intake_notes": "",
    }
    form.update(changes)
    return cast.client("coordinator").post("/cases/new/", {k: v for k, v in form.items() if v is not None})


@pytest.mark.parametrize(
    ("who", "page", "field"),
    [
        ("facilitator", "/account/two-factor/", "code"),
        ("facilitator", "/account/tokens/", "label"),
        ("coordinator", "/cases/new/", "harm_category"),
        ("anonymous", "join", "pseudonym"),
        ("facilitator", "invite", "invite-role"),
    ],
)
def test_it_says_what_is_missing_from_an_empty_form_post(cast, who, page, field):
    if page == "join":
        _invitation, raw = case_services.participant_invite(
            actor=cast.facilitator, case=cast.case, role="interpreter"
        )
        page = f"/join/{raw}/"
    elif page == "invite":
        page = f"/cases/{cast.case.reference}/invite/"
    client = Client() if who == "anonymous" else cast.client(who)
    with nothing_written():
        response = client.post(page, {})
    assert response.status_code == 400
    assert field_error(response, field) == "This field is required."


def test_it_deletes_nothing_until_the_box_is_ticked(cast):
    with nothing_written():
        response = cast.client("harmed").post(
            f"/cases/{cast.case.reference}/delete-my-information/", {"confirm": ""}
        )
    assert response.status_code == 400
    assert field_error(response, "confirm") == (
        "Tick the box if you want your information deleted. Nothing has been deleted."
    )


def test_it_opens_a_case_from_a_good_intake_form(cast):
    response = intake(cast, jurisdictions="nz, AU-NSW")
    case = Case.objects.order_by("-pk").first()
    assert response["Location"] == f"/cases/{case.reference}/"
    assert case.jurisdictions == ["NZ", "AU-NSW"]


def test_it_names_every_missing_field_of_the_intake_form(cast):
    with nothing_written():
        response = cast.client("coordinator").post("/cases/new/", {})
    assert response.status_code == 400
    for field in ("program", "harm_category", "jurisdictions", "referral_source"):
        assert field_error(response, field) == "This field is required."


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"harm_category": "arson"}, "harm_category", "Select a valid choice. arson is not one of"),
        ({"referral_source": "rumour"}, "referral_source", "Select a valid choice. rumour is not one of"),
        ({"program": "999999"}, "program", "Select a valid choice. 999999 is not one of"),
        ({"program": "first"}, "program", "Select a valid choice."),
        ({"jurisdictions": " , "}, None, "Add at least one country or region code, like NZ or AU-NSW."),
        ({"jurisdictions": "x" * 201}, "jurisdictions", "Ensure this value has at most 200 characters"),
        (
            {"referral_details": "x" * 5001},
            "referral_details",
            "Ensure this value has at most 5000 characters",
        ),
        ({"intake_notes": "x" * 5001}, "intake_notes", "Ensure this value has at most 5000 characters"),
        ({"intake_notes": "a\x00b"}, "intake_notes", "Null characters are not allowed."),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None,
)
def test_it_says_what_to_fix_in_the_intake_form(cast, changes, field, message):
    with nothing_written():
        response = intake(cast, **changes)
    assert response.status_code == 400
    shown = field_error(response, field) if field else summary_error(response)
    assert shown.startswith(message)


@pytest.mark.parametrize("codes", ["XX", "NZ, XX", "AU-ZZZ", "New Zealand"])
def test_it_names_the_jurisdiction_code_it_does_not_know(cast, codes):
    with nothing_written():
        response = intake(cast, jurisdictions=codes)
    assert response.status_code == 400
    bad = codes.split(", ")[-1].upper()
    assert summary_error(response) == (
        f"“{bad}” is not a country or region code we know. Use codes like NZ, GB or AU-NSW."
    )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("stage=finished", "stage", "Select a valid choice. finished is not one of the available choices."),
        ("category=arson", "category", "Select a valid choice. arson is not one of the available choices."),
        ("facilitator=999999", "facilitator", "Select a valid choice. 999999 is not one of"),
        ("facilitator=me", "facilitator", "Select a valid choice. me is not one of"),
        ("after=last", "after", "This page link is not one Mend made. Start again from the newest cases."),
        ("before=%00", "before", "This page link is not one Mend made. Start again from the newest cases."),
        ("after=MTIzNDU2Nzg5MC4x&before=MTIzNDU2Nzg5MC4y", "before", "This page link asks for two places"),
    ],
)
def test_it_says_which_case_list_filter_is_wrong(cast, query, field, message):
    response = cast.client("coordinator").get("/cases/?" + query)
    assert response.status_code == 400
    assert field_error(response, field).startswith(message)
    # A bad filter shows the unfiltered list rather than an empty page.
    assert cast.case.reference in text(response)


def test_it_refuses_a_step_mend_does_not_know(cast):
    with nothing_written():
        response = cast.client("facilitator").post(
            f"/cases/{cast.case.reference}/transition/", {"action": "fly"}
        )
    assert response.status_code == 400
    assert summary_error(response) == "That step is not one Mend knows. Use the buttons below."


def test_it_refuses_a_step_the_stage_does_not_allow_with_409(cast):
    with nothing_written():
        response = cast.client("facilitator").post(
            f"/cases/{cast.case.reference}/transition/", {"action": "resume"}
        )
    assert response.status_code == 409
    assert summary_error(response) == "This case is at the referral stage, where that step is not possible."


def test_it_says_what_a_guard_is_waiting_for(cast):
    case = case_services.case_create(
        actor=cast.coordinator, program=cast.program, harm_category="doxxing", jurisdictions=["NZ"],
        referral_source="self",
    )  # fmt: skip
    case_services.case_transition(actor=cast.coordinator, case=case, action="accept_referral")
    with nothing_written():
        response = cast.client("coordinator").post(
            f"/cases/{case.reference}/transition/", {"action": "start_assessment"}
        )
    assert response.status_code == 409
    assert summary_error(response) == "Waiting for: a facilitator assigned to the case."


def test_it_lists_every_party_a_guard_is_still_waiting_for(cast):
    case_services.participant_invite(actor=cast.facilitator, case=cast.case, role=Role.HARMED_PARTY)
    for action in ("accept_referral", "start_assessment"):
        case_services.case_transition(actor=cast.facilitator, case=cast.case, action=action)
    with nothing_written():
        response = cast.client("facilitator").post(
            f"/cases/{cast.case.reference}/transition/", {"action": "start_preparation"}
        )
    assert response.status_code == 409
    assert summary_error(response) == "Waiting for: the person harmed to accept their invitation."


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"role": "facilitator"}, "role", "Select a valid choice. facilitator is not one of"),
        ({"role": "queen"}, "role", "Select a valid choice. queen is not one of"),
        ({"role": ""}, "role", "This field is required."),
        ({"expires_in_days": "0"}, "expires_in_days", "Ensure this value is greater than or equal to 1."),
        ({"expires_in_days": "31"}, "expires_in_days", "Ensure this value is less than or equal to 30."),
        ({"expires_in_days": "soon"}, "expires_in_days", "Enter a whole number."),
        ({"role": "supporter"}, "supports", "Choose which party this supporter is there for."),
        (
            {"role": "supporter", "supports": "999999"},
            "supports",
            "Select a valid choice. 999999 is not one of",
        ),
    ],
)
def test_it_says_what_to_fix_in_an_invitation(cast, form, field, message):
    sent = {
        f"invite-{name}": value
        for name, value in {"role": "harmed_party", "expires_in_days": "7", **form}.items()
    }
    with nothing_written():
        response = cast.client("facilitator").post(f"/cases/{cast.case.reference}/invite/", sent)
    assert response.status_code == 400
    assert field_error(response, f"invite-{field}").startswith(message)


def test_it_invites_nobody_into_a_closed_case(cast):
    case_services.case_transition(
        actor=cast.facilitator, case=cast.case, action="close", closure_reason="not_suitable"
    )
    with nothing_written():
        response = cast.client("facilitator").post(
            f"/cases/{cast.case.reference}/invite/",
            {"invite-role": "harmed_party", "invite-expires_in_days": "7"},
        )
    assert response.status_code == 409
    assert summary_error(response) == "This case is closed. Reopen it before inviting anyone."


@pytest.mark.parametrize(
    ("identifier", "secret"),
    [("fac@riverbend.test", "not the password"), ("nobody@riverbend.test", PASSWORD), ("wren-abcd", "a b c")],
)
def test_it_refuses_a_wrong_sign_in_with_one_message_for_every_reason(cast, identifier, secret):
    client = Client()
    with nothing_written():
        response = sign_in(client, identifier, secret)
    assert response.status_code == 400
    assert summary_error(response) == SIGN_IN_FAILED
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("form", [{}, {"identifier": "", "auth_key": ""}])
def test_it_names_what_is_missing_from_an_empty_sign_in(cast, form):
    with nothing_written():
        response = Client().post("/account/sign-in/", form)
    assert response.status_code == 400
    # The identifier is required, and the derived key is missing only when the page's script did not run.
    assert summary_error(response) == "This field is required." + str(NEEDS_JAVASCRIPT)


@pytest.mark.parametrize("key", ["a password typed in", "A" * 42, "+" * 43])
def test_it_refuses_a_sign_in_key_the_page_did_not_make(cast, key):
    with nothing_written():
        response = Client().post("/account/sign-in/", {"identifier": "fac@riverbend.test", "auth_key": key})
    assert response.status_code == 400
    assert str(NEEDS_JAVASCRIPT) in summary_error(response)


@pytest.mark.parametrize("code", ["000000", "12ab56", "", "1234567890"])
def test_it_refuses_a_wrong_second_factor_code(cast, code):
    client = Client()
    client.force_login(cast.facilitator)
    with nothing_written():
        response = client.post("/account/two-factor/", {"code": code})
    assert response.status_code == 400
    expected = "This field is required." if not code else account_services.WRONG_CODE
    assert field_error(response, "code") == expected
    assert client.get("/cases/")["Location"] == "/account/two-factor/"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("12ab56", "Enter the 6-digit code your authenticator app shows."),
        ("000000", account_services.WRONG_CODE),
    ],
)
def test_it_enrols_no_authenticator_with_a_wrong_code(cast, code, message):
    TOTPDevice.objects.filter(user=cast.volunteer).delete()
    client = Client()
    client.force_login(cast.volunteer)
    assert client.get("/account/two-factor/").status_code == 200
    with nothing_written():
        response = client.post("/account/two-factor/", {"code": code})
    assert response.status_code == 400
    assert field_error(response, "code") == message


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 81, "Ensure this value has at most 80"),
    ],
)
def test_it_says_what_to_fix_in_an_api_token_label(cast, label, message):
    with nothing_written():
        response = cast.client("facilitator").post("/account/tokens/", {"label": label})
    assert response.status_code == 400
    assert field_error(response, "label").startswith(message)
    assert 'data-testid="new-token"' not in text(response)


# The API -----------------------------------------------------------------------------------------


def api_post(client, path: str, body) -> tuple[int, dict]:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = client.post("/api/v1" + path, raw, content_type="application/json")
    return response.status_code, response.json()


def good_case(cast, **changes) -> dict:
    return {
        "program_id": cast.program.pk,
        "harm_category": "fraud",
        "jurisdictions": ["NZ"],
        "referral_source": "self",
        **changes,
    }


def post_routes() -> set[str]:
    return {
        path
        for _prefix, router in api._routers
        for path, view in router.path_operations.items()
        for operation in view.operations
        if "POST" in operation.methods
    }


SESSION = {
    "kind": "dialogue",
    "format": "video",
    "starts_at": "2031-05-06T10:30:00+12:00",
    "time_zone": "Pacific/Auckland",
    "attendee_ids": [1],
}


def team_conversation(cast):
    return dialogue_services.conversation_open(case=cast.case, kind="team")


def good_envelope(cast) -> dict:
    """A message the facilitator may send to the case team now, sealed with their current keys."""
    conversation = team_conversation(cast)
    return seal(conversation, give_keys(cast.facilitator), "a note for the team")


ENVELOPE = "/conversations/{public_id}/messages"

# Every POST route, with bodies that are wrong in each way, and the field the answer must name.
BAD_BODIES = {
    "/cases": [
        ({}, ["program_id", "harm_category", "jurisdictions", "referral_source"]),
        ({"program_id": "first"}, ["program_id"]),
        ({"harm_category": "arson"}, ["harm_category", "fraud"]),
        ({"harm_category": 7}, ["harm_category"]),
        ({"referral_source": "rumour"}, ["referral_source", "police"]),
        ({"jurisdictions": "NZ"}, ["jurisdictions"]),
        ({"jurisdictions": []}, ["jurisdictions"]),
        ({"jurisdictions": [5]}, ["jurisdictions"]),
        ({"jurisdictions": ["XX"]}, ["XX", "NZ"]),
        ({"assign_me": "perhaps"}, ["assign_me"]),
        ({"referral_details": "x" * 5001}, ["referral_details"]),
        ({"intake_notes": ["a list"]}, ["intake_notes"]),
    ],
    "/cases/{reference}/transitions": [
        ({}, ["action"]),
        ({"action": "fly"}, ["action", "accept_referral"]),
        ({"action": 3}, ["action"]),
        ({"action": None}, ["action"]),
    ],
    "/cases/{reference}/invitations": [
        ({}, ["role"]),
        ({"role": "facilitator"}, ["role", "harmed_party"]),
        ({"role": ["harmed_party"]}, ["role"]),
        ({"role": "harmed_party", "expires_in_days": 0}, ["expires_in_days"]),
        ({"role": "harmed_party", "expires_in_days": 31}, ["expires_in_days"]),
        ({"role": "harmed_party", "expires_in_days": "soon"}, ["expires_in_days"]),
        ({"role": "supporter", "supports_id": "Wren"}, ["supports_id"]),
        ({"role": "supporter"}, ["supporter", "party"]),
    ],
    # Takes no body: what can be wrong is the invitation's number in the path.
    "/cases/{reference}/invitations/{invitation_id}/revoke": [],
    "/cases/{reference}/sessions": [
        ({}, ["kind", "format", "starts_at", "time_zone", "attendee_ids"]),
        ({**SESSION, "kind": "party"}, ["kind", "dialogue"]),
        ({**SESSION, "format": "phone"}, ["format", "video"]),
        ({**SESSION, "starts_at": "tomorrow"}, ["starts_at"]),
        ({**SESSION, "attendee_ids": []}, ["attendee_ids"]),
        ({**SESSION, "attendee_ids": ["Wren"]}, ["attendee_ids"]),
        ({**SESSION, "duration_minutes": 5}, ["duration_minutes"]),
    ],
    "/cases/{reference}/sessions/{session_id}/cancel": [],
    "/cases/{reference}/people/{participant_id}/assessments": [
        ({}, ["outcome"]),
        ({"outcome": "maybe"}, ["outcome", "ready"]),
        ({"outcome": "ready", "answers": "lots"}, ["answers"]),
        ({"outcome": "not_yet", "reassess_on": "soon"}, ["reassess_on"]),
        ({"outcome": "not_yet"}, ["date to assess again"]),
        ({"outcome": "ready", "answers": {"favourite_colour": "blue"}}, ["favourite_colour"]),
    ],
    "/cases/{reference}/people/{participant_id}/acknowledgment/confirm": [],
    "/cases/{reference}/conflict-declarations": [
        ({}, ["has_conflict"]),
        ({"has_conflict": "perhaps"}, ["has_conflict"]),
        ({"has_conflict": True}, ["Say briefly"]),
        ({"has_conflict": True, "details": "x" * 1001}, ["details"]),
    ],
    # Changes to a good envelope (see GOOD_BODIES); an empty change is an empty body.
    ENVELOPE: [
        ({}, ["v", "conversation", "id", "sender", "meta", "nonce", "body", "keys", "sig"]),
        ({"v": "1"}, ["v"]),
        ({"v": 1}, ["version 2"]),
        ({"colour": "blue"}, ["colour"]),
        ({"id": 7}, ["id"]),
        ({"id": "message-one"}, ["message id", "UUID"]),
        ({"conversation": "D-ZZZZ-ZZZZ"}, ["another conversation"]),
        ({"conversation": ""}, ["conversation"]),
        ({"sender": "Fen"}, ["sender key id"]),
        ({"nonce": "AAAA"}, ["nonce", "12 bytes"]),
        ({"body": "not base64!"}, ["body", "base64url"]),
        ({"body": "A" * 200_000}, ["too long"]),
        ({"body": env.b64u(bytes(100))}, ["padded"]),
        ({"meta": "message"}, ["meta"]),
        ({"meta": {"kind": "shout"}}, ["meta.kind", "for_relay"]),
        ({"meta": {"kind": "relayed"}}, ["meta.ref"]),
        ({"meta": {"kind": "message", "mood": "calm"}}, ["mood"]),
        ({"meta": {"kind": "message", "files": ["a.png"]}}, ["meta.files"]),
        ({"keys": "everyone"}, ["keys"]),
        ({"keys": []}, ["recipients"]),
        ({"keys": [{"to": "x"}]}, ["to, epk, ck"]),
        ({"sig": "AAAA"}, ["signature", "64 bytes"]),
        ({"sig": env.b64u(bytes(64))}, ["signature does not match"]),
    ],
}
GOOD_BODIES = {"/cases": good_case, ENVELOPE: good_envelope}


def route_path(cast, route: str, invitation_id="0") -> str:
    return route.format(
        reference=cast.case.reference,
        invitation_id=invitation_id,
        participant_id=cast.responsible.pk,
        session_id=0,
        public_id=team_conversation(cast).public_id if "{public_id}" in route else "",
    )


def test_it_has_bad_bodies_for_every_post_route():
    assert set(BAD_BODIES) == post_routes()


def body_cases():
    for route, bodies in BAD_BODIES.items():
        for number, (changes, names) in enumerate(bodies):
            yield pytest.param(route, changes, names, id=f"{route.replace('/', '_')}-{number}")


@pytest.mark.parametrize(("route", "changes", "names"), list(body_cases()))
def test_it_names_the_field_to_fix_in_an_api_body(cast, route, changes, names):
    base = GOOD_BODIES[route](cast) if route in GOOD_BODIES and changes else {}
    with nothing_written():
        status, body = api_post(cast.client("facilitator"), route_path(cast, route), {**base, **changes})
    assert 400 <= status < 500
    shown = body["detail"] + " " + body.get("field", "")
    for name in names:
        assert name in shown, f"{name!r} not named in {body['detail']!r}"


@pytest.mark.parametrize("route", [r for r in sorted(BAD_BODIES) if BAD_BODIES[r]])
@pytest.mark.parametrize(
    "raw", ['{"action": ', "not json at all", "[1, 2", '"just a string"', "42", "null", "[]", "\ufeff{}"]
)
def test_it_answers_a_malformed_api_body_with_a_4xx(cast, route, raw):
    with nothing_written():
        status, body = api_post(cast.client("facilitator"), route_path(cast, route), raw)
    assert 400 <= status < 500
    assert body["detail"]


@pytest.mark.parametrize("invitation_id", ["abc", "1.5", "-"])
def test_it_names_the_invitation_number_it_cannot_read(cast, invitation_id):
    with nothing_written():
        status, body = api_post(
            cast.client("facilitator"),
            route_path(cast, "/cases/{reference}/invitations/{invitation_id}/revoke", invitation_id),
            {},
        )
    assert status == 422
    assert "invitation_id" in body["detail"]


@pytest.mark.parametrize("query", ["after=first", "before=%00", "after=" + "A" * 500])
def test_it_names_the_page_cursor_it_cannot_read_in_the_case_list(cast, query):
    response = cast.client("facilitator").get("/api/v1/cases?" + query)
    assert response.status_code == 422
    assert query.split("=")[0] in response.json()["detail"]


@pytest.mark.parametrize("query", ["stage=finished", "category=arson"])
def test_it_names_an_unknown_filter_value_in_the_api_case_list(cast, query):
    response = cast.client("facilitator").get("/api/v1/cases?" + query)
    assert response.status_code == 422
    assert query.split("=")[0] in response.json()["detail"]


@pytest.mark.parametrize("facilitator", ["99999999999999999999999", "0", "-1", "me"])
def test_it_names_a_facilitator_id_that_cannot_be_one_in_the_api_case_list(cast, facilitator):
    response = cast.client("facilitator").get("/api/v1/cases?facilitator=" + facilitator)
    assert response.status_code == 422
    assert "facilitator" in response.json()["detail"]


@pytest.mark.parametrize("field", ["referral_details", "intake_notes"])
def test_it_refuses_nul_characters_in_api_text(cast, field):
    with nothing_written():
        status, body = api_post(cast.client("facilitator"), "/cases", good_case(cast, **{field: "a\x00b"}))
    assert status == 422
    assert field in body["detail"]


# Hypothesis: whatever JSON arrives, the answer is never a 500, and a refusal writes nothing.

_text = st.text(max_size=30)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
PLAUSIBLE = {
    "harm_category": st.sampled_from(HarmCategory.values),
    "referral_source": st.sampled_from(ReferralSource.values),
    "jurisdictions": st.lists(st.sampled_from(["NZ", "AU-NSW", "gb", "XX", "", " "]) | _text, max_size=4),
    "action": st.sampled_from(ACTIONS),
    "role": st.sampled_from([*INVITABLE_ROLES, "facilitator"]),
    "expires_in_days": st.integers(min_value=-2, max_value=40),
    "assign_me": st.booleans(),
    "referral_details": _text,
    "intake_notes": _text,
    # Envelope v2 (v1 is refused): parts of the right form, so that the checks after the form are reached too.
    "v": st.sampled_from([1, 2]),
    "id": st.uuids(version=4).map(str),
    "meta": st.fixed_dictionaries(
        {"kind": st.sampled_from(env.MESSAGE_KINDS)},
        optional={
            "ref": st.uuids(version=4).map(str),
            "approved": st.booleans(),
            "files": st.lists(st.uuids(version=4).map(str), max_size=2),
        },
    ),
    "nonce": st.binary(min_size=12, max_size=12).map(env.b64u),
    "body": st.integers(min_value=1, max_value=3).map(lambda n: env.b64u(bytes(n * env.PAD_BLOCK + 16))),
    "keys": st.lists(
        st.fixed_dictionaries(
            {
                "to": st.binary(min_size=16, max_size=16).map(env.b64u),
                "epk": st.binary(min_size=32, max_size=32).map(env.b64u),
                "ck": st.binary(min_size=48, max_size=48).map(env.b64u),
            },
            optional={"nonce": st.binary(min_size=12, max_size=12).map(env.b64u)},
        ),
        max_size=2,
    ),
    "sig": st.binary(min_size=64, max_size=64).map(env.b64u),
}
# Who sends each route's fuzzed bodies: someone whom the access checks let through to the service.
FUZZED_BY = {ENVELOPE: "facilitator"}


def body_schema(route: str):
    for _prefix, router in api._routers:
        for operation in router.path_operations[route].operations if route in router.path_operations else []:
            for model in operation.models:
                if getattr(model, "__ninja_param_source__", None) == "body":
                    return model.model_fields["payload"].annotation
    return None


def bodies_for(schema, ids: dict):
    fields = {
        name: PLAUSIBLE.get(name, st.nothing()) | st.sampled_from(ids.get(name, [0])) | _json
        for name in schema.model_fields
    }
    return st.fixed_dictionaries({}, optional=fields) | _json


@pytest.mark.parametrize("route", [r for r in sorted(post_routes()) if body_schema(r) is not None])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_it_never_answers_500_to_any_api_body(cast, route, data):
    ids = {
        "program_id": [cast.program.pk, cast.other_program.pk, 10**30],
        "supports_id": [cast.harmed.pk, cast.supporter.pk, Participant.objects.get(user=cast.outsider).pk],
    }
    if route == ENVELOPE:
        keys = give_keys(cast.facilitator)
        ids |= {"conversation": [team_conversation(cast).public_id], "sender": [keys.key_id]}
    body = data.draw(bodies_for(body_schema(route), ids), label="body")
    before = counts()
    response = cast.client(FUZZED_BY.get(route, "coordinator")).post(
        "/api/v1" + route_path(cast, route), json.dumps(body), content_type="application/json"
    )
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["detail"]
        assert counts() == before
