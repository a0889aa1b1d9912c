"""Issue 18's numbered bugs that new users met, each checked where they met it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from mend.agreements import services as agreement_services
from mend.cases import notices
from mend.cases.models import Notice
from mend.circles.models import Circle
from mend.core.errors import DomainError
from mend.rights import services as rights_services
from tests.agreements.builders import at_encounter, drafted
from tests.circles.builders import circle_for_matrix


def test_the_assessment_page_names_the_case_it_is_about(cast):
    page = cast.client("facilitator").get(f"/cases/{cast.case.reference}/people/{cast.harmed.pk}/assessment/")
    text = page.content.decode()
    assert f"in case <bdi>{cast.case.reference}</bdi>." in text
    assert "in case ." not in text


def test_a_party_reads_that_the_agreement_is_being_written_while_only_a_draft_exists(cast):
    at_encounter(cast)
    drafted(cast)
    page = cast.client("harmed").get(f"/cases/{cast.case.reference}/agreement/").content.decode()
    assert "Your facilitator is writing the agreement." in page


def test_a_notice_about_someone_who_deleted_their_information_still_reads_whole(cast):
    notices.stepped_back(case=cast.case, who=cast.harmed)
    rights_services.participant_data_delete(actor=cast.harmed.user, place=cast.harmed)
    notice = Notice.objects.filter(kind=Notice.Kind.SUPPORT_PROMPT, about=cast.harmed).latest("pk")
    assert notices.text_of(notice) == (
        "<bdi>A person in this case</bdi> has stepped back for now. You may want to offer them support."
    )


def test_a_digital_repair_item_without_its_list_says_what_to_fill_in(cast):
    at_encounter(cast)
    version = agreement_services.agreement_draft(actor=cast.facilitator, case=cast.case)
    with pytest.raises(DomainError) as refused:
        agreement_services.item_save(
            actor=cast.facilitator,
            version=version,
            kind="digital_repair",
            description="Delete every copy.",
            owner=cast.responsible,
            due_on=timezone.localdate() + timedelta(days=30),
            verification="The facilitator sees it gone.",
            details={},
        )
    assert refused.value.message == (
        "Please fill in the list of what is taken down, deleted, returned or fixed."
    )
    assert refused.value.field == "what"


def test_tab_titles_name_nothing_about_a_case_or_a_circle(cast):
    """A tab title shows in the task bar, the history and on a shared screen: it names no case or circle."""
    made = circle_for_matrix(cast)
    circle = Circle.objects.get(pk=made.circle_id)
    client = cast.client("coordinator")
    pages = [f"/circles/{circle.pk}/", f"/circles/{circle.pk}/meetings/{made.past_meeting_id}/minutes/"]
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        title = re.search(r"<title>(.*?)</title>", page.content.decode(), re.S).group(1)
        assert circle.name not in title, path
    for role in ("facilitator", "harmed"):
        for path in (f"/cases/{cast.case.reference}/", f"/cases/{cast.case.reference}/messages/"):
            page = cast.client(role).get(path)
            title = re.search(r"<title>(.*?)</title>", page.content.decode(), re.S).group(1)
            assert cast.case.reference not in title, (role, path)


def test_staff_read_the_acknowledgment_where_they_confirm_it(cast):
    from mend.assessments import services as assessment_services

    words = "I shared the photos. It was wrong, and I am sorry that I did it."
    assessment_services.acknowledgment_submit(actor=cast.responsible.user, place=cast.responsible, text=words)
    path = f"/cases/{cast.case.reference}/people/{cast.responsible.pk}/assessment/"
    page = cast.client("facilitator").get(path).content.decode()
    assert words in page
    assert 'data-testid="confirm-acknowledgment"' in page
    # The case page no longer offers to confirm what it does not show: it leads to where the words are.
    case_page = cast.client("facilitator").get(f"/cases/{cast.case.reference}/").content.decode()
    assert 'data-testid="read-acknowledgment"' in case_page and "#acknowledgment-text" in case_page
    # Someone who does not facilitate the case (a coordinator overseeing it) does not read their words.
    overseer = cast.client("coordinator").get(path)
    assert words not in overseer.content.decode()


def _team_conversation(cast):
    """The person harmed's conversation with the team, and a way to write in it as them."""
    from mend.dialogue import services as dialogue_services
    from tests.builders import consent
    from tests.dialogue.helpers import give_keys, seal

    consent(cast.harmed, "take_part", "facilitator_contact")
    keys = give_keys(cast.harmed.user)
    give_keys(cast.facilitator)
    support = dialogue_services.conversation_open(case=cast.case, kind="support", party=cast.harmed)

    def write(*texts):
        for text in texts:
            fresh = type(support).objects.select_related("case__program", "party").get(pk=support.pk)
            envelope = seal(fresh, keys, text)
            dialogue_services.message_post(actor=cast.harmed.user, conversation=fresh, envelope=envelope)

    return support, write


def test_staff_see_unread_messages_on_their_dashboard_and_in_the_list(cast):
    from mend.dialogue.models import Recipient

    support, write = _team_conversation(cast)
    write("I had a bad night, can you call me?")
    facilitator = cast.client("facilitator")
    dashboard = facilitator.get("/").content.decode()
    assert f"1 new message in case <bdi>{cast.case.reference}</bdi>" in dashboard
    assert f"/messages/{support.public_id}/" in dashboard
    listing = facilitator.get(f"/cases/{cast.case.reference}/messages/").content.decode()
    assert 'data-unread="1"' in listing
    # Once read, nothing waits.
    Recipient.objects.filter(user=cast.facilitator).update(read_at=timezone.now())
    assert "new message" not in facilitator.get("/").content.decode()
    assert "data-unread" not in facilitator.get(f"/cases/{cast.case.reference}/messages/").content.decode()


def test_the_dashboard_reads_unread_messages_in_queries_that_do_not_grow(cast, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _support, write = _team_conversation(cast)
    write("one")
    facilitator = cast.client("facilitator")
    with CaptureQueriesContext(connection) as few:
        facilitator.get("/")
    write(*[f"more {n}" for n in range(6)])
    with django_assert_num_queries(len(few)):
        page = facilitator.get("/").content.decode()
    assert "7 new messages in case" in page
