"""Conferences: the agenda, the talking-piece round and who comes with whom, in a case with two people
harmed, two people responsible, supporters and a community member; the guards and the person harmed's
choices still decide who attends, and bad input gets a clear answer."""

import pytest

from mend.core.errors import Conflict, DomainError
from mend.meetings import services as meetings
from mend.meetings.models import Attendance, Meeting, MeetingStatus
from tests.builders import signed_in
from tests.meetings.meeting_builders import conference_case, prepared_dialogue, schedule_conference


def _set(
    cast,
    session,
    *,
    agenda="Welcome. What happened. Who was affected. Putting it right.",
    order=(),
    pairs=None,
):
    return meetings.conference_set(
        actor=cast.facilitator,
        session=session,
        agenda=agenda,
        speaking_order=list(order),
        supporters=pairs or {},
    )


def _supporter_of(session, place):
    return Attendance.objects.get(session=session, participant=place).supporter_id


def test_it_sets_the_agenda_the_round_and_the_supporters(cast):
    c = conference_case(cast)
    session = schedule_conference(cast, c, extra=[c.community])
    kauri, rimu = c.harmed
    sparrow, finch = c.responsible
    order = [c.facilitator.pk, kauri.pk, sparrow.pk, rimu.pk, finch.pk, c.community.pk]
    _set(
        cast,
        session,
        order=order,
        pairs={kauri.pk: c.harmed_supporter.pk, sparrow.pk: c.responsible_supporter.pk},
    )
    session.refresh_from_db()
    assert session.speaking_order == order
    assert session.agenda.startswith("Welcome.")
    assert _supporter_of(session, kauri) == c.harmed_supporter.pk
    assert _supporter_of(session, sparrow) == c.responsible_supporter.pk
    assert _supporter_of(session, rimu) is None
    attending = set(session.attendees.values_list("pk", flat=True))
    assert {c.harmed_supporter.pk, c.responsible_supporter.pk} <= attending, "the supporters join the meeting"


def test_the_page_shows_everyone_attending_the_agenda_and_the_round(cast):
    c = conference_case(cast)
    session = schedule_conference(cast, c, extra=[c.community])
    kauri, rimu = c.harmed
    sparrow, finch = c.responsible
    _set(
        cast,
        session,
        agenda="Welcome <and> what happened",
        order=[kauri.pk, sparrow.pk, c.community.pk],
        pairs={kauri.pk: c.harmed_supporter.pk},
    )
    page = signed_in(finch.user).get(f"/cases/{c.case.reference}/sessions/{session.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Welcome &lt;and&gt; what happened" in text, "the agenda is escaped"
    # Issue 16: Finch sees Sparrow, the other person responsible, only when both agreed to be seen by their
    # own side, and a community member is introduced by staff: until then each is "another participant".
    assert (
        '<ol data-testid="speaking-order"><li>Kauri</li><li>another participant</li>'
        "<li>another participant</li></ol>"
    ) in text
    assert "Sparrow" not in text and "Matai" not in text
    assert "Kauri, with Puriri" in text
    type(finch).objects.filter(pk__in=[finch.pk, sparrow.pk]).update(seen_by_same_side=True)
    text = signed_in(finch.user).get(f"/cases/{c.case.reference}/sessions/{session.pk}/").content.decode()
    assert (
        '<ol data-testid="speaking-order"><li>Kauri</li><li>Sparrow</li><li>another participant</li></ol>'
    ) in text


def test_a_supporter_is_someone_supporting_that_very_person(cast):
    c = conference_case(cast)
    session = schedule_conference(cast, c)
    kauri, rimu = c.harmed
    sparrow, _finch = c.responsible
    with pytest.raises(DomainError, match="Rimu can come with someone who supports them in this case"):
        _set(cast, session, pairs={rimu.pk: c.harmed_supporter.pk})
    with pytest.raises(DomainError, match="Kauri can come with someone who supports them"):
        _set(cast, session, pairs={kauri.pk: c.community.pk})
    with pytest.raises(DomainError, match="Kauri can come with someone who supports them"):
        _set(cast, session, pairs={kauri.pk: cast.supporter.pk})  # a supporter in another case
    with pytest.raises(DomainError, match="Only people attending"):
        _set(cast, session, pairs={c.community.pk: c.harmed_supporter.pk})
    assert not Attendance.objects.filter(session=session, supporter__isnull=False).exists()


def test_everyone_in_the_round_attends_and_speaks_once(cast):
    c = conference_case(cast)
    session = schedule_conference(cast, c)
    kauri, rimu = c.harmed
    with pytest.raises(DomainError, match="Everyone in the speaking order must be attending") as refused:
        _set(cast, session, order=[kauri.pk, c.community.pk])
    assert refused.value.field == "speaking_order"
    with pytest.raises(DomainError, match="Each person has one turn"):
        _set(cast, session, order=[kauri.pk, rimu.pk, kauri.pk])
    for bad in (["Kauri"], [None], [True], [-1], [2**40], "12"):
        with pytest.raises(DomainError):
            _set(cast, session, order=bad)
    session.refresh_from_db()
    assert session.speaking_order == []


def test_a_supporter_for_the_round_counts_as_attending_once_chosen(cast):
    c = conference_case(cast)
    session = schedule_conference(cast, c)
    kauri, _rimu = c.harmed
    _set(cast, session, order=[kauri.pk, c.harmed_supporter.pk], pairs={kauri.pk: c.harmed_supporter.pk})
    session.refresh_from_db()
    assert session.speaking_order == [kauri.pk, c.harmed_supporter.pk]


def test_the_person_harmed_decides_whether_supporters_attend(cast):
    c = conference_case(cast, supporters_may_attend=False)
    session = schedule_conference(cast, c)
    kauri, _rimu = c.harmed
    sparrow, _finch = c.responsible
    with pytest.raises(Conflict, match="to allow the supporter \\(Puriri\\) to attend"):
        _set(cast, session, pairs={kauri.pk: c.harmed_supporter.pk})
    with pytest.raises(Conflict, match="to allow the supporter \\(Totara\\) to attend"):
        _set(cast, session, pairs={sparrow.pk: c.responsible_supporter.pk})
    assert set(session.attendees.all()) == {c.facilitator, *c.harmed, *c.responsible}, "nobody joined"


def test_the_person_harmed_decides_whether_community_members_attend(cast):
    c = conference_case(cast, community_may_attend=False)
    with pytest.raises(Conflict, match="to allow the community member \\(Matai\\) to attend"):
        schedule_conference(cast, c, extra=[c.community])
    assert not Meeting.objects.filter(case=c.case).exists()


def test_a_supporter_needs_the_consent_of_the_person_they_support(cast):
    from mend.consent import services as consent_services

    c = conference_case(cast)
    session = schedule_conference(cast, c)
    kauri, _rimu = c.harmed
    consent_services.consent_withdraw(actor=kauri.user, place=kauri, scope="supporters_present")
    with pytest.raises(Conflict, match="consent of the person harmed \\(Kauri\\) to have supporters present"):
        _set(cast, session, pairs={kauri.pk: c.harmed_supporter.pk})


def test_only_a_conference_has_an_agenda_and_a_round(cast):
    session = prepared_dialogue(cast)
    with pytest.raises(DomainError, match="Only a conference"):
        _set(cast, session)


def test_a_cancelled_conference_cannot_be_changed(cast):
    c = conference_case(cast)
    session = schedule_conference(cast, c)
    session.status = MeetingStatus.CANCELLED
    session.save(update_fields=["status"])
    with pytest.raises(Conflict, match="over or cancelled"):
        _set(cast, session)


def test_the_agenda_has_a_length_limit(cast):
    c = conference_case(cast)
    session = schedule_conference(cast, c)
    with pytest.raises(DomainError, match="at most 4000 characters"):
        _set(cast, session, agenda="x" * 4001)


def test_clearing_a_supporter_leaves_them_attending(cast):
    c = conference_case(cast)
    session = schedule_conference(cast, c)
    kauri, _rimu = c.harmed
    _set(cast, session, pairs={kauri.pk: c.harmed_supporter.pk})
    _set(cast, session, pairs={kauri.pk: None})
    assert _supporter_of(session, kauri) is None
    assert session.attendees.filter(pk=c.harmed_supporter.pk).exists()


# --- the set-up page --------------------------------------------------------------------------------------


def _form(**values):
    return {"agenda": "Welcome. Putting it right.", **values}


def test_the_set_up_page_saves_turns_and_supporters(cast):
    c = conference_case(cast)
    session = schedule_conference(cast, c, extra=[c.community])
    kauri, rimu = c.harmed
    sparrow, _finch = c.responsible
    url = f"/cases/{c.case.reference}/sessions/{session.pk}/conference/"
    client = signed_in(cast.facilitator)
    page = client.get(url)
    assert page.status_code == 200
    assert "Kauri comes with" in page.content.decode()
    sent = client.post(
        url,
        _form(
            **{
                f"turn_{rimu.pk}": "2",
                f"turn_{kauri.pk}": "1",
                f"turn_{sparrow.pk}": "3",
                f"supporter_{kauri.pk}": str(c.harmed_supporter.pk),
            },
        ),
    )
    assert sent.status_code == 302
    session.refresh_from_db()
    assert session.speaking_order == [kauri.pk, rimu.pk, sparrow.pk]
    assert _supporter_of(session, kauri) == c.harmed_supporter.pk


def test_the_set_up_page_explains_a_clash_of_turns_and_a_refusal(cast):
    c = conference_case(cast, supporters_may_attend=False)
    session = schedule_conference(cast, c)
    kauri, rimu = c.harmed
    url = f"/cases/{c.case.reference}/sessions/{session.pk}/conference/"
    client = signed_in(cast.facilitator)
    clash = client.post(url, _form(**{f"turn_{kauri.pk}": "1", f"turn_{rimu.pk}": "1"}))
    assert clash.status_code == 400
    assert "Two people have the same turn" in clash.content.decode()
    refused = client.post(url, _form(**{f"supporter_{kauri.pk}": str(c.harmed_supporter.pk)}))
    assert refused.status_code == 409
    assert "to allow the supporter (Puriri) to attend" in refused.content.decode()
    junk = client.post(url, _form(**{f"turn_{kauri.pk}": "first", f"supporter_{kauri.pk}": "x"}))
    assert junk.status_code == 400


def test_only_staff_who_run_the_case_set_up_a_conference(cast):
    c = conference_case(cast)
    session = schedule_conference(cast, c)
    url = f"/cases/{c.case.reference}/sessions/{session.pk}/conference/"
    assert signed_in(c.harmed[0].user).get(url).status_code == 404, "an attendee"
    assert signed_in(cast.other_facilitator_same_program).get(url).status_code == 404
    assert signed_in(cast.coordinator).get(url).status_code == 200


def test_a_dialogue_has_no_set_up(cast):
    session = prepared_dialogue(cast)
    url = f"/cases/{cast.case.reference}/sessions/{session.pk}/conference/"
    page = signed_in(cast.facilitator).get(url)
    assert page.status_code == 200 and 'data-testid="not-conference"' in page.content.decode()
    assert signed_in(cast.facilitator).post(url, {"agenda": "x"}).status_code == 400
