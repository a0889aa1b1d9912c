"""Invariant 4 (privacy): every page and API route, times every role, gives the answer in this matrix.

A route added without a row here fails `test_inv_privacy_it_has_a_row_for_every_*`, so nobody can add
an endpoint without deciding who may reach it. Outsiders and other programs get the same 404 as a
case that does not exist. Two columns are for access that has ended: a former member of the program whose
facilitator's place in the case was left behind (their membership deleted without the offboarding service,
which would end the place too), and a co-facilitator whose account is closed (place and membership kept).
Neither reaches anything of the case; the closed account is signed out everywhere.
"""

# The matrices are tables, one column per role, wider than a line.
# ruff: noqa: E501

import copy
import functools
import json
import re
import uuid
import zoneinfo
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.db import connections, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from mend.accounts import services as account_services
from mend.accounts.keys import unknown_credentials
from mend.accounts.models import ApiToken, Invitation, Membership, User
from mend.accounts.views import JOIN_NAME_SALT
from mend.api import api
from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Case, Participant, Role
from mend.circles.models import Circle, CircleMember
from mend.consent.models import Consent
from mend.dialogue import services as dialogue_services
from mend.dialogue.models import Attachment, Message, Recipient
from mend.meetings.models import Meeting
from tests.builders import FAST_HASHERS, Cast, build_cast, make_staff, signed_in
from tests.circles.builders import circle_for_matrix
from tests.dialogue.helpers import give_keys

_time_zones = functools.cache(zoneinfo.available_timezones)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Speed only: the cast and its extra rows, made once for the module's 2,000-odd cells, inside a
    transaction on every database that is rolled back when the module ends. Each test runs in a savepoint
    of it (pytest-django's `db`), so whatever one cell writes is gone before the next one starts, exactly
    as if each had made its own. Tests that commit (`transaction=True`) cannot live here: the websocket
    rows are in tests/test_permission_matrix_websockets.py."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), ExitStack() as stack:
        for alias in connections:
            stack.enter_context(transaction.atomic(using=alias))
        made = build_cast()
        rows = build_extra(made)
        yield made, rows, fingerprint(made)
        for alias in connections:
            transaction.set_rollback(True, using=alias)


def fingerprint(cast) -> tuple:
    """What a cell that wrote would change: row counts of what the routes make, and the case itself."""
    counted = (Case, Participant, Invitation, ApiToken, Message, Meeting, Consent, AuditEvent)
    case = Case.objects.values_list("stage", "updated_at").get(pk=cast.case.pk)
    return (*(model.objects.count() for model in counted), case)


@pytest.fixture
def cast(world, db) -> Cast:
    """A copy of the module's cast for one test, so a change to its objects in memory stays in that test;
    the database must be as the module made it, whatever the cells before wrote."""
    made, _rows, made_fingerprint = world
    assert fingerprint(made) == made_fingerprint, "an earlier cell's writes outlived it"
    return copy.deepcopy(made)


@pytest.fixture
def extra(world, db) -> SimpleNamespace:
    return copy.deepcopy(world[1])


@pytest.fixture(autouse=True)
def quick_time_zones(monkeypatch):
    """Speed only: mend.core.validators.time_zone walks the time-zone files on every call."""
    monkeypatch.setattr(zoneinfo, "available_timezones", _time_zones)


ROLES = (
    "anonymous",
    "admin",
    "coordinator",
    "facilitator",
    "other_facilitator_same_program",
    "volunteer",
    "other_program_facilitator",
    "harmed",
    "responsible",
    "supporter",
    "outsider",
    "former_member",
    "deactivated",
)
# People who must not be able to tell that the cast's case exists.
STRANGERS = {
    "anonymous",
    "other_facilitator_same_program",
    "volunteer",
    "other_program_facilitator",
    "outsider",
    "former_member",
    "deactivated",
}

# Cells hold a status code, or one of these redirects (always 302).
LOGIN = "to sign-in, then back here"
OUT = "to the sign-in page"
HOME = "to home"
MINE = "to the participant's own case"
CASE = "to the case page"
INVITED = "to the case page's invite form, showing the new link"
NEW = "to a new case"
TOKENS = "to the token page"
TEXTS = "to the program's consent wording"
WORDS = "to the program's words for roles"
QUESTIONS = "to the program's questions"
PEOPLE = "to the program's people"
MESSAGES = "to the case's messages"
AGREEMENT = "to the case's agreement"
DRAFT = "to the agreement's draft, v3"
SIGNING = "to the version waiting for signatures, v2"
ITEM = "to the agreement item's page"
MEETING = "to the meeting's page"
CIRCLE = "to the circle page"
AGREEMENT_ITEM = "a1b2c3d4e5f6"

MISSING_REFERENCE = "C-ZZZZ-ZZZZ"
MISSING_CONVERSATION = "D-ZZZZ-ZZZZ"
MISSING_FILE = "00000000-0000-4000-8000-000000000000"
CASE_NOT_FOUND = {"detail": "Not found."}
UNAUTHENTICATED = {"detail": "Sign in, or send a personal API token as a Bearer token."}


@dataclass
class Call:
    method: str
    path: str
    form: dict | None = None
    body: dict | None = None

    def send(self, client: Client):
        if self.body is not None:
            return client.generic(
                self.method, self.path, json.dumps(self.body), content_type="application/json"
            )
        if self.method == "POST":
            return client.post(self.path, self.form or {})
        return client.get(self.path)


def intake_form(cast):
    return {
        "program": cast.program.pk,
        "harm_category": "fraud",
        "jurisdictions": "NZ",
        "referral_source": "self",
        "assign_me": "on",
    }


def _in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def agreement_for_matrix(cast):
    """v1 signed with one restitution item of the person responsible, v2 waiting for signatures, v3 a
    draft: set up directly, since the real path needs consent and stages that would change other rows."""
    from mend.agreements import services as agreement_services
    from mend.agreements.models import Agreement, CheckIn, Commitment, Item, Version

    agreement = Agreement.objects.create(case=cast.case, created_by=cast.facilitator)
    versions = {}
    for number, state in ((1, "signed"), (2, "signing"), (3, "draft")):
        version = Version.objects.create(
            case=cast.case, agreement=agreement, number=number, state=state, created_by=cast.facilitator
        )
        Item.objects.create(
            case=cast.case,
            version=version,
            uid=AGREEMENT_ITEM,
            position=1,
            kind="restitution",
            description="Pay back the cost of the phone.",
            details={"amount": "250.00", "currency": "NZD", "schedule": "Monthly"},
            owner=cast.responsible,
            due_on=timezone.localdate() + timedelta(days=30),
            verification="A receipt.",
        )
        if state != "draft":
            text = json.dumps(agreement_services.build_document(version))
            version.document = text
            version.document_sha256 = "0" * 64
            version.save(update_fields=["document", "document_sha256"])
        versions[number] = version
    Commitment.objects.create(case=cast.case, agreement=agreement, item_uid=AGREEMENT_ITEM)
    check_in = CheckIn.objects.create(
        case=cast.case,
        agreement=agreement,
        kind="check_in",
        with_participant=cast.responsible,
        due_on=timezone.localdate() + timedelta(days=60),
        created_by=cast.facilitator,
    )
    return check_in


def join_form() -> dict:
    """The join form as the page's script completes it: the signed sign-in name, the derived key, new keys."""
    name = f"heron-{uuid.uuid4().hex[:8]}"
    return {
        "pseudonym": "Heron",
        "time_zone": "Pacific/Auckland",
        "sign_in_name": signing.dumps(name, salt=JOIN_NAME_SALT),
        **{
            k: v if k != "keys" else json.dumps(v)
            for k, v in unknown_credentials(name).items()
            if k != "sign_in_name"
        },
    }


# What each row sends. `ref` is the case reference, so the same call can be made for a missing case.
PAGE_CALLS = {
    ("home", "GET"): lambda c, x, ref: Call("GET", "/"),
    ("healthz", "GET"): lambda c, x, ref: Call("GET", "/healthz"),
    ("language", "POST"): lambda c, x, ref: Call("POST", "/language/", {"language": "es", "next": "/"}),
    ("accounts:sign_in", "GET"): lambda c, x, ref: Call("GET", "/account/sign-in/"),
    ("accounts:sign_in", "POST"): lambda c, x, ref: Call(
        "POST", "/account/sign-in/", {"identifier": "fac@riverbend.test", "secret": "not the password"}
    ),
    ("accounts:sign_out", "POST"): lambda c, x, ref: Call("POST", "/account/sign-out/"),
    ("accounts:two_factor", "GET"): lambda c, x, ref: Call("GET", "/account/two-factor/"),
    ("accounts:two_factor", "POST"): lambda c, x, ref: Call(
        "POST", "/account/two-factor/", {"code": "000000"}
    ),
    ("accounts:api_tokens", "GET"): lambda c, x, ref: Call("GET", "/account/tokens/"),
    ("accounts:api_tokens", "POST"): lambda c, x, ref: Call("POST", "/account/tokens/", {"label": "scripts"}),
    ("accounts:api_token_revoke", "POST"): lambda c, x, ref: Call(
        "POST", f"/account/tokens/{x.token_id}/revoke/"
    ),
    ("accounts:keys", "GET"): lambda c, x, ref: Call("GET", "/account/keys/"),
    ("accounts:keys", "POST"): lambda c, x, ref: Call("POST", "/account/keys/", body={}),
    ("accounts:unlock", "GET"): lambda c, x, ref: Call("GET", "/account/keys/unlock/"),
    ("accounts:recover", "GET"): lambda c, x, ref: Call("GET", "/account/recover/"),
    ("accounts:recover", "POST"): lambda c, x, ref: Call("POST", "/account/recover/", body={}),
    ("accounts:settings", "GET"): lambda c, x, ref: Call("GET", "/account/settings/"),
    ("accounts:settings", "POST"): lambda c, x, ref: Call(
        "POST", "/account/settings/", {"time_zone": "Mars/Olympus"}
    ),
    ("join", "GET"): lambda c, x, ref: Call("GET", f"/join/{x.raw}/"),
    ("join", "POST"): lambda c, x, ref: Call("POST", f"/join/{x.raw}/", join_form()),
    ("cases:list", "GET"): lambda c, x, ref: Call("GET", "/cases/"),
    ("cases:intake", "GET"): lambda c, x, ref: Call("GET", "/cases/new/"),
    ("cases:intake", "POST"): lambda c, x, ref: Call("POST", "/cases/new/", intake_form(c)),
    ("cases:detail", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/"),
    ("cases:transition", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/transition/", {"action": "pause"}
    ),
    ("cases:invite", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/invite/", {"invite-role": "harmed_party", "invite-expires_in_days": "7"}
    ),
    ("cases:revoke_invitation", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/invitations/{x.invitation_id}/revoke/"
    ),
    ("cases_people:exclude", "POST"): lambda c, x, ref: Call(
        "POST",
        f"/cases/{ref}/people/{c.responsible.pk}/exclude/",
        {f"x{c.responsible.pk}-reason": "Not safe to go on for now."},
    ),
    ("cases_people:interpreter", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/people/{c.responsible.pk}/interpreter/", {f"i{c.responsible.pk}-party": ""}
    ),
    ("cases_people:settings", "POST"): lambda c, x, ref: Call(
        "POST",
        f"/cases/{ref}/people/{c.responsible.pk}/settings/",
        {f"p{c.responsible.pk}-time_zone": "Asia/Kathmandu", f"p{c.responsible.pk}-preferred_language": "es"},
    ),
    ("cases:assign", "POST"): lambda c, x, ref: Call(
        "POST",
        f"/cases/{ref}/assign/",
        {"assign-facilitator": c.other_facilitator_same_program.pk, "assign-role": "co_facilitator"},
    ),
    ("consent:consent", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/consent/"),
    ("consent:consent", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/consent/", {"scope": "take_part", "decision": "withdraw"}
    ),
    ("consent:choices", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/choices/"),
    ("consent:choices", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/choices/", {"mode": "indirect", "progress_updates": "never"}
    ),
    ("consent:break", "POST"): lambda c, x, ref: Call("POST", f"/cases/{ref}/break/"),
    ("consent:stop", "POST"): lambda c, x, ref: Call("POST", f"/cases/{ref}/stop/"),
    ("assessments:assessment", "GET"): lambda c, x, ref: Call(
        "GET", f"/cases/{ref}/people/{c.responsible.pk}/assessment/"
    ),
    ("assessments:assessment", "POST"): lambda c, x, ref: Call(
        "POST",
        f"/cases/{ref}/people/{c.responsible.pk}/assessment/",
        {"outcome": "ready", "q_motivation": "Yes."},
    ),
    ("assessments:confirm_acknowledgment", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/people/{c.responsible.pk}/acknowledgment/confirm/"
    ),
    ("assessments:safety_plan", "GET"): lambda c, x, ref: Call(
        "GET", f"/cases/{ref}/people/{c.harmed.pk}/safety-plan/"
    ),
    ("assessments:safety_plan", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/people/{c.harmed.pk}/safety-plan/", {"risks": "Calls.", "measures": "Blocks."}
    ),
    ("assessments:conflict", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/conflict/"),
    ("assessments:conflict", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/conflict/", {"has_conflict": "no"}
    ),
    ("assessments:acknowledgment", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/acknowledgment/"),
    ("assessments:acknowledgment", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/acknowledgment/", {"text": "I shared the images and I know how much it hurt."}
    ),
    ("sessions:schedule", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/sessions/new/"),
    ("sessions:schedule", "POST"): lambda c, x, ref: Call("POST", f"/cases/{ref}/sessions/new/", {}),
    ("sessions:cancel", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/sessions/{x.session_id}/cancel/"
    ),
    ("sessions:restore", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/sessions/{x.session_id}/restore/"
    ),
    ("programs:words", "GET"): lambda c, x, ref: Call("GET", f"/programs/{c.program.pk}/words/"),
    ("programs:words", "POST"): lambda c, x, ref: Call(
        "POST", f"/programs/{c.program.pk}/words/", {"harmed_party": "person who was hurt"}
    ),
    ("programs:consent_texts", "GET"): lambda c, x, ref: Call("GET", f"/programs/{c.program.pk}/consent/"),
    ("programs:consent_texts", "POST"): lambda c, x, ref: Call(
        "POST",
        f"/programs/{c.program.pk}/consent/",
        {"scope": "take_part", "text": "I choose to take part, and may stop."},
    ),
    ("programs:people", "GET"): lambda c, x, ref: Call("GET", f"/programs/{c.program.pk}/people/"),
    ("programs:person_remove", "GET"): lambda c, x, ref: Call(
        "GET", f"/programs/{c.program.pk}/people/{x.membership_id}/remove/"
    ),
    ("programs:person_remove", "POST"): lambda c, x, ref: Call(
        "POST", f"/programs/{c.program.pk}/people/{x.membership_id}/remove/"
    ),
    ("programs:person_deactivate", "GET"): lambda c, x, ref: Call(
        "GET", f"/programs/{c.program.pk}/people/{x.membership_id}/deactivate/"
    ),
    ("programs:person_deactivate", "POST"): lambda c, x, ref: Call(
        "POST", f"/programs/{c.program.pk}/people/{x.membership_id}/deactivate/"
    ),
    ("cases:assignment_decide", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/assignment-requests/{x.assignment_request_id}/", {"decision": "approve"}
    ),
    ("programs:questions", "GET"): lambda c, x, ref: Call("GET", f"/programs/{c.program.pk}/questions/"),
    ("programs:questions", "POST"): lambda c, x, ref: Call(
        "POST",
        f"/programs/{c.program.pk}/questions/",
        {"questions": "hopes | readiness | What do they hope for?"},
    ),
    ("dialogue:list", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/messages/"),
    ("rights:delete_own", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/delete-my-information/"),
    ("rights:my_information", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/my-information/"),
    ("rights:my_information_data", "GET"): lambda c, x, ref: Call(
        "GET", f"/cases/{ref}/my-information/data/"
    ),
    ("agreements:home", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/agreement/"),
    ("agreements:draft_start", "POST"): lambda c, x, ref: Call("POST", f"/cases/{ref}/agreement/draft/"),
    ("agreements:calendar", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/agreement/calendar.ics"),
    ("agreements:check_in_add", "POST"): lambda c, x, ref: Call(
        "POST",
        f"/cases/{ref}/agreement/check-ins/",
        {"kind": "check_in", "with_participant": c.responsible.pk, "due_on": _in_days(7)},
    ),
    ("agreements:check_in_done", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/agreement/check-ins/{x.check_in_id}/done/", {"notes": ""}
    ),
    ("agreements:close", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/agreement/close/", {"outcome": "completed"}
    ),
    ("agreements:version", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/agreement/v1/"),
    ("agreements:draft_terms", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/agreement/v3/terms/", {"terms": "We agree to be kind."}
    ),
    ("agreements:draft_item", "POST"): lambda c, x, ref: Call(
        "POST",
        f"/cases/{ref}/agreement/v3/items/",
        {
            "kind": "other",
            "description": "Plant a tree together.",
            "owner": c.responsible.pk,
            "due_on": _in_days(30),
            "verification": "A photo.",
        },
    ),
    ("agreements:draft_item_remove", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/agreement/v3/items/{AGREEMENT_ITEM}/remove/"
    ),
    ("agreements:version_open", "POST"): lambda c, x, ref: Call("POST", f"/cases/{ref}/agreement/v3/open/"),
    ("agreements:version_withdraw", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/agreement/v2/withdraw/"
    ),
    ("agreements:version_sign", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/agreement/v2/sign/", {"typed_name": "Someone"}
    ),
    ("agreements:version_decline", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/agreement/v2/decline/"
    ),
    ("agreements:version_pdf", "GET"): lambda c, x, ref: Call(
        "GET", f"/cases/{ref}/agreement/v1/agreement.pdf"
    ),
    ("agreements:item", "GET"): lambda c, x, ref: Call(
        "GET", f"/cases/{ref}/agreement/items/{AGREEMENT_ITEM}/"
    ),
    ("agreements:item_evidence", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/agreement/items/{AGREEMENT_ITEM}/evidence/", body={}
    ),
    ("agreements:item_evidence_frames", "GET"): lambda c, x, ref: Call(
        "GET", f"/cases/{ref}/agreement/items/{AGREEMENT_ITEM}/evidence/frames/"
    ),
    ("agreements:item_verify", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/agreement/items/{AGREEMENT_ITEM}/verify/"
    ),
    ("agreements:item_ask_more", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/agreement/items/{AGREEMENT_ITEM}/more/", {"note": "A receipt, please."}
    ),
    ("agreements:item_payment", "POST"): lambda c, x, ref: Call(
        "POST",
        f"/cases/{ref}/agreement/items/{AGREEMENT_ITEM}/payments/",
        {"amount": "20", "paid_on": _in_days(0)},
    ),
    ("sessions:meeting", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/sessions/{x.session_id}/"),
    ("sessions:conference", "GET"): lambda c, x, ref: Call(
        "GET", f"/cases/{ref}/sessions/{x.session_id}/conference/"
    ),
    ("sessions:conference", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/sessions/{x.session_id}/conference/", {"agenda": "Welcome."}
    ),
    ("sessions:attendees", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/sessions/{x.session_id}/attendees/", {"attendees": [x.facilitator_place_id]}
    ),
    ("sessions:check_in", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/sessions/{x.session_id}/check-in/", {"feeling": "okay"}
    ),
    ("sessions:check_out", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/sessions/{x.session_id}/check-out/", {"feeling": "okay"}
    ),
    ("sessions:attendance", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/sessions/{x.session_id}/attendance/", {"present": [x.facilitator_place_id]}
    ),
    ("sessions:open", "POST"): lambda c, x, ref: Call("POST", f"/cases/{ref}/sessions/{x.session_id}/open/"),
    ("sessions:end", "POST"): lambda c, x, ref: Call("POST", f"/cases/{ref}/sessions/{x.session_id}/end/"),
    ("sessions:invitations", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/sessions/{x.session_id}/invitations/"
    ),
    ("sessions:invitation", "GET"): lambda c, x, ref: Call(
        "GET", f"/cases/{ref}/sessions/{x.session_id}/invitation.ics"
    ),
    ("meetings:room", "GET"): lambda c, x, ref: Call("GET", f"/meetings/{x.session_id}/"),
    ("circles:list", "GET"): lambda c, x, ref: Call("GET", "/circles/"),
    ("circles:new", "GET"): lambda c, x, ref: Call("GET", "/circles/new/"),
    ("circles:new", "POST"): lambda c, x, ref: Call("POST", "/circles/new/", {}),
    ("circles:vetting", "GET"): lambda c, x, ref: Call("GET", "/circles/vetting/"),
    ("circles:vetting", "POST"): lambda c, x, ref: Call("POST", "/circles/vetting/", {}),
    ("circles:alert_read", "POST"): lambda c, x, ref: Call("POST", f"/circles/alerts/{x.alert_id}/read/"),
    ("circles:detail", "GET"): lambda c, x, ref: Call("GET", f"/circles/{x.circle_id}/"),
    ("circles:member_add", "GET"): lambda c, x, ref: Call("GET", f"/circles/{x.circle_id}/members/"),
    ("circles:member_add", "POST"): lambda c, x, ref: Call("POST", f"/circles/{x.circle_id}/members/", {}),
    ("circles:member_remove", "POST"): lambda c, x, ref: Call(
        "POST", f"/circles/{x.circle_id}/members/{x.circle_member_id}/remove/"
    ),
    ("circles:meeting_new", "GET"): lambda c, x, ref: Call("GET", f"/circles/{x.circle_id}/meetings/new/"),
    ("circles:meeting_new", "POST"): lambda c, x, ref: Call(
        "POST", f"/circles/{x.circle_id}/meetings/new/", {}
    ),
    ("circles:close", "POST"): lambda c, x, ref: Call("POST", f"/circles/{x.circle_id}/close/"),
    ("circles:minutes", "GET"): lambda c, x, ref: Call(
        "GET", f"/circles/{x.circle_id}/meetings/{x.circle_meeting_id}/minutes/"
    ),
    ("circles:minutes", "POST"): lambda c, x, ref: Call(
        "POST", f"/circles/{x.circle_id}/meetings/{x.circle_meeting_id}/minutes/", body={}
    ),
    ("circles:minutes_recipients", "GET"): lambda c, x, ref: Call(
        "GET", f"/circles/{x.circle_id}/meetings/{x.circle_meeting_id}/minutes/recipients/"
    ),
    ("rights:delete_own", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/delete-my-information/", {"confirm": "on"}
    ),
    ("dialogue:read_receipts", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/messages/receipts/", {"shown": "0"}
    ),
    ("dialogue:download", "GET"): lambda c, x, ref: Call("GET", f"/cases/{ref}/messages/files/{x.file_id}/"),
    ("dialogue:conversation", "GET"): lambda c, x, ref: Call(
        "GET", f"/cases/{ref}/messages/{x.conversation_id}/"
    ),
    ("dialogue:members", "GET"): lambda c, x, ref: Call(
        "GET", f"/cases/{ref}/messages/{x.conversation_id}/members/"
    ),
    ("dialogue:send", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/messages/{x.conversation_id}/send/", body={}
    ),
    ("dialogue:upload", "POST"): lambda c, x, ref: Call(
        "POST", f"/cases/{ref}/messages/{x.conversation_id}/files/"
    ),
    ("api:openapi-json", "GET"): lambda c, x, ref: Call("GET", "/api/v1/openapi.json"),
    ("api:openapi-view", "GET"): lambda c, x, ref: Call("GET", "/api/v1/docs"),
    ("api:api-root", "GET"): lambda c, x, ref: Call("GET", "/api/v1/"),
}

# fmt: off
# Columns follow ROLES: anon = anonymous, fac = the case's facilitator, fac2 = another facilitator of the
# program, vol = volunteer, other = another program's facilitator, harmed / resp / supp = the case's
# parties and supporter, out = the outsider (a party to another case), former = a co-facilitator of the
# case whose membership of the program ended (their place left behind), closed = a co-facilitator of the
# case whose account is deactivated.
PAGE_MATRIX = {
    #     anon     admin    coord    fac      fac2     vol      other    harmed   resp     supp     out     former   closed
    ("home", "GET"):  # a person with one case goes to it; the person responsible, also in a circle, to both
        (LOGIN,   200,     200,     200,     200,     200,     200,     MINE,    200,     MINE,    MINE,    200,     LOGIN),
    ("healthz", "GET"):
        (200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200),
    ("language", "POST"):  # anyone may choose the language they read in; back to where they were
        (HOME,    HOME,    HOME,    HOME,    HOME,    HOME,    HOME,    HOME,    HOME,    HOME,    HOME,    HOME,    HOME),
    ("accounts:sign_in", "GET"):
        (200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200),
    ("accounts:sign_in", "POST"):  # a wrong password
        (400,     400,     400,     400,     400,     400,     400,     400,     400,     400,     400,     400,     400),
    ("accounts:sign_out", "POST"):
        (OUT,     OUT,     OUT,     OUT,     OUT,     OUT,     OUT,     OUT,     OUT,     OUT,     OUT,     OUT,     OUT),
    ("accounts:two_factor", "GET"):
        (LOGIN,   200,     200,     200,     200,     200,     200,     HOME,    HOME,    HOME,    HOME,    200,     LOGIN),
    ("accounts:two_factor", "POST"):  # a wrong code
        (LOGIN,   400,     400,     400,     400,     400,     400,     HOME,    HOME,    HOME,    HOME,    400,     LOGIN),
    ("accounts:api_tokens", "GET"):
        (LOGIN,   200,     200,     200,     200,     200,     200,     404,     404,     404,     404,     200,     LOGIN),
    ("accounts:api_tokens", "POST"):
        (LOGIN,   200,     200,     200,     200,     200,     200,     404,     404,     404,     404,     200,     LOGIN),
    ("accounts:api_token_revoke", "POST"):  # the facilitator's token: nobody else can tell it exists
        (LOGIN,   404,     404,     TOKENS,  404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("accounts:keys", "GET"):  # one's own keys, or none yet
        (LOGIN,   200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     LOGIN),
    ("accounts:keys", "POST"):  # an empty body is not a key bundle
        (LOGIN,   400,     400,     400,     400,     400,     400,     400,     400,     400,     400,     400,     LOGIN),
    ("accounts:unlock", "GET"):  # after the second step, the page that opens one's keys
        (LOGIN,   200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     LOGIN),
    ("accounts:recover", "GET"):  # public: whoever lost their passphrase is not signed in
        (200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200),
    ("accounts:recover", "POST"):  # no name, no code
        (400,     400,     400,     400,     400,     400,     400,     400,     400,     400,     400,     400,     400),
    ("accounts:settings", "GET"):  # one's own settings: everyone signed in has them
        (LOGIN,   200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     LOGIN),
    ("accounts:settings", "POST"):  # a time zone that does not exist, answered on its field
        (LOGIN,   400,     400,     400,     400,     400,     400,     400,     400,     400,     400,     400,     LOGIN),
    ("join", "GET"):
        (200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200),
    ("join", "POST"):
        (200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200),
    ("cases:list", "GET"):
        (LOGIN,   200,     200,     200,     200,     200,     200,     404,     404,     404,     404,     200,     LOGIN),
    ("cases:intake", "GET"):
        (LOGIN,   200,     200,     200,     200,     404,     200,     404,     404,     404,     404,     404,     LOGIN),
    ("cases:intake", "POST"):  # for this program, which the other program's form does not offer (400)
        (LOGIN,   NEW,     NEW,     NEW,     NEW,     404,     400,     404,     404,     404,     404,     404,     LOGIN),
    ("cases:detail", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     200,     200,     200,     404,     404,     LOGIN),
    ("cases:transition", "POST"):
        (LOGIN,   CASE,    CASE,    CASE,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("cases:invite", "POST"):
        (LOGIN,   INVITED, INVITED, INVITED, 404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("cases:revoke_invitation", "POST"):
        (LOGIN,   CASE,    CASE,    CASE,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("cases:assign", "POST"):
        (LOGIN,   CASE,    CASE,    CASE,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("cases_people:exclude", "POST"):  # staff who run the case reach it; only its facilitators may do it
        (LOGIN,   400,     400,     CASE,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("cases_people:settings", "POST"):  # a person's time zone and language: the same
        (LOGIN,   400,     400,     CASE,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("cases_people:interpreter", "POST"):  # which party an interpreter helps (the responsible is none: refused)
        (LOGIN,   400,     400,     400,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("cases:assignment_decide", "POST"):  # the coordinator's own request to join: a colleague approves it
        (LOGIN,   CASE,    400,     CASE,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    # A party's own pages: staff running the case have no place of their own there, so 404.
    ("consent:consent", "GET"):
        (LOGIN,   404,     404,     404,     404,     404,     404,     200,     200,     200,     404,     404,     LOGIN),
    ("consent:consent", "POST"):  # withdrawing what was never given: a clear "already withdrawn"
        (LOGIN,   404,     404,     404,     404,     404,     404,     409,     409,     409,     404,     404,     LOGIN),
    ("consent:choices", "GET"):  # the person harmed's alone
        (LOGIN,   404,     404,     404,     404,     404,     404,     200,     404,     404,     404,     404,     LOGIN),
    ("consent:choices", "POST"):
        (LOGIN,   404,     404,     404,     404,     404,     404,     CASE,    404,     404,     404,     404,     LOGIN),
    ("consent:break", "POST"):  # a supporter is told only a party takes a break, on their case page
        (LOGIN,   404,     404,     404,     404,     404,     404,     CASE,    CASE,    CASE,    404,     404,     LOGIN),
    ("consent:stop", "POST"):
        (LOGIN,   404,     404,     404,     404,     404,     404,     CASE,    CASE,    CASE,    404,     404,     LOGIN),
    # Records only the case's own facilitators keep: coordinators and admins do not see them.
    ("assessments:assessment", "GET"):
        (LOGIN,   404,     404,     200,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("assessments:assessment", "POST"):
        (LOGIN,   404,     404,     CASE,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("assessments:confirm_acknowledgment", "POST"):  # nothing written yet to confirm
        (LOGIN,   404,     404,     409,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("assessments:safety_plan", "GET"):  # the person harmed's plan: theirs and their facilitator's
        (LOGIN,   404,     404,     200,     404,     404,     404,     200,     404,     404,     404,     404,     LOGIN),
    ("assessments:safety_plan", "POST"):
        (LOGIN,   404,     404,     CASE,    404,     404,     404,     405,     404,     404,     404,     404,     LOGIN),
    ("assessments:conflict", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("assessments:conflict", "POST"):
        (LOGIN,   CASE,    CASE,    CASE,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("assessments:acknowledgment", "GET"):  # the person responsible's own words
        (LOGIN,   404,     404,     404,     404,     404,     404,     404,     200,     404,     404,     404,     LOGIN),
    ("assessments:acknowledgment", "POST"):
        (LOGIN,   404,     404,     404,     404,     404,     404,     404,     CASE,    404,     404,     404,     LOGIN),
    ("sessions:schedule", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("sessions:schedule", "POST"):  # an empty form
        (LOGIN,   400,     400,     400,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("sessions:cancel", "POST"):
        (LOGIN,   CASE,    CASE,    CASE,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("sessions:restore", "POST"):  # only a session on hold comes back
        (LOGIN,   409,     409,     409,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("programs:words", "GET"):
        (LOGIN,   200,     404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("programs:words", "POST"):
        (LOGIN,   WORDS,   404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("programs:consent_texts", "GET"):
        (LOGIN,   200,     404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("programs:consent_texts", "POST"):
        (LOGIN,   TEXTS,   404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("programs:questions", "GET"):
        (LOGIN,   200,     404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("programs:questions", "POST"):
        (LOGIN,   QUESTIONS,404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    # The people of the program, for its admins: removing someone or closing their account (here the
    # volunteer's), each behind a confirmation page.
    ("programs:people", "GET"):
        (LOGIN,   200,     404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("programs:person_remove", "GET"):
        (LOGIN,   200,     404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("programs:person_remove", "POST"):
        (LOGIN,   PEOPLE,  404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("programs:person_deactivate", "GET"):
        (LOGIN,   200,     404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("programs:person_deactivate", "POST"):
        (LOGIN,   PEOPLE,  404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    # Deleting one's own information: only people taking part, each for themselves (the POST deletes).
    ("rights:delete_own", "GET"):
        (LOGIN,   404,     404,     404,     404,     404,     404,     200,     200,     200,     404,     404,     LOGIN),
    ("rights:delete_own", "POST"):
        (LOGIN,   404,     404,     404,     404,     404,     404,     200,     200,     200,     404,     404,     LOGIN),
    # The agreement (a signed v1 with one restitution item owned by the person responsible, v2 waiting for
    # signatures, v3 a draft). Staff who run the case read it; only its facilitators write it; the parties
    # read and sign it; a supporter sees only whether it is under way. The person harmed here chose never to
    # hear of progress, so an item's page is not theirs to see.
    ("agreements:home", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     200,     200,     200,     404,     404,     LOGIN),
    ("agreements:draft_start", "POST"):  # not at this case's stage: back, with the reason
        (LOGIN,   404,     404,     AGREEMENT,404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:calendar", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     200,     200,     404,     404,     404,     LOGIN),
    ("agreements:check_in_add", "POST"):
        (LOGIN,   404,     404,     AGREEMENT,404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:check_in_done", "POST"):
        (LOGIN,   404,     404,     AGREEMENT,404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:close", "POST"):
        (LOGIN,   404,     404,     CASE,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:version", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     200,     200,     404,     404,     404,     LOGIN),
    ("agreements:draft_terms", "POST"):
        (LOGIN,   404,     404,     DRAFT,   404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:draft_item", "POST"):
        (LOGIN,   404,     404,     DRAFT,   404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:draft_item_remove", "POST"):
        (LOGIN,   404,     404,     DRAFT,   404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:version_open", "POST"):
        (LOGIN,   404,     404,     DRAFT,   404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:version_withdraw", "POST"):
        (LOGIN,   404,     404,     SIGNING, 404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:version_sign", "POST"):  # no signature made on a device: the form says so
        (LOGIN,   404,     404,     404,     404,     404,     404,     400,     400,     404,     404,     404,     LOGIN),
    ("agreements:version_decline", "POST"):
        (LOGIN,   404,     404,     404,     404,     404,     404,     SIGNING, SIGNING, 404,     404,     404,     LOGIN),
    ("agreements:version_pdf", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     200,     200,     404,     404,     404,     LOGIN),
    ("agreements:item", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     404,     200,     404,     404,     404,     LOGIN),
    ("agreements:item_evidence", "POST"):  # an empty body is not evidence; the person harmed does not own it
        (LOGIN,   404,     404,     404,     404,     404,     404,     400,     400,     404,     404,     404,     LOGIN),
    ("agreements:item_evidence_frames", "GET"):  # the owner's and their facilitators' only
        (LOGIN,   404,     404,     200,     404,     404,     404,     404,     200,     404,     404,     404,     LOGIN),
    ("agreements:item_verify", "POST"):
        (LOGIN,   404,     404,     ITEM,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:item_ask_more", "POST"):
        (LOGIN,   404,     404,     ITEM,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("agreements:item_payment", "POST"):
        (LOGIN,   404,     404,     ITEM,    404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    # A case meeting (in three days; the facilitator and the person harmed, who has not consented yet): its
    # page for staff who run the case and its attendees; its actions for its facilitator (too early: 409).
    ("sessions:meeting", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     200,     404,     404,     404,     404,     LOGIN),
    ("sessions:conference", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("sessions:conference", "POST"):  # not a conference
        (LOGIN,   400,     400,     400,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("sessions:attendees", "POST"):  # staff who run the case; the facilitator alone is refused on the field
        (LOGIN,   400,     400,     400,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("sessions:check_in", "POST"):  # too early to check in
        (LOGIN,   404,     404,     409,     404,     404,     404,     409,     404,     404,     404,     404,     LOGIN),
    ("sessions:check_out", "POST"):  # not opened yet
        (LOGIN,   404,     404,     409,     404,     404,     404,     409,     404,     404,     404,     404,     LOGIN),
    ("sessions:attendance", "POST"):
        (LOGIN,   404,     404,     409,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("sessions:open", "POST"):
        (LOGIN,   404,     404,     409,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("sessions:end", "POST"):
        (LOGIN,   404,     404,     409,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("sessions:invitations", "POST"):
        (LOGIN,   MEETING, MEETING, MEETING, 404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("sessions:invitation", "GET"):  # one's own invitation
        (LOGIN,   404,     404,     200,     404,     404,     404,     200,     404,     404,     404,     404,     LOGIN),
    # The meeting's video room: its attendees (the person harmed sees that it is not open to them yet).
    ("meetings:room", "GET"):
        (LOGIN,   404,     404,     200,     404,     404,     404,     200,     404,     404,     404,     404,     LOGIN),
    # Circles: staff of the program and the circle's own members (here the person responsible is its core
    # member and the volunteer one of its volunteers); vetting is for coordinators and admins only.
    ("circles:list", "GET"):
        (LOGIN,   200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     LOGIN),
    ("circles:new", "GET"):
        (LOGIN,   200,     200,     200,     200,     404,     200,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:new", "POST"):
        (LOGIN,   400,     400,     400,     400,     404,     400,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:vetting", "GET"):
        (LOGIN,   200,     200,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:vetting", "POST"):
        (LOGIN,   400,     400,     404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:alert_read", "POST"):
        (LOGIN,   404,     HOME,    404,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:detail", "GET"):
        (LOGIN,   200,     200,     200,     404,     200,     404,     404,     200,     404,     404,     404,     LOGIN),
    ("circles:member_add", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:member_add", "POST"):
        (LOGIN,   400,     400,     400,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:member_remove", "POST"):
        (LOGIN,   CIRCLE,  CIRCLE,  CIRCLE,  404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:meeting_new", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:meeting_new", "POST"):
        (LOGIN,   400,     400,     400,     404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:close", "POST"):
        (LOGIN,   CIRCLE,  CIRCLE,  CIRCLE,  404,     404,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:minutes", "GET"):
        (LOGIN,   200,     200,     200,     404,     200,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:minutes", "POST"):
        (LOGIN,   400,     400,     400,     404,     400,     404,     404,     404,     404,     404,     404,     LOGIN),
    ("circles:minutes_recipients", "GET"):
        (LOGIN,   404,     404,     200,     404,     200,     404,     404,     404,     404,     404,     404,     LOGIN),
    # Downloading one's own information: the same people, each their own.
    ("rights:my_information", "GET"):
        (LOGIN,   404,     404,     404,     404,     404,     404,     200,     200,     200,     404,     404,     LOGIN),
    ("rights:my_information_data", "GET"):
        (LOGIN,   404,     404,     404,     404,     404,     404,     200,     200,     200,     404,     404,     LOGIN),
    # Conversations: the list is for everyone who sees the case (staff without a place in it see none);
    # the conversation in these rows is the person harmed's with their facilitator.
    ("dialogue:list", "GET"):
        (LOGIN,   200,     200,     200,     404,     404,     404,     200,     200,     200,     404,     404,     LOGIN),
    ("dialogue:read_receipts", "POST"):  # a setting of people taking part, not of staff
        (LOGIN,   404,     404,     404,     404,     404,     404,     MESSAGES,MESSAGES,MESSAGES,404,     404,     LOGIN),
    ("dialogue:download", "GET"):  # a file the facilitator sent to the person harmed
        (LOGIN,   404,     404,     200,     404,     404,     404,     200,     404,     404,     404,     404,     LOGIN),
    ("dialogue:conversation", "GET"):
        (LOGIN,   404,     404,     200,     404,     404,     404,     200,     404,     404,     404,     404,     LOGIN),
    ("dialogue:members", "GET"):
        (LOGIN,   404,     404,     200,     404,     404,     404,     200,     404,     404,     404,     404,     LOGIN),
    ("dialogue:send", "POST"):  # an empty body is not an envelope
        (LOGIN,   404,     404,     400,     404,     404,     404,     400,     404,     404,     404,     404,     LOGIN),
    ("dialogue:upload", "POST"):  # no file id
        (LOGIN,   404,     404,     400,     404,     404,     404,     400,     404,     404,     404,     404,     LOGIN),
    ("api:openapi-json", "GET"):
        (200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200),
    ("api:openapi-view", "GET"):
        (200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200,     200),
    ("api:api-root", "GET"):
        (404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     404,     404),
}

# The API is for staff: everyone else gets 401 whatever the case, so it tells them nothing.
API_MATRIX = {
    #     anon     admin    coord    fac      fac2     vol      other    harmed   resp     supp     out     former   closed
    ("GET", "/programs"):
        (401,     200,     200,     200,     200,     200,     200,     401,     401,     401,     401,     200,     401),
    ("GET", "/cases"):
        (401,     200,     200,     200,     200,     200,     200,     401,     401,     401,     401,     200,     401),
    ("POST", "/cases"):  # for this program
        (401,     201,     201,     201,     201,     404,     404,     401,     401,     401,     401,     404,     401),
    ("GET", "/cases/{reference}"):
        (401,     200,     200,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("GET", "/cases/{reference}/timeline"):
        (401,     200,     200,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("POST", "/cases/{reference}/transitions"):
        (401,     200,     200,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("POST", "/cases/{reference}/invitations"):
        (401,     201,     201,     201,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("POST", "/cases/{reference}/invitations/{invitation_id}/revoke"):
        (401,     200,     200,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("GET", "/cases/{reference}/readiness"):
        (401,     200,     200,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("GET", "/cases/{reference}/sessions"):
        (401,     200,     200,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("POST", "/cases/{reference}/sessions"):  # nothing is ready for a dialogue yet
        (401,     409,     409,     409,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("POST", "/cases/{reference}/sessions/{session_id}/cancel"):
        (401,     200,     200,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("POST", "/cases/{reference}/people/{participant_id}/assessments"):  # the case's own facilitators only
        (401,     404,     404,     201,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("POST", "/cases/{reference}/people/{participant_id}/acknowledgment/confirm"):
        (401,     404,     404,     409,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("POST", "/cases/{reference}/conflict-declarations"):
        (401,     201,     201,     201,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("GET", "/me/keys"):  # only the facilitator has made keys
        (401,     404,     404,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("GET", "/cases/{reference}/conversations"):  # staff without a place in the case have none
        (401,     200,     200,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("GET", "/conversations/{public_id}/members"):
        (401,     404,     404,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("GET", "/conversations/{public_id}/messages"):
        (401,     404,     404,     200,     404,     404,     404,     401,     401,     401,     401,     404,     401),
    ("POST", "/conversations/{public_id}/messages"):  # well formed for the schema, refused by the checks
        (401,     404,     404,     400,     404,     404,     404,     401,     401,     401,     401,     404,     401),
}
# fmt: on

API_BODIES = {
    ("POST", "/cases"): lambda c, x: {
        "program_id": c.program.pk,
        "harm_category": "fraud",
        "jurisdictions": ["NZ"],
        "referral_source": "self",
    },
    ("POST", "/cases/{reference}/transitions"): lambda c, x: {"action": "pause"},
    ("POST", "/cases/{reference}/invitations"): lambda c, x: {"role": "harmed_party"},
    ("POST", "/cases/{reference}/invitations/{invitation_id}/revoke"): lambda c, x: {},
    ("POST", "/cases/{reference}/sessions"): lambda c, x: {
        "kind": "dialogue",
        "format": "video",
        "starts_at": "2031-05-06T10:30:00+12:00",
        "time_zone": "Pacific/Auckland",
        "attendee_ids": [x.facilitator_place_id, c.harmed.pk, c.responsible.pk],
    },
    ("POST", "/cases/{reference}/sessions/{session_id}/cancel"): lambda c, x: {},
    ("POST", "/cases/{reference}/people/{participant_id}/assessments"): lambda c, x: {
        "outcome": "ready",
        "answers": {"motivation": "Wants to repair it."},
    },
    ("POST", "/cases/{reference}/people/{participant_id}/acknowledgment/confirm"): lambda c, x: {},
    ("POST", "/cases/{reference}/conflict-declarations"): lambda c, x: {"has_conflict": False},
    ("POST", "/conversations/{public_id}/messages"): lambda c, x: {
        "v": 1,
        "conversation": x.conversation_id,
        "id": str(uuid.uuid4()),
        "sender": "not a key id",
        "meta": {"kind": "message"},
        "nonce": "",
        "body": "",
        "keys": [],
        "sig": "",
    },
}


def api_call(key, cast, extra, ref) -> Call:
    method, route = key
    path = "/api/v1" + route.format(
        reference=ref,
        invitation_id=extra.invitation_id,
        session_id=extra.session_id,
        participant_id=cast.responsible.pk,
        public_id=extra.conversation_id,
    )
    body = API_BODIES[key](cast, extra) if method == "POST" else None
    return Call(method, path, body=body)


def build_extra(cast) -> SimpleNamespace:
    """An open invitation to the case, a personal API token of its facilitator, a meeting, the person
    harmed's conversation with a message and a file, an agreement and a circle: the rows the matrix's
    routes name."""
    invitation, raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role=Role.COMMUNITY_MEMBER
    )
    token, _raw = account_services.api_token_create(actor=cast.facilitator, label="matrix")
    # Access that ended: both were co-facilitators of the case. Set up directly (not with the offboarding
    # service, which would end their places too), so that the access rules alone must refuse them.
    cast.former_member = make_staff(cast.program, "facilitator", "former@riverbend.test", "Fay Former")
    cast.deactivated = make_staff(cast.program, "facilitator", "closed@riverbend.test", "Cal Closed")
    for user in (cast.former_member, cast.deactivated):
        case_services.facilitator_assign(
            actor=cast.coordinator, case=cast.case, user=user, role="co_facilitator"
        )
    Membership.objects.filter(user=cast.former_member).delete()
    User.objects.filter(pk=cast.deactivated.pk).update(is_active=False)
    cast.deactivated.is_active = False
    # The coordinator asked to join the case's team themselves; a colleague who runs the case decides.
    assignment = case_services.assignment_request_create(actor=cast.coordinator, case=cast.case)
    volunteer_membership = Membership.objects.get(user=cast.volunteer, program=cast.program)
    facilitator_place = cast.case.participants.get(user=cast.facilitator)
    # Set up directly: the guards for a real dialogue are not the subject here, only who may touch it.
    session = Meeting.objects.create(
        case=cast.case,
        kind="preparation",
        format="video",
        starts_at=timezone.now() + timedelta(days=3),
        time_zone="UTC",
        created_by=cast.facilitator,
    )
    session.attendees.set([facilitator_place, cast.harmed])
    # The person harmed's conversation with their facilitator, holding one message from the facilitator
    # with a file; set up directly too, since real sending needs consent that would change other rows.
    keys = give_keys(cast.facilitator)
    conversation = dialogue_services.conversation_open(case=cast.case, kind="support", party=cast.harmed)
    message = Message.objects.create(
        conversation=conversation,
        seq=1,
        message_id=str(uuid.uuid4()),
        sender=cast.facilitator,
        sender_key_id=keys.key_id,
        kind="message",
        envelope="{}",
    )
    conversation.last_seq = 1
    conversation.save(update_fields=["last_seq"])
    for user in (cast.facilitator, cast.harmed.user):
        Recipient.objects.create(message=message, user=user, key_id=keys.key_id)
    attachment = Attachment.objects.create(
        file_id=str(uuid.uuid4()),
        conversation=conversation,
        uploader=cast.facilitator,
        message=message,
        ciphertext=b"\x00" * 32,
        size=32,
    )
    check_in = agreement_for_matrix(cast)
    circle = circle_for_matrix(cast)
    # Both also hold a volunteer's place in the circle, left behind in the same way.
    for number, user in enumerate((cast.former_member, cast.deactivated)):
        place = CircleMember.objects.create(
            circle_id=circle.circle_id, user=user, role="volunteer", name=f"Left {number}"
        )
        Meeting.objects.get(pk=circle.past_meeting_id).member_attendees.add(place)
    return SimpleNamespace(
        circle_id=circle.circle_id,
        circle_member_id=circle.member_id,
        circle_meeting_id=circle.past_meeting_id,
        alert_id=circle.alert_id,
        check_in_id=check_in.pk,
        invitation_id=invitation.pk,
        raw=raw,
        token_id=token.pk,
        session_id=session.pk,
        facilitator_place_id=facilitator_place.pk,
        conversation_id=conversation.public_id,
        file_id=attachment.file_id,
        assignment_request_id=assignment.pk,
        membership_id=volunteer_membership.pk,
    )


def client_for(cast, role: str) -> Client:
    return Client() if role == "anonymous" else cast.client(role)


def own_case_of(cast, role: str) -> Case:
    user = getattr(cast, role)
    user = user.user if isinstance(user, Participant) else user
    return Participant.objects.get(user=user, joined_at__isnull=False).case


def expected_location(cast, where: str) -> str | None:
    return {
        OUT: "/account/sign-in/",
        HOME: "/",
        CASE: f"/cases/{cast.case.reference}/",
        INVITED: f"/cases/{cast.case.reference}/#invite",
        TOKENS: "/account/tokens/",
        TEXTS: f"/programs/{cast.program.pk}/consent/?language=en",
        WORDS: f"/programs/{cast.program.pk}/words/?language=en",
        QUESTIONS: f"/programs/{cast.program.pk}/questions/",
        PEOPLE: f"/programs/{cast.program.pk}/people/",
        MESSAGES: f"/cases/{cast.case.reference}/messages/",
        AGREEMENT: f"/cases/{cast.case.reference}/agreement/",
        DRAFT: f"/cases/{cast.case.reference}/agreement/v3/",
        SIGNING: f"/cases/{cast.case.reference}/agreement/v2/",
        ITEM: f"/cases/{cast.case.reference}/agreement/items/{AGREEMENT_ITEM}/",
        MEETING: f"/cases/{cast.case.reference}/sessions/{Meeting.objects.get(case=cast.case).pk}/",
        CIRCLE: f"/circles/{Circle.objects.get(program=cast.program).pk}/",
    }.get(where)


def check_cell(response, expected, *, cast, role: str, call: Call):
    where = f"{call.method} {call.path} as {role}"
    if isinstance(expected, int):
        assert response.status_code == expected, f"{where}: {response.status_code}, expected {expected}"
        return
    assert response.status_code == 302, f"{where}: {response.status_code}, expected a redirect {expected}"
    location = response["Location"]
    if expected == LOGIN:
        parts = urlsplit(location)
        assert parts.path == "/account/sign-in/", where
        assert parse_qs(parts.query)["next"] == [call.path], where
    elif expected == MINE:
        assert location == f"/cases/{own_case_of(cast, role).reference}/", where
    elif expected == NEW:
        assert re.fullmatch(r"/cases/C-[A-Z0-9]{4}-[A-Z0-9]{4}/", location), where
        assert location != f"/cases/{cast.case.reference}/", where
    else:
        assert location == expected_location(cast, expected), f"{where}: to {location}"


def check_stranger_learns_nothing(response, *, cast, role: str):
    """Whatever a stranger gets, it carries neither the case's reference nor its people's names."""
    if role not in STRANGERS:
        return
    content = response.content.decode(errors="replace")
    for secret in (cast.case.reference, cast.harmed.pseudonym, cast.responsible.pseudonym):
        assert secret not in content, f"{role} was shown {secret!r}"


def cells(matrix):
    return [
        pytest.param(key, role, expected, id=f"{key[0]} {key[1]}-{role}".replace("/", "_"))
        for key, row in matrix.items()
        for role, expected in zip(ROLES, row, strict=True)
    ]


@pytest.mark.parametrize(("key", "role", "expected"), cells(PAGE_MATRIX))
def test_inv_privacy_it_answers_each_role_on_each_page_as_the_matrix_says(cast, extra, key, role, expected):
    call = PAGE_CALLS[key](cast, extra, cast.case.reference)
    response = call.send(client_for(cast, role))
    check_cell(response, expected, cast=cast, role=role, call=call)
    check_stranger_learns_nothing(response, cast=cast, role=role)


@pytest.mark.parametrize(("key", "role", "expected"), cells(API_MATRIX))
def test_inv_privacy_it_answers_each_role_on_each_api_route_as_the_matrix_says(
    cast, extra, key, role, expected
):
    call = api_call(key, cast, extra, cast.case.reference)
    response = call.send(client_for(cast, role))
    check_cell(response, expected, cast=cast, role=role, call=call)
    check_stranger_learns_nothing(response, cast=cast, role=role)
    if expected == 401:
        assert response.json() == UNAUTHENTICATED
    if expected == 404:
        assert response.json() == CASE_NOT_FOUND


def walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (pattern.namespace + ":" if pattern.namespace else "")
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace + (pattern.name or ""), pattern.callback


def api_operations() -> set[tuple[str, str]]:
    operations = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    operations.add((method, (prefix.rstrip("/") + path) or "/"))
    return operations


def api_operation_routes() -> set[str]:
    return {"api/v1" + re.sub(r"{(\w+)}", r"<\1>", path) for _method, path in api_operations()}


def test_inv_privacy_it_has_a_row_for_every_url_pattern():
    # API operations have their own matrix; everything else, API schema pages included, is a page row.
    patterns = {
        name for route, name, _cb in walk(get_resolver().url_patterns) if route not in api_operation_routes()
    }
    assert patterns == {name for name, _method in PAGE_MATRIX}
    assert set(PAGE_MATRIX) == set(PAGE_CALLS)


def test_inv_privacy_it_has_a_row_for_every_api_route():
    assert api_operations() == set(API_MATRIX)
    assert set(API_BODIES) == {key for key in API_MATRIX if key[0] != "GET"}


PUBLIC_PAGES = {"healthz", "language", "accounts:sign_in", "accounts:sign_out", "accounts:recover", "join"}


def test_inv_privacy_it_lets_only_the_listed_pages_be_seen_without_signing_in():
    public, api_patterns = set(), set()
    for route, name, callback in walk(get_resolver().url_patterns):
        if route.startswith("api/v1/"):
            api_patterns.add((name, getattr(callback, "login_required", True)))
        elif not getattr(callback, "login_required", True):
            public.add(name)
    assert public == PUBLIC_PAGES
    # The API checks the caller itself and answers 401, never a redirect to the sign-in page.
    assert {login_required for _name, login_required in api_patterns} == {False}
    anonymous_can_read = {
        name for (name, _method), row in PAGE_MATRIX.items() if name.startswith("api:") and row[0] == 200
    }
    assert anonymous_can_read == {"api:openapi-json", "api:openapi-view"}


def normalised(response) -> tuple:
    # The CSRF token on a page is masked afresh for every response; nothing else may differ.
    body = re.sub(rb'(name="csrfmiddlewaretoken" value|data-csrf)="[^"]+"', b"", response.content)
    return response.status_code, response.get("Content-Type"), body


def refusals():
    """Every (route, role) where someone is refused a route that names the case."""
    params = []
    for key, row in PAGE_MATRIX.items():
        if "<str:reference>" not in next(r for r, n, _cb in walk(get_resolver().url_patterns) if n == key[0]):
            continue
        params += [
            pytest.param("page", key, role, id=f"{key[0]} {key[1]}-{role}")
            for role, expected in zip(ROLES, row, strict=True)
            if expected == 404
        ]
    for key, row in API_MATRIX.items():
        if "{reference}" not in key[1]:
            continue
        params += [
            pytest.param("api", key, role, id=f"{key[0]} {key[1]}-{role}".replace("/", "_"))
            for role, expected in zip(ROLES, row, strict=True)
            if expected in (401, 404)
        ]
    return params


@pytest.mark.parametrize(("kind", "key", "role"), refusals())
def test_inv_privacy_it_answers_a_missing_case_exactly_like_one_not_yours(cast, extra, kind, key, role):
    assert not Case.objects.filter(reference=MISSING_REFERENCE).exists()
    make = PAGE_CALLS[key] if kind == "page" else lambda c, x, ref: api_call(key, c, x, ref)
    client = client_for(cast, role)
    existing = make(cast, extra, cast.case.reference).send(client)
    missing = make(cast, extra, MISSING_REFERENCE).send(client)
    assert existing.status_code in (401, 404)
    assert normalised(existing) == normalised(missing)


def conversation_refusals():
    """Every (route, role) where someone is refused a conversation or a file of the case."""
    params = []
    for key, row in PAGE_MATRIX.items():
        if key[0].startswith("dialogue:") and key[0] not in ("dialogue:list", "dialogue:read_receipts"):
            params += [
                pytest.param("page", key, role, id=f"{key[0]} {key[1]}-{role}")
                for role, expected in zip(ROLES, row, strict=True)
                if expected == 404
            ]
    for key, row in API_MATRIX.items():
        if "{public_id}" in key[1]:
            params += [
                pytest.param("api", key, role, id=f"{key[0]} {key[1]}-{role}".replace("/", "_"))
                for role, expected in zip(ROLES, row, strict=True)
                if expected in (401, 404)
            ]
    return params


@pytest.mark.parametrize(("kind", "key", "role"), conversation_refusals())
def test_inv_privacy_it_answers_a_missing_conversation_or_file_exactly_like_one_not_yours(
    cast, extra, kind, key, role
):
    missing = SimpleNamespace(
        **{**vars(extra), "conversation_id": MISSING_CONVERSATION, "file_id": MISSING_FILE}
    )
    if kind == "page":
        existing_call, missing_call = (
            PAGE_CALLS[key](cast, extra, cast.case.reference),
            PAGE_CALLS[key](cast, missing, cast.case.reference),
        )
    else:
        existing_call, missing_call = (
            api_call(key, cast, extra, cast.case.reference),
            api_call(key, cast, missing, cast.case.reference),
        )
    if existing_call.body and "conversation" in existing_call.body:
        # The same body to both, so that only the address differs.
        missing_call = Call(missing_call.method, missing_call.path, body=existing_call.body)
    client = client_for(cast, role)
    existing, absent = existing_call.send(client), missing_call.send(client)
    assert existing.status_code in (401, 404)
    assert normalised(existing) == normalised(absent)


def test_inv_privacy_it_does_not_revoke_an_invitation_of_another_case_through_a_case_one_runs(cast):
    # The coordinator runs both cases of the program, but the invitation must belong to the case named.
    other_case = own_case_of(cast, "outsider")
    invitation, _raw = case_services.participant_invite(
        actor=cast.coordinator, case=other_case, role="interpreter"
    )
    client = cast.client("coordinator")
    page = client.post(f"/cases/{cast.case.reference}/invitations/{invitation.pk}/revoke/")
    through_api = client.post(f"/api/v1/cases/{cast.case.reference}/invitations/{invitation.pk}/revoke")
    assert (page.status_code, through_api.status_code) == (404, 404)
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_inv_privacy_it_lists_only_the_cases_and_programs_a_person_may_see(cast):
    theirs = case_services.case_create(
        actor=cast.other_program_facilitator, program=cast.other_program, harm_category="doxxing",
        jurisdictions=["AU"], referral_source="self", facilitator=cast.other_program_facilitator,
    )  # fmt: skip
    seen = {
        role: {c["reference"] for c in cast.client(role).get("/api/v1/cases").json()["items"]}
        for role in (
            "coordinator",
            "facilitator",
            "other_facilitator_same_program",
            "other_program_facilitator",
        )
    }
    outsider_case = own_case_of(cast, "outsider").reference
    assert seen["coordinator"] == {cast.case.reference, outsider_case}
    assert seen["facilitator"] == {cast.case.reference}
    assert seen["other_facilitator_same_program"] == set()
    assert seen["other_program_facilitator"] == {theirs.reference}
    programs = cast.client("other_program_facilitator").get("/api/v1/programs").json()
    assert [p["id"] for p in programs] == [cast.other_program.pk]
    page = cast.client("other_program_facilitator").get("/cases/")
    assert theirs.reference in page.content.decode()
    assert cast.case.reference not in page.content.decode()


STAFF_PAGES_BEHIND_SECOND_FACTOR = ["/", "/cases/", "/cases/new/", "/account/tokens/"]


@pytest.mark.parametrize("path", STAFF_PAGES_BEHIND_SECOND_FACTOR + ["case"])
def test_inv_privacy_it_shows_staff_nothing_before_their_second_factor(cast, path):
    path = f"/cases/{cast.case.reference}/" if path == "case" else path
    client = Client()
    client.force_login(cast.facilitator)  # password checked, second factor not yet
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/"


def test_inv_privacy_it_refuses_the_api_to_staff_before_their_second_factor(cast):
    client = Client()
    client.force_login(cast.facilitator)
    response = client.get(f"/api/v1/cases/{cast.case.reference}")
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED


def test_inv_privacy_it_applies_the_same_rules_to_personal_api_tokens(cast):
    token, mine = account_services.api_token_create(actor=cast.facilitator, label="laptop")
    _token, theirs = account_services.api_token_create(actor=cast.other_program_facilitator, label="laptop")
    path = f"/api/v1/cases/{cast.case.reference}"
    assert Client().get(path, headers={"Authorization": f"Bearer {mine}"}).status_code == 200
    refused = Client().get(path, headers={"Authorization": f"Bearer {theirs}"})
    assert (refused.status_code, refused.json()) == (404, CASE_NOT_FOUND)
    account_services.api_token_revoke(actor=cast.facilitator, api_token=token)
    revoked = Client().get(path, headers={"Authorization": f"Bearer {mine}"})
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]


def test_inv_privacy_it_keeps_an_invitation_link_to_itself(cast, extra):
    # Opening a join link shows the program and the role, never the case or the people already in it.
    response = Client().get(f"/join/{extra.raw}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert cast.program.name in content
    for secret in (cast.case.reference, cast.harmed.pseudonym, cast.responsible.pseudonym, "Fen Facilitator"):
        assert secret not in content
    assert Invitation.objects.get(pk=extra.invitation_id).used_at is None


def test_inv_privacy_it_sends_api_docs_readers_to_no_third_party(cast):
    # ninja's default Swagger page loads script and icons from other sites; Mend's pages load nothing.
    response = Client().get("/api/v1/docs")
    content = response.content.decode()
    assert response.status_code == 200
    assert "<script" not in content
    assert not re.search(r'(src|href)="(https?:)?//', content)


POST_ONLY = [key for key in PAGE_MATRIX if key[1] == "POST" and (key[0], "GET") not in PAGE_MATRIX]


@pytest.mark.parametrize("key", POST_ONLY, ids=lambda key: key[0])
def test_inv_privacy_it_answers_a_get_on_a_post_only_page_alike_for_everyone_signed_in(cast, extra, key):
    # 405 before any access check, so a stranger learns nothing a member would not.
    path = PAGE_CALLS[key](cast, extra, cast.case.reference).path
    answers = {role: normalised(client_for(cast, role).get(path)) for role in ("facilitator", "outsider")}
    assert answers["facilitator"][0] == 405
    assert answers["facilitator"] == answers["outsider"]


# --- many people on a side (issue 16): nobody finds a person harmed who did not agree to be seen -------------

SECOND_HARMED_ZONE = "Asia/Kathmandu"


def second_person_harmed(cast) -> Participant:
    """Yarrow, a second person harmed in the cast's case, who chose the facilitator's relay and did not agree
    to be seen by the other person harmed: nobody but staff may see her, and she sees neither Wren nor
    Wren's supporter (mend.readiness.rules.visible_to)."""
    from mend import builders
    from mend.consent import services as consent_services

    place = builders.join(
        actor=cast.facilitator,
        case=cast.case,
        role=Role.HARMED_PARTY,
        pseudonym="Yarrow",
        time_zone=SECOND_HARMED_ZONE,
    )
    builders.give_consent(place, "take_part", "facilitator_contact", "indirect_exchange")
    consent_services.choices_update(
        actor=place.user,
        place=place,
        mode="indirect",
        supporters_may_attend=False,
        community_may_attend=False,
        progress_updates="at_end",
        progress_every_weeks=None,
    )
    return place


@pytest.mark.parametrize("role", ["harmed", "responsible", "supporter", "second_harmed"])
def test_inv_privacy_no_page_or_api_answer_shows_a_person_harmed_who_did_not_agree(cast, extra, role):
    """Every page and API row of the matrix a party can read, as each party, with a second person harmed in
    the case: her pseudonym, sign-in name, key id and time zone appear nowhere (and she, in turn, finds
    neither Wren nor Wren's supporter). Ids are left to tests/test_same_side_privacy.py, where they are made
    distinctive."""
    from tests.test_same_side_privacy import leaks_in

    yarrow = second_person_harmed(cast)
    viewer, hidden = (
        (yarrow, [cast.harmed, cast.supporter])
        if role == "second_harmed"
        else (getattr(cast, role), [yarrow])
    )
    client = signed_in(viewer.user)
    calls = [PAGE_CALLS[key](cast, extra, cast.case.reference) for key in PAGE_MATRIX if key[1] == "GET"]
    calls += [api_call(key, cast, extra, cast.case.reference) for key in API_MATRIX if key[0] == "GET"]
    found, read = [], 0
    for call in calls:
        response = call.send(client)
        if response.status_code != 200 or response.streaming:
            continue
        read += 1
        text = response.content.decode(errors="replace")
        found += [f"{call.path}: {leak}" for leak in leaks_in(text, hidden, ids=False)]
    assert read >= 10, f"{role} read only {read} pages"
    assert not found, "\n".join(found)
