"""Reminders of overdue items: at most one a week per item, in neutral words that name nothing of the case,
by email only to an email address, and a neutral word to the facilitators."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from mend.accounts.models import User
from mend.agreements import reminders, tasks
from mend.agreements.models import Commitment
from mend.cases.models import Notice
from mend.cases.notices import text_of
from mend.consent import services as consent_services
from tests.agreements.progress_helpers import FIRST, SECOND, signed_agreement, start_time, travel, verify

EMAIL = "kestrel.k@example.test"
NEUTRAL = "Something in your agreement is due. When you are ready, sign in to see it."


def give_contact(place, contact: str) -> None:
    place.contact_method = contact
    place.save(update_fields=["contact_method"])


def notices_of(place, kind: str) -> int:
    return Notice.objects.filter(recipient=place, kind=kind).count()


def facilitator_place(cast):
    return cast.case.participants.get(user=cast.facilitator)


def remind_on(signed, traveller, days: int) -> int:
    """The daily job, on the given day after the agreement came into force."""
    traveller.move_to(signed.start + timedelta(days=days))
    return reminders.overdue_remind(today=timezone.localdate())


def test_it_reminds_once_a_week_from_the_day_after_the_due_date(cast):
    give_contact(cast.responsible, EMAIL)
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10)
        assert remind_on(signed, traveller, 10) == 0, "due today is not overdue yet"
        assert remind_on(signed, traveller, 11) == 1
        assert notices_of(cast.responsible, Notice.Kind.REMINDER) == 1
        assert len(mail.outbox) == 1
        assert remind_on(signed, traveller, 14) == 0, "three days later: nothing more"
        assert remind_on(signed, traveller, 17) == 0
        assert remind_on(signed, traveller, 18) == 1, "a week later: one more"
    assert notices_of(cast.responsible, Notice.Kind.REMINDER) == 2
    assert len(mail.outbox) == 2
    assert (
        Commitment.objects.get(pk=signed.first.pk).last_reminded_on
        == (signed.start + timedelta(days=18)).date()
    )
    assert Commitment.objects.get(pk=signed.second.pk).last_reminded_on is None, "not due yet"


def test_its_email_and_notice_say_nothing_about_the_case(cast):
    give_contact(cast.responsible, EMAIL)
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10)
        remind_on(signed, traveller, 11)
    [email] = mail.outbox
    assert email.to == [EMAIL]
    assert email.subject == "A note from Mend"
    assert email.body == NEUTRAL
    item = signed.version.items.get(uid=signed.first.item_uid)
    private = [
        cast.case.reference, FIRST, SECOND, "Consent education", "certificate",
        *(p.pseudonym for p in cast.case.participants.all()),
        "Fen Facilitator", "Riverbend", item.due_on.isoformat(), item.due_on.strftime("%d"),
    ]  # fmt: skip
    notice = Notice.objects.get(recipient=cast.responsible, kind=Notice.Kind.REMINDER)
    for words in private:
        for said in (email.subject, email.body, text_of(notice)):
            assert words not in said
    assert text_of(notice) == "Something in your agreement is due. When you are ready, have a look at it."


def test_it_tells_the_facilitators_that_an_item_is_overdue_and_nothing_more(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10)
        remind_on(signed, traveller, 11)
    [notice] = Notice.objects.filter(kind=Notice.Kind.ITEM_OVERDUE)
    assert notice.recipient == facilitator_place(cast)
    text = text_of(notice)
    assert text == (
        "<bdi>Kestrel</bdi> has an item in the agreement that is past its due date. You may want to check in."
    )
    assert FIRST not in text and cast.case.reference not in text
    assert (
        notices_of(cast.harmed, Notice.Kind.REMINDER) + notices_of(cast.harmed, Notice.Kind.ITEM_OVERDUE) == 0
    )


@pytest.mark.parametrize(
    ("contact", "emailed"),
    [
        (EMAIL, True),
        ("  " + EMAIL + " ", True),
        ("021 555 0100", False),
        ("", False),
        ("Email me at " + EMAIL + " after 5pm", False),
        ("kestrel at example dot test", False),
    ],
)
def test_it_emails_only_an_email_contact_method(cast, contact, emailed):
    give_contact(cast.responsible, contact)
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10)
        assert remind_on(signed, traveller, 11) == 1
    assert notices_of(cast.responsible, Notice.Kind.REMINDER) == 1, "the notice in the app is always there"
    assert [m.to for m in mail.outbox] == ([[EMAIL]] if emailed else [])


def test_a_checked_item_gets_no_reminder(cast):
    give_contact(cast.responsible, EMAIL)
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10)
        traveller.shift(timedelta(days=5))
        verify(cast, signed.first)
        assert remind_on(signed, traveller, 11) == 0
        assert remind_on(signed, traveller, 30) == 0
        assert remind_on(signed, traveller, 41) == 1, "the other item, once it is overdue"
    assert Commitment.objects.get(pk=signed.first.pk).last_reminded_on is None
    assert notices_of(cast.responsible, Notice.Kind.REMINDER) == 1


def test_two_overdue_items_make_one_reminder(cast):
    give_contact(cast.responsible, EMAIL)
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10, second_due_days=10)
        assert remind_on(signed, traveller, 11) == 1
    assert notices_of(cast.responsible, Notice.Kind.REMINDER) == 1
    assert len(mail.outbox) == 1
    assert set(Commitment.objects.values_list("last_reminded_on", flat=True)) == {
        (signed.start + timedelta(days=11)).date()
    }


def test_it_waits_while_the_owner_takes_a_break(cast):
    from mend.cases import services as case_services

    give_contact(cast.responsible, EMAIL)
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10)
        consent_services.participant_pause(actor=cast.responsible.user, place=cast.responsible)
        assert remind_on(signed, traveller, 11) == 0
        consent_services.participant_resume(actor=cast.responsible.user, place=cast.responsible)
        assert remind_on(signed, traveller, 12) == 0, "the case itself is still paused"
        case_services.case_transition(actor=cast.facilitator, case=cast.case, action="resume")
        assert remind_on(signed, traveller, 13) == 1
    assert notices_of(cast.responsible, Notice.Kind.REMINDER) == 1
    assert len(mail.outbox) == 1


def test_it_does_not_remind_someone_no_longer_in_the_case(cast):
    give_contact(cast.responsible, EMAIL)
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10)
        cast.responsible.removed_at = timezone.now()
        cast.responsible.save(update_fields=["removed_at"])
        assert remind_on(signed, traveller, 11) == 0
    assert Notice.objects.filter(kind__in=[Notice.Kind.REMINDER, Notice.Kind.ITEM_OVERDUE]).count() == 0
    assert mail.outbox == []


def test_the_daily_job_reminds_and_books_its_next_run(cast):
    give_contact(cast.responsible, EMAIL)
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10)
        traveller.move_to(signed.start + timedelta(days=11))
        assert tasks.reminders_run.call() == 1
        assert tasks.reminders_run.call() == 0
        following = DBTaskResult.objects.get(task_path=tasks.reminders_run.module_path, status="READY")
        assert following.run_after == timezone.now() + timedelta(days=1)
    assert len(mail.outbox) == 1


def test_its_email_is_in_the_language_the_person_reads_mend_in(cast):
    give_contact(cast.responsible, EMAIL)
    User.objects.filter(pk=cast.responsible.user_id).update(language="es")
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10)
        remind_on(signed, traveller, 11)
    [email] = mail.outbox
    with translation.override("es"):
        subject = translation.gettext("A note from %(site_name)s") % {"site_name": "Mend"}
    assert email.subject == subject != "A note from Mend"
    with translation.override("es"):
        assert email.body == translation.gettext(NEUTRAL)
