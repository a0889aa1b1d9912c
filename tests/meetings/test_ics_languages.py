"""A meeting's calendar file in the reader's language: downloaded in the language of the person downloading,
emailed in the language of the person it goes to, its words marked with that language."""

from datetime import UTC, datetime

import icalendar
import pytest
import time_machine
from django.core import mail
from django.utils import translation

from mend.accounts.models import User
from mend.meetings import ics
from mend.meetings import services as meetings
from tests.builders import signed_in
from tests.meetings.meeting_builders import prepared_dialogue
from tests.meetings.test_meeting_ics import _meeting

EMAIL = "wren.w@example.test"


def _in(language: str, msgid: str, **values) -> str:
    with translation.override(language):
        return translation.gettext(msgid) % (values or {"site_name": "Mend"})


def _event(data) -> icalendar.Event:
    [event] = icalendar.Calendar.from_ical(data).walk("VEVENT")
    return event


def _reads(place, language: str) -> None:
    User.objects.filter(pk=place.user_id).update(language=language)


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_the_summary_is_in_the_active_language_and_marked_so(cast, language):
    session = _meeting(cast, datetime(2027, 3, 28, 8, 0, tzinfo=UTC))
    with translation.override(language):
        event = _event(ics.meeting_ics(session, cast.harmed))
    assert str(event["SUMMARY"]) == _in(language, "Meeting (%(site_name)s)")
    assert str(event["LOCATION"]) == _in(language, "By video, in %(site_name)s")
    for field in ("SUMMARY", "DESCRIPTION", "LOCATION"):
        assert event[field].params["LANGUAGE"] == language, field
    assert language == "en" or str(event["SUMMARY"]) != "Meeting (Mend)"


@pytest.mark.parametrize("language", ["es", "ar"])
def test_an_attendee_downloads_the_invitation_in_their_language(cast, language):
    session = _meeting(cast, datetime(2027, 3, 15, 13, 0, tzinfo=UTC))
    _reads(cast.responsible, language)
    url = f"/cases/{cast.case.reference}/sessions/{session.pk}/invitation.ics"
    with time_machine.travel(datetime(2027, 3, 1, tzinfo=UTC), tick=False):
        response = signed_in(User.objects.get(pk=cast.responsible.user_id)).get(url)
    assert response.status_code == 200
    event = _event(response.content)
    assert str(event["SUMMARY"]) == _in(language, "Meeting (%(site_name)s)")
    assert event["SUMMARY"].params["LANGUAGE"] == language


def test_an_emailed_invitation_is_in_the_recipients_language(cast, django_capture_on_commit_callbacks):
    cast.harmed.contact_method = EMAIL
    cast.harmed.save(update_fields=["contact_method"])
    session = prepared_dialogue(cast)
    _reads(cast.harmed, "es")  # after their consents, which the builders give to the English wording
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        assert meetings.invitations_send(actor=cast.facilitator, session=session) == 1
    [email] = mail.outbox
    [(_name, content, _mimetype)] = email.attachments
    event = _event(content.encode() if isinstance(content, str) else content)
    assert event["SUMMARY"].params["LANGUAGE"] == "es"
    assert str(event["SUMMARY"]) == _in("es", "Meeting (%(site_name)s)")
    assert email.subject == _in("es", "A note from %(site_name)s")
