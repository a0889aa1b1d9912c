"""A person's own settings page (issue 18, item 4): time zone, language, how they hear of new messages and
read receipts, each through its service; bad input is answered on its field; nobody reaches another
person's place; staff get their time zone and language; the page costs the same whatever the number of
cases a person is in."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mend.audit.codes import AuditCode
from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Participant, Role
from mend.core.errors import DomainError
from mend.dialogue import services as dialogue_services
from tests.builders import signed_in

pytestmark = pytest.mark.django_db

URL = "/account/settings/"


def _form(place=None, **changes) -> dict:
    """What the page sends back unchanged, with `changes`."""
    data = {"time_zone": "Pacific/Auckland", "language": "en"}
    if place is not None:
        data |= {"contact_method": str(place.contact_method or "")}
        if place.read_receipts:
            data["read_receipts"] = "on"
    data |= changes
    return {key: value for key, value in data.items() if value is not None}


def _field_error(response, field: str) -> str:
    html = response.content.decode()
    found = re.search(rf'<p class="error" id="id_{field}_error">(.*?)</p>', html, re.S)
    assert found, f"no error on {field}"
    return found.group(1)


def test_it_shows_a_person_taking_part_each_of_their_settings(cast):
    response = cast.client("harmed").get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("time_zone", "language", "contact_method", "read_receipts"):
        assert f'name="{field}"' in html
    # Mend's four languages, each in its own name and marked with its language for screen readers.
    for code, name in (("en", "English"), ("es", "Español"), ("fr", "Français"), ("ar", "العربية")):
        assert f'value="{code}" lang="{code}"' in html and name in html


def test_it_changes_the_time_zone_of_the_person_and_of_their_places(cast):
    cast.harmed.user.time_zone = "UTC"
    cast.harmed.user.save(update_fields=["time_zone"])
    response = cast.client("harmed").post(URL, _form(cast.harmed, time_zone="Europe/Oslo"))
    assert response.status_code == 302 and response["Location"] == URL
    cast.harmed.refresh_from_db()
    cast.harmed.user.refresh_from_db()
    assert cast.harmed.user.time_zone == "Europe/Oslo"
    # Meetings and their invitations read the place's zone first (mend.meetings.access).
    assert cast.harmed.time_zone == "Europe/Oslo"
    cast.responsible.refresh_from_db()
    assert cast.responsible.time_zone != "Europe/Oslo"


def test_it_changes_the_language_and_the_next_page_speaks_it(cast):
    client = cast.client("harmed")
    response = client.post(URL, _form(cast.harmed, language="es"))
    assert response.status_code == 302
    cast.harmed.user.refresh_from_db()
    assert cast.harmed.user.language == "es"
    assert response.cookies["django_language"].value == "es"
    page = client.get(URL).content.decode()
    assert '<html lang="es"' in page


def test_it_changes_the_contact_method_sealed_as_at_joining(cast):
    response = cast.client("harmed").post(URL, _form(cast.harmed, contact_method="wren@example.test"))
    assert response.status_code == 302
    place = Participant.objects.get(pk=cast.harmed.pk)
    assert place.contact_method == "wren@example.test"
    stored = Participant.objects.filter(pk=place.pk).values_list("contact_method", flat=True).get()
    assert "wren@example.test" not in stored


def test_it_turns_read_receipts_off_through_the_dialogue_service_with_its_audit_event(cast):
    assert cast.harmed.read_receipts
    data = _form(cast.harmed)
    del data["read_receipts"]
    response = cast.client("harmed").post(URL, data)
    assert response.status_code == 302
    cast.harmed.refresh_from_db()
    assert cast.harmed.read_receipts is False
    event = AuditEvent.objects.filter(code=AuditCode.DIALOGUE_READ_RECEIPTS_CHANGED).latest("pk")
    assert event.payload == {"shown": False} and event.actor_id == cast.harmed.user_id
    # Saving again unchanged writes no second event.
    cast.client("harmed").post(URL, data)
    assert AuditEvent.objects.filter(code=AuditCode.DIALOGUE_READ_RECEIPTS_CHANGED).count() == 1


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("time_zone", "Mars/Olympus_Mons", "Select a valid choice"),
        ("time_zone", "", "This field is required"),
        ("language", "de", "Select a valid choice"),
        ("contact_method", "x" * 201, "at most 200 characters"),
    ],
)
def test_it_answers_bad_input_on_its_field_and_changes_nothing(cast, field, value, words):
    before = (cast.harmed.user.time_zone, cast.harmed.user.language)
    response = cast.client("harmed").post(URL, _form(cast.harmed, **{field: value}))
    assert response.status_code == 400
    assert words in _field_error(response, field)
    assert f'href="#id_{field}"' in response.content.decode()  # the error summary names the field
    cast.harmed.user.refresh_from_db()
    assert (cast.harmed.user.time_zone, cast.harmed.user.language) == before


def test_it_keeps_another_persons_place_out_of_reach(cast):
    """The page reaches only the person's own places; the services it calls refuse anyone else's."""
    other = cast.responsible
    other_before = (other.time_zone, str(other.contact_method), other.read_receipts)
    data = _form(cast.harmed, time_zone="Asia/Tokyo", contact_method="wren@example.test")
    del data["read_receipts"]
    assert cast.client("harmed").post(URL, data).status_code == 302
    other.refresh_from_db()
    assert (other.time_zone, str(other.contact_method), other.read_receipts) == other_before
    with pytest.raises(DomainError):
        case_services.participant_contact_method_set(
            actor=cast.harmed.user, place=other, contact_method="not yours"
        )
    with pytest.raises(DomainError):
        dialogue_services.read_receipts_set(actor=cast.harmed.user, place=other, shown=False)


def test_it_gives_staff_their_time_zone_and_language_and_nothing_of_a_place(cast):
    client = signed_in(cast.facilitator)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="time_zone"' in html and 'name="language"' in html
    assert 'name="contact_method"' not in html and 'name="read_receipts"' not in html
    response = client.post(URL, {"time_zone": "America/Argentina/Buenos_Aires", "language": "fr"})
    assert response.status_code == 302
    cast.facilitator.refresh_from_db()
    assert (cast.facilitator.time_zone, cast.facilitator.language) == (
        "America/Argentina/Buenos_Aires",
        "fr",
    )


def test_it_offers_the_programs_likely_zones_first(cast):
    html = cast.client("harmed").get(URL).content.decode()
    group = re.search(r'<optgroup label="Likely for you">(.*?)</optgroup>', html, re.S)
    assert group, "no group of likely zones"
    assert 'value="Pacific/Auckland"' in group.group(1)  # the program is in New Zealand
    assert "Auckland, New Zealand (UTC+" in group.group(1)


def test_it_is_linked_from_the_participants_case_page_and_the_staff_nav(cast):
    case_page = cast.client("harmed").get(f"/cases/{cast.case.reference}/").content.decode()
    assert f'href="{URL}"' in case_page
    dashboard = signed_in(cast.facilitator).get("/").content.decode()
    assert f'href="{URL}"' in dashboard


def _another_case_for(cast, n: int) -> Participant:
    place = cast.harmed
    case = case_services.case_create(
        actor=cast.coordinator,
        program=place.case.program,
        harm_category="fraud",
        jurisdictions=["NZ"],
        referral_source="self",
    )
    return Participant.objects.create(
        case=case, user=place.user, role=Role.HARMED_PARTY, pseudonym=f"Wren{n}", joined_at=timezone.now()
    )


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return len(captured)


def test_it_costs_the_same_queries_whatever_the_number_of_cases_a_person_is_in(cast):
    client = cast.client("harmed")
    _page_queries(client)  # warm: the time-zone labels are made once an hour
    one = _page_queries(client)
    for n in range(3):
        _another_case_for(cast, n)
    assert _page_queries(client) == one


def test_it_applies_a_change_to_every_case_the_person_takes_part_in(cast):
    second = _another_case_for(cast, 1)
    data = _form(cast.harmed, contact_method="wren@example.test")
    del data["read_receipts"]
    assert cast.client("harmed").post(URL, data).status_code == 302
    for place in (cast.harmed, second):
        place = Participant.objects.get(pk=place.pk)
        assert (place.contact_method, place.read_receipts) == ("wren@example.test", False)
