"""Progress updates follow the person harmed's choice (invariant 2, survivor-centered): each checked item,
a summary every N weeks, only at the end, or never; a change of mind applies at once, also to updates
already waiting; a summary carries a count and nothing else, and nothing reaches the person responsible."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mend.agreements import commitments, progress, tasks
from mend.agreements.models import ProgressUpdate
from mend.cases.models import Notice
from mend.cases.notices import text_of
from mend.consent import services as consent_services
from mend.consent.models import HarmedPartyChoices
from tests.agreements.progress_helpers import (
    FIRST,
    SECOND,
    choose,
    signed_agreement,
    start_time,
    travel,
    verify,
)

Trigger = ProgressUpdate.Trigger
State = ProgressUpdate.State
PROGRESS_KINDS = [Notice.Kind.PROGRESS_UPDATE, Notice.Kind.AGREEMENT_COMPLETE]
NOTICE_FOR = {
    Trigger.VERIFIED: Notice.Kind.PROGRESS_UPDATE,
    Trigger.PERIODIC: Notice.Kind.PROGRESS_UPDATE,
    Trigger.COMPLETION: Notice.Kind.AGREEMENT_COMPLETE,
}


def run_jobs() -> int:
    now = timezone.now()
    progress.periodic_due(now=now)
    return progress.deliver_due(now=now)


def delivered(place) -> list[str]:
    return list(
        ProgressUpdate.objects.filter(recipient=place, state=State.DELIVERED)
        .order_by("delivered_at", "pk")
        .values_list("trigger", flat=True)
    )


def progress_notices(place) -> list[str]:
    return list(
        Notice.objects.filter(recipient=place, kind__in=PROGRESS_KINDS)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


# The events: each starts just after the agreement came into force, with the person harmed's choice made.


def item_verified(cast, signed, traveller):
    traveller.move_to(signed.start + timedelta(days=1))
    verify(cast, signed.first)
    run_jobs()


def weeks_pass(weeks: int):
    def event(cast, signed, traveller):
        # The hourly job, looked at once a day: enough to see each summary come on the day it is due.
        for day in range(1, 7 * weeks + 1):
            traveller.move_to(signed.start + timedelta(days=day))
            run_jobs()

    return event


def agreement_completed(cast, signed, traveller):
    traveller.move_to(signed.start + timedelta(days=1))
    verify(cast, signed.first)
    run_jobs()
    traveller.move_to(signed.start + timedelta(days=2))
    verify(cast, signed.second)
    run_jobs()


EVENTS = {
    "item verified": item_verified,
    "two weeks pass": weeks_pass(2),
    "four weeks pass": weeks_pass(4),
    "agreement completed": agreement_completed,
}
CHOICES = {"each_verified": None, "every_n_weeks": 2, "at_end": None, "never": None}
V, P, C = Trigger.VERIFIED, Trigger.PERIODIC, Trigger.COMPLETION
EXPECTED = {
    ("each_verified", "item verified"): [V],
    ("each_verified", "two weeks pass"): [],
    ("each_verified", "four weeks pass"): [],
    # The last checked item's update is folded into the completion one, which says it all.
    ("each_verified", "agreement completed"): [V, C],
    ("every_n_weeks", "item verified"): [],
    ("every_n_weeks", "two weeks pass"): [P],
    ("every_n_weeks", "four weeks pass"): [P, P],
    ("every_n_weeks", "agreement completed"): [C],
    ("at_end", "item verified"): [],
    ("at_end", "two weeks pass"): [],
    ("at_end", "four weeks pass"): [],
    ("at_end", "agreement completed"): [C],
    ("never", "item verified"): [],
    ("never", "two weeks pass"): [],
    ("never", "four weeks pass"): [],
    ("never", "agreement completed"): [],
}


@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("choice", list(CHOICES))
def test_it_delivers_exactly_the_updates_the_person_harmed_chose(cast, choice, event):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, choice, CHOICES[choice])
        EVENTS[event](cast, signed, traveller)

    expected = EXPECTED[(choice, event)]
    assert delivered(cast.harmed) == expected
    assert progress_notices(cast.harmed) == [NOTICE_FOR[t] for t in expected]
    assert not ProgressUpdate.objects.filter(state=State.QUEUED).exists(), "nothing due is left waiting"
    others = Notice.objects.filter(kind__in=PROGRESS_KINDS).exclude(recipient=cast.harmed)
    assert not others.exists(), "progress updates go to the person harmed only"


def test_it_sends_the_summary_on_the_day_it_is_due_and_not_before(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "every_n_weeks", 2)
        traveller.move_to(signed.start + timedelta(days=14) - timedelta(hours=1))
        assert run_jobs() == 0
        traveller.move_to(signed.start + timedelta(days=14))
        assert run_jobs() == 1
        traveller.move_to(signed.start + timedelta(days=20))
        assert run_jobs() == 0, "the next one counts from the last summary"
    assert delivered(cast.harmed) == [P]


def test_its_summary_gives_a_count_and_nothing_else(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "each_verified")
        traveller.shift(timedelta(days=1))
        verify(cast, signed.first)
        run_jobs()
    notice = Notice.objects.get(recipient=cast.harmed, kind__in=PROGRESS_KINDS)
    text = text_of(notice)
    assert text == "There is news about the agreement: 1 of 2 items are done and checked."
    for private in (FIRST, SECOND, "Consent education", "Kestrel", "Wren", cast.case.reference):
        assert private not in text


def test_it_counts_at_delivery_and_says_so_when_the_agreement_is_complete(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "at_end")
        traveller.shift(timedelta(days=1))
        verify(cast, signed.first)
        verify(cast, signed.second)
        run_jobs()
    notice = Notice.objects.get(recipient=cast.harmed, kind__in=PROGRESS_KINDS)
    assert text_of(notice) == (
        "The agreement has been completed. Your facilitator can tell you more if you would like."
    )


def test_a_change_of_choice_cancels_waiting_updates_at_once(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "each_verified")
        traveller.shift(timedelta(days=1))
        verify(cast, signed.first)
        waiting = ProgressUpdate.objects.get(recipient=cast.harmed)
        assert waiting.state == State.QUEUED and waiting.trigger == V

        choose(cast, "never")
        waiting.refresh_from_db()
        assert waiting.state == State.CANCELLED, "cancelled when the choice changes, not at delivery"
        assert run_jobs() == 0
    assert delivered(cast.harmed) == []
    assert progress_notices(cast.harmed) == []


@pytest.mark.parametrize(
    ("before", "weeks", "trigger", "after", "state"),
    [
        ("every_n_weeks", 2, P, "at_end", State.CANCELLED),
        ("every_n_weeks", 2, P, "each_verified", State.CANCELLED),
        ("each_verified", None, V, "every_n_weeks", State.CANCELLED),
        ("each_verified", None, C, "at_end", State.QUEUED),
        ("at_end", None, C, "every_n_weeks", State.QUEUED),
        ("at_end", None, C, "never", State.CANCELLED),
    ],
)
def test_a_change_of_choice_keeps_only_what_the_new_choice_asks_for(
    cast, before, weeks, trigger, after, state
):
    with travel(start_time()):
        signed_agreement(cast)
        choose(cast, before, weeks)
        update = ProgressUpdate.objects.create(
            case=cast.case, recipient=cast.harmed, trigger=trigger, due_at=timezone.now()
        )
        choose(cast, after, 3 if after == "every_n_weeks" else None)
    update.refresh_from_db()
    assert update.state == state


def test_withdrawing_consent_to_hear_about_progress_stops_what_is_waiting(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "each_verified")
        traveller.shift(timedelta(days=1))
        verify(cast, signed.first)
        consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="progress_updates")
        assert run_jobs() == 0
        assert ProgressUpdate.objects.get(recipient=cast.harmed).state == State.CANCELLED

        choose(cast, "every_n_weeks", 1)
        traveller.shift(timedelta(weeks=2))
        assert run_jobs() == 0
        assert not ProgressUpdate.objects.filter(trigger=P).exists(), "no summary is even queued"
    assert progress_notices(cast.harmed) == []


def test_it_holds_updates_while_the_person_harmed_takes_a_break(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "each_verified")
        consent_services.participant_pause(actor=cast.harmed.user, place=cast.harmed)
        traveller.shift(timedelta(days=1))
        verify(cast, signed.first)
        assert run_jobs() == 0
        assert ProgressUpdate.objects.get(recipient=cast.harmed).state == State.QUEUED
        consent_services.participant_resume(actor=cast.harmed.user, place=cast.harmed)
        assert run_jobs() == 1
    assert delivered(cast.harmed) == [V]


def test_the_person_responsible_and_supporters_never_get_progress_updates(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "each_verified")
        # Even with choices of their own: a row that should never exist, as only the person harmed chooses.
        for place in (cast.responsible, cast.supporter):
            HarmedPartyChoices.objects.create(participant=place, progress_updates="each_verified")
        traveller.shift(timedelta(days=1))
        verify(cast, signed.first)
        run_jobs()
        verify(cast, signed.second)
        run_jobs()
        for place in (cast.responsible, cast.supporter):
            progress.choices_changed(place=place)
        assert progress.periodic_due(now=timezone.now()) == 0
    assert delivered(cast.harmed) == [V, C]
    for place in (cast.responsible, cast.supporter):
        assert not ProgressUpdate.objects.filter(recipient=place).exists()
        assert progress_notices(place) == []


def test_it_sends_one_completion_update_however_often_completion_is_announced(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "at_end")
        traveller.shift(timedelta(days=1))
        verify(cast, signed.first)
        verify(cast, signed.second)
        progress.agreement_completed(case=cast.case)
        commitments.agreement_close(actor=cast.facilitator, agreement=signed.agreement, outcome="completed")
        run_jobs()
        progress.agreement_completed(case=cast.case)
        run_jobs()
    assert delivered(cast.harmed) == [C]
    assert ProgressUpdate.objects.filter(recipient=cast.harmed).count() == 1


def test_choosing_to_hear_at_the_end_of_a_complete_agreement_brings_the_news(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "never")
        traveller.shift(timedelta(days=1))
        verify(cast, signed.first)
        verify(cast, signed.second)
        assert run_jobs() == 0
        choose(cast, "at_end")
        assert run_jobs() == 1
        choose(cast, "at_end")
        assert run_jobs() == 0
    assert delivered(cast.harmed) == [C]


def test_it_delivers_through_the_hourly_job_which_books_its_next_run(cast):
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "every_n_weeks", 1)
        traveller.shift(timedelta(weeks=1))
        assert tasks.progress_run.call() == 1
        following = DBTaskResult.objects.get(task_path=tasks.progress_run.module_path, status="READY")
        assert following.run_after == timezone.now() + timedelta(hours=1)
        traveller.shift(timedelta(hours=1))
        verify(cast, signed.first)
        assert tasks.deliver_soon.call() == 0, "every week only: a checked item brings nothing"
    assert delivered(cast.harmed) == [P]


@pytest.mark.django_db(transaction=True)
def test_a_checked_item_is_delivered_by_the_worker_soon_after_commit(cast):
    # A real transaction: the delivery is enqueued once the check is committed, and the worker runs it.
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast)
        choose(cast, "each_verified")
        traveller.shift(timedelta(days=1))
        verify(cast, signed.first)
        soon = DBTaskResult.objects.filter(task_path=tasks.deliver_soon.module_path, status="READY")
        assert soon.count() == 1
        assert ProgressUpdate.objects.get(recipient=cast.harmed).state == State.QUEUED
        call_command("worker", batch=True, verbosity=0)
    assert delivered(cast.harmed) == [V]
    done = DBTaskResult.objects.get(task_path=tasks.deliver_soon.module_path, status="SUCCESSFUL")
    assert done.return_value == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_books_the_agreement_jobs_once(cast):
    from mend.core.worker import schedule_periodic_jobs

    schedule_periodic_jobs()
    schedule_periodic_jobs()
    for job in (tasks.progress_run, tasks.reminders_run):
        assert DBTaskResult.objects.filter(task_path=job.module_path, status="READY").count() == 1
    call_command("worker", batch=True, verbosity=0)
    for job, every in ((tasks.progress_run, timedelta(hours=1)), (tasks.reminders_run, timedelta(days=1))):
        assert DBTaskResult.objects.filter(task_path=job.module_path, status="SUCCESSFUL").count() == 1
        following = DBTaskResult.objects.get(task_path=job.module_path, status="READY")
        assert every - timedelta(minutes=5) < following.run_after - timezone.now() <= every
