"""An interpreter attached to a party takes part in that party's conversations only while the party consents
to having one and is on their path: a reader and a recipient like any member, out at once (a 404, their
socket closed) when the consent is withdrawn or the party steps back. The other side learns only that an
interpreter is there."""

import json
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.http import Http404

from mend.asgi import application
from mend.audit.models import AuditEvent
from mend.builders import stop
from mend.cases import services as case_services
from mend.cases.models import Role
from mend.consent import services as consent_services
from mend.core import envelope as env
from mend.core.errors import DomainError
from mend.dialogue import access, rules, selectors, services
from mend.dialogue.models import Conversation
from tests.builders import consent, join, prepare_for_encounter, signed_in
from tests.dialogue.helpers import give_keys, seal

WAIT = 3


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related("case__program", "party").get(pk=conversation.pk)


def post(conversation, user, keys, text="hello"):
    message, _created = services.message_post(
        actor=user, conversation=fresh(conversation), envelope=seal(fresh(conversation), keys, text)
    )
    return message


@pytest.fixture
def scene(cast):
    """Wren (harmed) has an interpreter, Sage, who joined and consents to take part; Wren and the
    facilitator may write to each other in Wren's own conversation. Wren has not agreed to Sage yet."""
    consent(cast.harmed, "take_part", "facilitator_contact")
    sage = join(
        actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER, pseudonym="Sage", supports=cast.harmed
    )
    consent(sage, "take_part")
    keys = SimpleNamespace(
        harmed=give_keys(cast.harmed.user), facilitator=give_keys(cast.facilitator), sage=give_keys(sage.user)
    )
    support = services.conversation_open(case=cast.case, kind="support", party=cast.harmed)
    return SimpleNamespace(sage=sage, keys=keys, support=support)


def user_ids(people) -> set[int]:
    return {p.user_id for p in people}


def test_it_asks_the_interpreter_consent_only_of_a_party_with_an_interpreter_attached(cast, scene):
    assert "interpreter" in consent_services.scopes_for(cast.harmed)
    assert "interpreter" not in consent_services.scopes_for(cast.responsible)
    assert "interpreter" not in consent_services.scopes_for(scene.sage)
    with pytest.raises(DomainError):
        consent(cast.responsible, "interpreter")


def test_it_keeps_the_interpreter_out_until_the_party_agrees(cast, scene):
    assert scene.sage.user_id not in user_ids(rules.readers(fresh(scene.support)))
    with pytest.raises(Http404):
        access.access_conversation(scene.sage.user, scene.support.public_id)
    assert (
        signed_in(scene.sage.user)
        .get(f"/cases/{cast.case.reference}/messages/{scene.support.public_id}/")
        .status_code
        == 404
    )


def test_it_adds_the_interpreter_as_a_recipient_once_the_party_agrees(cast, scene):
    consent(cast.harmed, "interpreter")
    members = selectors.members(fresh(scene.support))
    mine = next(m for m in members if m["user"] == scene.sage.user_id)
    # Encrypted to like any member, named only as an interpreter.
    assert mine["key_id"] == scene.keys.sage.key_id
    assert mine["name"] == "interpreter" and mine["role_code"] == "interpreter"
    message = post(scene.support, cast.harmed.user, scene.keys.harmed, "Thank you for explaining.")
    frame = selectors.backlog(fresh(scene.support), scene.sage.user, 0)[0]
    assert frame["id"] == message.message_id
    assert env.open_envelope(frame["envelope"], scene.keys.sage)["text"] == "Thank you for explaining."
    page = signed_in(scene.sage.user).get(f"/cases/{cast.case.reference}/messages/{scene.support.public_id}/")
    assert page.status_code == 200
    assert "An interpreter is helping in this conversation." in page.content.decode()


def test_it_lists_the_party_conversations_for_the_interpreter(cast, scene):
    consent(cast.harmed, "interpreter")
    theirs = services.conversations_open_for(case=cast.case, user=scene.sage.user)
    assert scene.support in theirs
    # Their own conversation with the team as well, as every person in a case has.
    assert any(c.kind == "support" and c.party_id == scene.sage.pk for c in theirs)


def test_it_never_lets_the_interpreter_write(cast, scene):
    consent(cast.harmed, "interpreter")
    with pytest.raises(services.Refused) as refused:
        post(scene.support, scene.sage.user, scene.keys.sage, "I will write for Wren.")
    assert refused.value.code == "not_now"
    assert "Only the person you help and the facilitators write here" in refused.value.message


@pytest.mark.parametrize("how", ["withdraws the interpreter consent", "stops taking part", "takes a break"])
def test_it_takes_the_interpreter_out_at_once(cast, scene, how):
    consent(cast.harmed, "interpreter")
    assert scene.sage.user_id in user_ids(rules.recipients(fresh(scene.support)))
    if how == "withdraws the interpreter consent":
        consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="interpreter")
    elif how == "stops taking part":
        stop(cast.harmed)
    else:
        consent_services.participant_pause(actor=cast.harmed.user, place=cast.harmed)
    assert scene.sage.user_id not in user_ids(rules.readers(fresh(scene.support)))
    with pytest.raises(Http404):
        access.access_conversation(scene.sage.user, scene.support.public_id)
    page = signed_in(scene.sage.user).get(f"/cases/{cast.case.reference}/messages/{scene.support.public_id}/")
    assert page.status_code == 404


def test_it_takes_the_interpreter_out_when_staff_detach_them(cast, scene):
    consent(cast.harmed, "interpreter")
    case_services.interpreter_attach(actor=cast.facilitator, interpreter=scene.sage, party=None)
    assert scene.sage.user_id not in user_ids(rules.readers(fresh(scene.support)))
    codes = list(AuditEvent.objects.filter(case=cast.case).values_list("code", flat=True))
    assert "interpreter.detached" in codes


def test_inv_privacy_the_other_side_sees_that_an_interpreter_is_there_but_not_who_or_for_whom(cast):
    prepare_for_encounter(cast, mode="direct")
    sage = join(
        actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER, pseudonym="Sage", supports=cast.harmed
    )
    consent(sage, "take_part")
    for place in (cast.harmed, cast.responsible, sage):
        give_keys(place.user)
    give_keys(cast.facilitator)
    consent(cast.harmed, "interpreter")
    direct = services.conversation_open(case=cast.case, kind="direct")
    assert sage.user_id in user_ids(rules.recipients(fresh(direct)))
    page = cast.client("responsible").get(f"/cases/{cast.case.reference}/messages/{direct.public_id}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "An interpreter is helping in this conversation." in text
    assert "Sage" not in text
    members = selectors.members(fresh(direct))
    assert "Sage" not in json.dumps(members)
    # The interpreter comes after everyone else: their place in the list says nothing of whom they help.
    assert members[-1]["role_code"] == "interpreter"
    assert "interpreter" not in selectors.conversation_with(fresh(direct), cast.responsible.user)


# The interpreter's open socket closes the moment the consent goes.


def cookie_of(user) -> str:
    client = signed_in(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}"


@pytest.mark.django_db(transaction=True)
def test_it_closes_the_interpreter_socket_when_the_consent_is_withdrawn(cast, scene):
    consent(cast.harmed, "interpreter")
    post(scene.support, cast.harmed.user, scene.keys.harmed, "Before.")
    cookie = cookie_of(scene.sage.user)

    async def scenario():
        socket = WebsocketCommunicator(
            application,
            f"/ws/conversations/{scene.support.public_id}/",
            headers=[(b"cookie", cookie.encode()), (b"origin", b"http://localhost")],
        )
        connected, _code = await socket.connect(timeout=10)
        assert connected
        await socket.send_json_to({"type": "hello", "after": 0})
        first = await socket.receive_json_from(timeout=WAIT)
        assert first["type"] == "message"
        assert (await socket.receive_json_from(timeout=WAIT))["type"] == "ready"
        await database_sync_to_async(consent_services.consent_withdraw)(
            actor=cast.harmed.user, place=cast.harmed, scope="interpreter"
        )
        # No frame sent by the interpreter: the withdrawal itself closes the socket.
        answer = await socket.receive_json_from(timeout=WAIT)
        assert answer == {"type": "error", "error": "You are no longer in this conversation."}
        assert await socket.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4404}

    async_to_sync(scenario)()


# The staff case page attaches an interpreter to a party.


def test_staff_attach_an_interpreter_to_a_party_on_the_case_page(cast):
    consent(cast.harmed, "take_part", "facilitator_contact")
    sage = join(actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER, pseudonym="Sage")
    assert "interpreter" not in consent_services.scopes_for(cast.harmed)
    page = cast.client("facilitator").get(f"/cases/{cast.case.reference}/")
    assert f'data-testid="interpreter-{sage.pk}"' in page.content.decode()
    url = f"/cases/{cast.case.reference}/people/{sage.pk}/interpreter/"
    answer = cast.client("facilitator").post(url, {f"i{sage.pk}-party": str(cast.harmed.pk)})
    assert answer.status_code == 302
    sage.refresh_from_db()
    assert sage.supports_id == cast.harmed.pk
    assert AuditEvent.objects.filter(case=cast.case, code="interpreter.attached").count() == 1
    # Now the person harmed is asked, and only they.
    assert "interpreter" in consent_services.scopes_for(cast.harmed)


def test_only_staff_who_run_the_case_attach_an_interpreter_and_only_an_interpreter(cast):
    sage = join(actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER, pseudonym="Sage")
    url = f"/cases/{cast.case.reference}/people/{sage.pk}/interpreter/"
    for who in ("outsider", "other_program_facilitator", "responsible", "supporter"):
        assert cast.client(who).post(url, {f"i{sage.pk}-party": str(cast.harmed.pk)}).status_code == 404
    sage.refresh_from_db()
    assert sage.supports_id is None
    not_one = f"/cases/{cast.case.reference}/people/{cast.responsible.pk}/interpreter/"
    for who in ("admin", "coordinator", "facilitator"):
        answer = cast.client(who).post(not_one, {f"i{cast.responsible.pk}-party": ""})
        assert answer.status_code == 400, who


def test_inv_voluntary_another_interpreter_reads_nothing_until_the_party_agrees_again(cast, scene):
    """The party agreed to an interpreter they knew of; when staff attach another one, that consent ends,
    and the new interpreter is kept out until the party agrees again (review of issue 17)."""
    from mend.cases import services as case_services

    consent(cast.harmed, "interpreter")
    assert user_ids(rules.interpreters_for(cast.case, [cast.harmed])) == {scene.sage.user_id}
    rowan = join(
        actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER, pseudonym="Rowan", supports=cast.harmed
    )
    consent(rowan, "take_part")
    assert rules.interpreters_for(cast.case, [cast.harmed]) == []
    consent(cast.harmed, "interpreter")
    assert user_ids(rules.interpreters_for(cast.case, [cast.harmed])) == {scene.sage.user_id, rowan.user_id}
    # Staff moving an interpreter onto this party ends the consent again.
    case_services.interpreter_attach(actor=cast.facilitator, interpreter=rowan, party=None)
    case_services.interpreter_attach(actor=cast.facilitator, interpreter=rowan, party=cast.harmed)
    assert rules.interpreters_for(cast.case, [cast.harmed]) == []
