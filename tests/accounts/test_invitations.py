"""Invitation links: used once, for a short time, withdrawable by staff, and kept only as a digest."""

import functools
import hashlib
import html
import json
import re
import time
import zoneinfo
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core import signing
from django.test import Client
from django.utils import timezone

from mend.accounts.credentials import new_sign_in_name
from mend.accounts.forms import NEEDS_JAVASCRIPT
from mend.accounts.keys import unknown_credentials
from mend.accounts.models import Invitation, KeyBundle, User
from mend.accounts.views import JOIN_NAME_SALT
from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Participant, Role
from mend.core import envelope as env
from mend.core.errors import Conflict, DomainError
from tests.accounts.helpers import JSON, derived, made_keys, sign_in, signed_in_as

UNUSABLE = "This link cannot be used any more."
EXPIRED_PAGE = "This page has expired. Reload it and join again."
PHRASE = "kelp shore drift amber quiet ridge"

_time_zones = functools.cache(zoneinfo.available_timezones)


@pytest.fixture(autouse=True)
def quick_time_zones(monkeypatch):
    """Speed only: mend.core.validators.time_zone walks the time-zone files on every call."""
    monkeypatch.setattr(zoneinfo, "available_timezones", _time_zones)


@pytest.fixture
def invitation(cast):
    """An open link for the responsible party's supporter; `invitation.raw` is the secret part."""
    made, raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role=Role.SUPPORTER, supports=cast.responsible
    )
    made.raw = raw
    return made


def counts() -> dict:
    return {
        "users": User.objects.count(),
        "participants": Participant.objects.count(),
        "joined": Participant.objects.filter(joined_at__isnull=False).count(),
        "invitations": Invitation.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def text(response) -> str:
    return html.unescape(response.content.decode())


def field_error(response, field: str) -> str:
    """The error shown next to a form field (its <p class="error"> tied to the field by id)."""
    found = re.search(rf'<p class="error" id="id_{field}_error">(.*?)</p>', text(response), re.S)
    assert found, f"no error shown for {field}"
    return found.group(1)


def accept(raw: str, pseudonym: str):
    """Takes up the place through the service, with keys nobody holds."""
    return case_services.invitation_accept(
        raw_token=raw, pseudonym=pseudonym, **unknown_credentials(new_sign_in_name())
    )


def page_name(client: Client, raw: str) -> tuple[str, str]:
    """(signed name, name) as the join page gives them to its script; made here when the page is gone."""
    page = client.get(f"/join/{raw}/")
    if page.status_code == 200:
        return page.context["signed_sign_in_name"], page.context["sign_in_name"]
    name = new_sign_in_name()
    return signing.dumps(name, salt=JOIN_NAME_SALT), name


def join(raw: str, pseudonym: str = "Heron", *, client=None, credentials=None, signed=None, **fields):
    """Posts what the join page's script posts: the choices, the signed name, the derived key and keys."""
    client = client or Client()
    signed_name, name = page_name(client, raw)
    made = credentials or unknown_credentials(name)
    data = {
        "pseudonym": pseudonym,
        "time_zone": "Pacific/Auckland",
        "sign_in_name": signed or signed_name,
        "auth_key": made["auth_key"],
        "keys": json.dumps(made["keys"]),
        **fields,
    }
    return client.post(f"/join/{raw}/", data, headers=JSON)


def errors(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()["errors"]


def test_it_lets_a_new_participant_join_with_an_open_link(cast, invitation):
    client = Client()
    signed, name = page_name(client, invitation.raw)
    key, wrap_key = derived(name, PHRASE)
    made = made_keys(wrap_key)
    response = join(
        invitation.raw, client=client, signed=signed, credentials={"auth_key": key, "keys": made.fields}
    )
    # The answer names the sign-in name the page was given; the page itself shows it with the phrase.
    assert response.status_code == 200
    assert response.json() == {"sign_in_name": name, "next": "/"}
    place = Participant.objects.get(pk=invitation.participant_id)
    assert place.user.username == name
    assert (place.pseudonym, place.time_zone, place.has_joined) == ("Heron", "Pacific/Auckland", True)
    assert signed_in_as(client) == place.user_id
    assert client.get(f"/cases/{cast.case.reference}/").status_code == 200
    bundle = KeyBundle.objects.get(user=place.user)
    assert (bundle.key_id, bundle.wrapped) == (made.pair.key_id, made.fields["wrapped"])
    assert AuditEvent.objects.filter(code="account.keys_created", actor=place.user).count() == 1
    # And the phrase signs them in again, in another browser.
    assert sign_in(Client(), name, PHRASE).status_code == 302


def test_it_never_sees_or_keeps_the_phrase_or_the_recovery_code(cast, invitation):
    client = Client()
    signed, name = page_name(client, invitation.raw)
    key, wrap_key = derived(name, PHRASE)
    made = made_keys(wrap_key)
    response = join(
        invitation.raw, client=client, signed=signed, credentials={"auth_key": key, "keys": made.fields}
    )
    assert response.status_code == 200
    secrets = {"phrase": PHRASE, "recovery code": made.recovery_code, "sign-in key": key}
    answer = response.content.decode()
    session = str(client.session.items())
    for what, secret in secrets.items():
        assert secret not in answer, f"the {what} is in the answer"
        assert secret not in session, f"the {what} is in the session"
        for model, row in every_stored_value():
            assert secret not in row, f"the {what} is stored in {model}"
    assert "phrase" not in answer.lower()
    user = User.objects.get(username=name)
    assert user.password.startswith("sealed$") and user.check_password(key)


def test_it_tells_someone_without_javascript_that_joining_needs_it(cast, invitation):
    before = counts()
    page = Client().get(f"/join/{invitation.raw}/")
    assert "Joining needs JavaScript turned on" in text(page)
    assert re.search(r'<button type="submit" disabled>', text(page))
    # What the form sends without its script: the choices and the signed name, no key and no keys.
    signed = page.context["signed_sign_in_name"]
    posted = {"pseudonym": "Heron", "time_zone": "UTC", "sign_in_name": signed}
    response = Client().post(f"/join/{invitation.raw}/", posted)
    assert response.status_code == 400
    assert str(NEEDS_JAVASCRIPT) in text(response)
    as_json = Client().post(f"/join/{invitation.raw}/", posted, headers=JSON)
    assert as_json.status_code == 400
    assert str(NEEDS_JAVASCRIPT) in errors(as_json)["__all__"]
    assert counts() == before
    invitation.refresh_from_db()
    assert invitation.used_at is None


def _old_signature(name: str) -> str:
    class SixHoursAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 6 * 3600 - 60)

    return SixHoursAgo(salt=JOIN_NAME_SALT).sign_object(name)


@pytest.mark.parametrize(
    "make_signed",
    [
        pytest.param(lambda name: _old_signature(name), id="expired"),
        pytest.param(lambda name: signing.dumps(name, salt=JOIN_NAME_SALT)[:-2] + "xx", id="tampered"),
        pytest.param(lambda name: signing.dumps(name, salt="another.purpose"), id="other salt"),
        pytest.param(lambda name: name, id="unsigned"),
        pytest.param(lambda name: signing.dumps("Not A Name!", salt=JOIN_NAME_SALT), id="not a name"),
        pytest.param(lambda name: signing.dumps("wren-demo", salt=JOIN_NAME_SALT), id="taken"),
    ],
)
def test_it_refuses_a_sign_in_name_the_page_did_not_give_now(cast, invitation, make_signed):
    # "taken": a name someone already signs in with, signed properly.
    User.objects.create_user("wren-demo", kind="participant", display_name="Somebody")
    before = counts()
    name = new_sign_in_name()
    response = join(invitation.raw, signed=make_signed(name), credentials=unknown_credentials(name))
    assert response.status_code == 400
    assert errors(response) == {"__all__": [EXPIRED_PAGE]}
    assert counts() == before
    assert not User.objects.filter(username=name).exists()
    invitation.refresh_from_db()
    assert invitation.used_at is None
    assert join(invitation.raw).status_code == 200


def test_it_still_accepts_a_page_opened_nearly_six_hours_ago(cast, invitation):
    class FiveHoursAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 5 * 3600)

    name = new_sign_in_name()
    signed = FiveHoursAgo(salt=JOIN_NAME_SALT).sign_object(name)
    response = join(invitation.raw, signed=signed, credentials=unknown_credentials(name))
    assert response.status_code == 200 and response.json()["sign_in_name"] == name


def _bad_keys():
    good = unknown_credentials(new_sign_in_name())["keys"]
    weak = {**good, "wrapped": {**good["wrapped"], "kdf": {"name": "PBKDF2-SHA-256", "iterations": 1000}}}
    return {
        "a list": [1, 2],
        "a string": "keys",
        "a number": 7,
        "an extra field": {**good, "private": "x"},
        "a missing field": {k: v for k, v in good.items() if k != "recovery_auth"},
        "weak iterations": weak,
        "short public key": {**good, "enc_public": env.b64u(b"x" * 31)},
        "no recovery copy": {**good, "recovery_wrapped": None},
        "not JSON": RawText("{keys"),
        "deeply nested": RawText("[" * 50_000 + "]" * 50_000),
    }


class RawText(str):
    """Posted as it is, not as JSON."""


@pytest.mark.parametrize("what", list(_bad_keys()))
def test_it_refuses_keys_not_in_the_form_the_page_makes_and_writes_nothing(cast, invitation, what):
    before = counts()
    client = Client()
    signed, name = page_name(client, invitation.raw)
    keys = _bad_keys()[what]
    response = client.post(
        f"/join/{invitation.raw}/",
        {
            "pseudonym": "Heron",
            "time_zone": "UTC",
            "sign_in_name": signed,
            "auth_key": unknown_credentials(name)["auth_key"],
            "keys": keys if isinstance(keys, RawText) else json.dumps(keys),
        },
        headers=JSON,
    )
    assert response.status_code == 400
    assert errors(response)["__all__"]
    assert counts() == before
    assert not KeyBundle.objects.filter(user__username=name).exists()


def test_it_refuses_a_sign_in_key_not_made_by_the_page(cast, invitation):
    before = counts()
    name = new_sign_in_name()
    made = unknown_credentials(name)
    response = join(invitation.raw, credentials={**made, "auth_key": "my own password"})
    assert response.status_code == 400
    assert errors(response)["__all__"]
    assert counts() == before


def test_it_lets_a_link_be_used_only_once(cast, invitation):
    accept(invitation.raw, "Heron")
    before = counts()
    with pytest.raises(Conflict, match=UNUSABLE):
        accept(invitation.raw, "Egret")
    assert counts() == before
    assert Participant.objects.get(pk=invitation.participant_id).pseudonym == "Heron"


def test_it_shows_a_used_link_as_unusable_and_creates_nothing(cast, invitation):
    assert join(invitation.raw, "Heron").status_code == 200
    before = counts()
    opened = Client().get(f"/join/{invitation.raw}/")
    second = join(invitation.raw, "Egret")
    assert (opened.status_code, second.status_code) == (410, 410)
    assert UNUSABLE in text(opened)
    # The page's script shows the answer in words: it gets them as JSON.
    assert second.json()["error"].startswith(UNUSABLE)
    without_script = Client().post(f"/join/{invitation.raw}/", {"pseudonym": "Egret"})
    assert without_script.status_code == 410 and UNUSABLE in text(without_script)
    assert counts() == before
    assert not User.objects.filter(display_name="Egret").exists()


def test_it_refuses_an_expired_link(cast, invitation):
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    before = counts()
    with pytest.raises(Conflict, match=UNUSABLE):
        accept(invitation.raw, "Heron")
    page = join(invitation.raw)
    assert page.status_code == 410
    assert UNUSABLE in text(page)
    assert Client().get(f"/join/{invitation.raw}/").status_code == 410
    assert counts() == before
    invitation.refresh_from_db()
    assert invitation.state(timezone.now()) == "expired"


def test_it_still_accepts_a_link_a_minute_before_it_expires(cast, invitation):
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + timedelta(minutes=1))
    assert join(invitation.raw).status_code == 200


def test_it_makes_links_that_expire_after_the_days_chosen(cast):
    made, _raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER, expires_in_days=3
    )
    left = made.expires_at - timezone.now()
    assert timedelta(days=3) - timedelta(minutes=1) < left <= timedelta(days=3)


def test_it_lets_staff_withdraw_a_link_from_the_case_page(cast, invitation):
    client = cast.client("facilitator")
    response = client.post(f"/cases/{cast.case.reference}/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert AuditEvent.objects.filter(code="invitation.revoked", target_id=str(invitation.pk)).count() == 1
    assert "link withdrawn" in text(client.get(f"/cases/{cast.case.reference}/"))
    refused = Client().get(f"/join/{invitation.raw}/")
    assert refused.status_code == 410
    assert UNUSABLE in text(refused)
    assert "cannot be used" in text(join(invitation.raw))


def test_it_withdraws_a_link_through_the_service(cast, invitation):
    case_services.invitation_revoke(actor=cast.coordinator, invitation=invitation)
    before = counts()
    with pytest.raises(Conflict, match=UNUSABLE):
        accept(invitation.raw, "Heron")
    assert join(invitation.raw).status_code == 410
    assert counts() == before


def test_it_records_a_withdrawal_once_even_if_asked_twice(cast, invitation):
    case_services.invitation_revoke(actor=cast.facilitator, invitation=invitation)
    case_services.invitation_revoke(actor=cast.facilitator, invitation=invitation)
    assert AuditEvent.objects.filter(code="invitation.revoked").count() == 1


def test_it_does_not_withdraw_a_link_already_used(cast, invitation):
    accept(invitation.raw, "Heron")
    with pytest.raises(Conflict, match="already been used"):
        case_services.invitation_revoke(actor=cast.facilitator, invitation=invitation)
    response = cast.client("facilitator").post(
        f"/cases/{cast.case.reference}/invitations/{invitation.pk}/revoke/"
    )
    assert response.status_code == 409
    assert "already been used, so it cannot be withdrawn" in text(response)
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_it_answers_an_unknown_link_like_a_used_one(cast, invitation):
    join(invitation.raw)
    used = Client().get(f"/join/{invitation.raw}/")
    unknown = Client().get("/join/not-a-real-token/")

    # The language switcher's form carries a CSRF token, masked afresh for every response.
    def same(response):
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text(response))

    assert (unknown.status_code, same(unknown)) == (used.status_code, same(used))


def every_stored_value():
    """Every value in every table of the project's own apps, as text."""
    for model in apps.get_models():
        for row in model.objects.values_list():
            yield model.__name__, " ".join(str(value) for value in row)


def test_it_stores_a_token_only_as_its_sha256_digest(cast, invitation):
    assert invitation.digest == hashlib.sha256(invitation.raw.encode()).hexdigest()
    for model, row in every_stored_value():
        assert invitation.raw not in row, f"the raw token is stored in {model}"


def test_it_shows_a_new_link_once_and_then_keeps_it_nowhere(cast):
    client = cast.client("facilitator")
    response = client.post(
        f"/cases/{cast.case.reference}/invite/",
        {"invite-role": "community_member", "invite-expires_in_days": "7"},
        follow=True,
    )
    link = re.search(r'data-testid="invite-link">([^<]+)<', text(response)).group(1)
    raw = link.rstrip("/").rsplit("/", 1)[1]
    place = Participant.objects.filter(case=cast.case, role=Role.COMMUNITY_MEMBER).get()
    assert place.invitations.get().digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in text(client.get(f"/cases/{cast.case.reference}/"))
    for session in Session.objects.all():
        assert raw not in str(session.get_decoded())
    for model, row in every_stored_value():
        assert raw not in row, f"the raw token is stored in {model}"


@pytest.mark.parametrize("supports", ["nobody", "facilitator", "party of another case"])
def test_it_requires_a_party_of_the_case_for_a_supporter_invitation(cast, supports):
    chosen = {
        "nobody": None,
        "facilitator": cast.case.participants.get(role=Role.FACILITATOR),
        "party of another case": Participant.objects.get(user=cast.outsider),
    }[supports]
    before = counts()
    with pytest.raises(DomainError, match="Choose which party this supporter is there for") as raised:
        case_services.participant_invite(
            actor=cast.facilitator, case=cast.case, role=Role.SUPPORTER, supports=chosen
        )
    assert raised.value.field == "supports"
    assert counts() == before


def test_it_asks_which_party_a_supporter_is_for_on_the_case_page(cast):
    before = counts()
    response = cast.client("facilitator").post(
        f"/cases/{cast.case.reference}/invite/",
        {"invite-role": "supporter", "invite-supports": "", "invite-expires_in_days": "7"},
    )
    assert response.status_code == 400
    assert field_error(response, "invite-supports") == "Choose which party this supporter is there for."
    assert counts() == before


def test_it_invites_a_supporter_for_a_party(cast):
    response = cast.client("facilitator").post(
        f"/cases/{cast.case.reference}/invite/",
        {"invite-role": "supporter", "invite-supports": str(cast.harmed.pk), "invite-expires_in_days": "7"},
    )
    assert response.status_code == 302
    place = Participant.objects.filter(case=cast.case, role=Role.SUPPORTER, joined_at__isnull=True).get()
    assert place.supports_id == cast.harmed.pk


@pytest.mark.parametrize(
    ("pseudonym", "message"),
    [
        pytest.param("", "This field is required.", id="empty"),
        pytest.param("   ", "This field is required.", id="blank"),
        pytest.param("W", "Choose a name of at least 2 letters.", id="too short"),
        pytest.param("H" * 41, "Ensure this value has at most 40 characters (it has 41).", id="too long"),
        pytest.param(
            "heron@example.org", "Choose a name that is not an email address or a number.", id="email"
        ),
        pytest.param("4 Heron", "Choose a name that is not an email address or a number.", id="number"),
        pytest.param("wren", "Someone in this case already uses that name.", id="taken in the case"),
        pytest.param(" Kestrel ", "Someone in this case already uses that name.", id="taken, with spaces"),
    ],
)
def test_it_says_what_to_fix_in_a_join_form_and_writes_nothing(cast, invitation, pseudonym, message):
    before = counts()
    response = join(invitation.raw, pseudonym)
    assert response.status_code == 400
    assert errors(response)["pseudonym"][0].startswith(message)
    assert counts() == before
    invitation.refresh_from_db()
    assert invitation.state(timezone.now()) == "open"
    assert Participant.objects.get(pk=invitation.participant_id).user is None
    # The link still works once the name is fixed.
    assert join(invitation.raw, "Heron").status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Mars/Olympus_Mons", "Select a valid choice."),
        ("contact_method", "x" * 201, "Ensure this value has at most 200 characters"),
        ("accessibility_needs", "x" * 1001, "Ensure this value has at most 1000 characters"),
    ],
)
def test_it_says_what_to_fix_in_the_other_join_fields(cast, invitation, field, value, message):
    before = counts()
    response = join(invitation.raw, "Heron", **{field: value})
    assert response.status_code == 400
    assert errors(response)[field][0].startswith(message)
    assert counts() == before
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_it_gives_a_name_taken_by_someone_who_left_to_the_next_person(cast, invitation):
    Participant.objects.filter(pk=cast.supporter.pk).update(removed_at=timezone.now())
    assert join(invitation.raw, "Alder").status_code == 200


def test_it_records_the_language_a_participant_prefers(cast):
    _invitation, raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role="community_member"
    )
    bad = join(raw, "Kahu", time_zone="UTC", preferred_language="zz")
    assert bad.status_code == 400 and "preferred_language" in errors(bad)
    good = join(raw, "Kahu", time_zone="UTC", preferred_language="mi")
    assert good.status_code == 200
    assert Participant.objects.get(case=cast.case, pseudonym="Kahu").preferred_language == "mi"
