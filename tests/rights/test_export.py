"""Downloading one's own information: what the server gives is the person's own, with their messages as
envelopes only their keys open; the download page (browser-tested in tests/e2e/test_my_information.py)
opens them on the device."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.assessments.models import SafetyPlan
from mend.audit.models import AuditEvent
from mend.core import envelope as env
from mend.dialogue.models import Conversation
from mend.rights import export
from tests.builders import signed_in
from tests.dialogue.helpers import seal
from tests.dialogue.test_services import opened, post
from tests.keystore.helpers import SECRETS

Kind = Conversation.Kind
SAID_TO_HARMED = ("I am scared of seeing him.", "You will not have to.")


def fetch(cast, place) -> tuple[bytes, dict]:
    response = signed_in(place.user).get(f"/cases/{cast.case.reference}/my-information/data/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    return response.content, response.json()


def texts(data, keys_of) -> dict[str, list[str]]:
    """Each conversation's messages, opened as the person's browser opens them."""
    return {
        c["title"]: [env.open_envelope(m["envelope"], keys_of)["text"] for m in c["messages"]]
        for c in data["conversations"]
    }


def test_a_person_gets_their_own_information_with_their_messages_still_encrypted(talked, keys):
    cast = talked
    raw, data = fetch(cast, cast.harmed)
    assert data["format"] == export.FORMAT
    assert data["case"]["reference"] == cast.case.reference
    you = data["you"]
    assert you["contact_method"] == SECRETS[("cases_participant", "contact_method")]
    assert you["accessibility_needs"] == SECRETS[("cases_participant", "accessibility_needs")]
    plan = SafetyPlan.objects.get(participant=cast.harmed)
    assert data["safety_plan"]["risks"] == plan.risks and plan.risks
    assert {c["scope"] for c in data["consent"]} >= {"take_part", "indirect_exchange"}
    assert all(c["text"] and c["given_at"] for c in data["consent"])
    assert data["choices"]["contact"].startswith("Through my facilitator")
    # Their messages: what they wrote and were sent, in their support and relay conversations, as
    # envelopes; their own keys open each one.
    assert texts(data, keys.harmed) == {
        "You and your facilitator": list(SAID_TO_HARMED),
        "Messages through your facilitator": ["I am sorry for what I did."],
    }
    for said in SAID_TO_HARMED:
        assert said.encode() not in raw, "messages reach the download only encrypted"


def test_it_holds_nothing_of_the_facilitators_notes_or_of_the_other_people(talked):
    cast = talked
    raw, data = fetch(cast, cast.responsible)
    assert data["acknowledgments"][0]["text"] == SECRETS[("assessments_acknowledgment", "text")]
    assert data["safety_plan"] is None and data["choices"] is None
    for (table, field), secret in SECRETS.items():
        if (table, field) != ("assessments_acknowledgment", "text"):
            assert secret.encode() not in raw, f"{table}.{field} is not the responsible party's"
    titles = [c["title"] for c in data["conversations"]]
    assert titles == ["Messages through your facilitator"], "not the other side's, not the case team's"
    frames = data["conversations"][0]["messages"]
    assert [m["kind"] for m in frames] == ["for_relay"]


def test_the_download_is_recorded_without_its_content(talked):
    cast = talked
    fetch(cast, cast.harmed)
    event = AuditEvent.objects.get(code="participant.data_exported")
    assert event.payload == {"role": "harmed_party"}
    assert event.case_id == cast.case.pk


def test_its_query_count_does_not_grow_with_the_messages(talked, keys):
    cast = talked
    client = signed_in(cast.harmed.user)
    url = f"/cases/{cast.case.reference}/my-information/data/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = queries()
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    for n in range(15):
        post(cast.harmed.user, support, seal(support, keys.harmed, f"Another thought, number {n}."))
    assert queries() == before


def test_the_page_offers_the_download_and_says_what_it_holds(talked):
    cast = talked
    response = signed_in(cast.harmed.user).get(f"/cases/{cast.case.reference}/my-information/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="download-my-information"' in page
    assert "mend/my-information.js" in page
    assert "The notes your facilitator keeps are not in it." in page
    case_page = signed_in(cast.harmed.user).get(f"/cases/{cast.case.reference}/").content.decode()
    assert f"/cases/{cast.case.reference}/my-information/" in case_page


def test_after_deleting_their_information_there_is_nothing_to_download(talked):
    from mend.rights import services as rights

    cast = talked
    client = signed_in(cast.harmed.user)
    rights.participant_data_delete(actor=cast.harmed.user, place=cast.harmed)
    response = client.get(f"/cases/{cast.case.reference}/my-information/data/")
    assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/")
