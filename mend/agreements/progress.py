"""Progress updates for the person harmed, as they chose (docs/agreements.md).

What happens to the agreement queues an update for each person harmed whose choice asks for that kind;
the job worker delivers it when it is due, and only if their choice and consent still ask for it then, so
a change of mind applies at once, even to updates already waiting. An update is a short system notice
that carries a count at most ("2 of 5 items are done and checked"), never what an item is or anything
anyone wrote. It goes to the person harmed only: nothing about them travels to the person responsible
this way.

With several people harmed, each hears only of the items owed to them (`Item.owed_to` them, or to every
person harmed): the figures count those items alone, and an item checked queues an update only for the
people it is owed to. A person off their path (on a break, stopped or excluded: mend.readiness.rules)
gets nothing while away: nothing is queued for someone who stopped or was excluded, and nothing waiting
is delivered while they are away (a break holds it until they are back; withdrawing consent or an
exclusion cancels it). Someone on a break hears where things stand when they come back."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from mend.agreements import selectors, tasks
from mend.agreements.models import Agreement, Commitment, Outcome, ProgressUpdate
from mend.cases.models import Case, Notice, Participant, Role, Stage
from mend.consent.models import HarmedPartyChoices, ProgressUpdates, Scope
from mend.consent.selectors import choices_of, current_scopes, withdrawn_ids
from mend.readiness import rules
from mend.readiness.snapshot import consent_snapshot

Trigger = ProgressUpdate.Trigger
State = ProgressUpdate.State

# Which updates each choice asks for. Everyone who wants to hear at all hears when the agreement is done.
WANTED = {
    ProgressUpdates.EACH_VERIFIED: {Trigger.VERIFIED, Trigger.COMPLETION},
    ProgressUpdates.EVERY_N_WEEKS: {Trigger.PERIODIC, Trigger.COMPLETION},
    ProgressUpdates.AT_END: {Trigger.COMPLETION},
    ProgressUpdates.NEVER: set(),
}


def wanted(place: Participant) -> set[str]:
    """The triggers the person's current choice asks for."""
    return WANTED.get(choices_of(place).progress_updates, set())


def _recipients(case: Case) -> list[Participant]:
    """The people harmed in the case, and only them: never the person responsible, never a supporter,
    never someone who stopped or was excluded. Someone on a break is queued for, and the update waits
    for their return (_deliver)."""
    snap = consent_snapshot(case)
    return [
        p
        for p in snap.places
        if p.role == Role.HARMED_PARTY
        and p.user_id
        and p.has_joined
        and rules.standing_of(snap, p) not in (rules.STOPPED, rules.EXCLUDED)
    ]


def standing(place: Participant) -> str:
    """Where the person stands on their own path now (mend.readiness.rules.standing_of)."""
    return rules.standing_of(consent_snapshot(place.case), place)


def owed_to(item, place: Participant) -> bool:
    """Whether this item is owed to this person harmed: to them, or to every person harmed."""
    return item.owed_to_id is None or item.owed_to_id == place.pk


def _reachable(place: Participant) -> bool:
    """Still in the case, still taking part, and still agreeing to hear about progress."""
    return (
        place.role == Role.HARMED_PARTY
        and place.removed_at is None
        and place.user_id is not None
        and place.case.data_deleted_at is None
        and Scope.PROGRESS_UPDATES in current_scopes(place)
        and place.pk not in withdrawn_ids([place])
    )


def figures_of(agreement: Agreement | None, place: Participant | None = None) -> tuple[int, int]:
    """How many items of the version in force are done and checked, out of how many: of those owed to
    `place` when given (a person harmed hears only of their own), else of them all."""
    uids = [item.uid for item in selectors.items_in_force(agreement) if place is None or owed_to(item, place)]
    if not uids:
        return 0, 0
    done = Commitment.objects.filter(
        agreement=agreement, item_uid__in=uids, state=Commitment.State.VERIFIED
    ).count()
    return done, len(uids)


def _complete(agreement: Agreement | None) -> bool:
    if agreement is None:
        return False
    if agreement.outcome == Outcome.COMPLETED:
        return True
    done, total = figures_of(agreement)
    return total > 0 and done == total


def _deliver_soon() -> None:
    """Once the change is committed, the worker delivers what is due, so an update arrives in seconds."""

    transaction.on_commit(tasks.deliver_soon_enqueue)  # tasks imports this module: read at call time


def _queue(place: Participant, trigger: str, due_at: datetime) -> ProgressUpdate:
    return ProgressUpdate.objects.create(
        case_id=place.case_id, recipient=place, trigger=trigger, due_at=due_at
    )


def item_verified(*, case: Case, item=None) -> list[ProgressUpdate]:
    """A commitment was checked and done: an update for each person harmed who asked to hear each time and
    whom the item (when given) is owed to. One waiting update is enough, as its count is taken when it is
    delivered."""
    queued = []
    for place in _recipients(case):
        if Trigger.VERIFIED not in wanted(place) or (item is not None and not owed_to(item, place)):
            continue
        if ProgressUpdate.objects.filter(
            recipient=place, trigger=Trigger.VERIFIED, state=State.QUEUED
        ).exists():
            continue
        queued.append(_queue(place, Trigger.VERIFIED, timezone.now()))
    if queued:
        _deliver_soon()
    return queued


def _completion_for(place: Participant, now: datetime) -> ProgressUpdate | None:
    if Trigger.COMPLETION not in wanted(place):
        return None
    mine = ProgressUpdate.objects.filter(recipient=place)
    if mine.filter(trigger=Trigger.COMPLETION).exclude(state=State.CANCELLED).exists():
        return None  # at most one completion update, however often completion is announced
    # The completion update says it all: summaries still waiting would only repeat it.
    mine.filter(state=State.QUEUED, trigger__in=[Trigger.VERIFIED, Trigger.PERIODIC]).update(
        state=State.CANCELLED
    )
    return _queue(place, Trigger.COMPLETION, now)


def agreement_completed(*, case: Case) -> list[ProgressUpdate]:
    """Every item is done, or the agreement closed as completed: one update for each person harmed who
    wants to hear at all. Called twice (last item checked, then the case closed), it queues nothing more."""
    # The agreement's row serialises two completions of the same agreement.
    Agreement.objects.select_for_update().filter(case=case).first()
    now = timezone.now()
    queued = [u for u in (_completion_for(place, now) for place in _recipients(case)) if u is not None]
    if queued:
        _deliver_soon()
    return queued


def choices_changed(*, place: Participant) -> int:
    """The person harmed changed how they hear about progress: waiting updates the new choice does not ask
    for are cancelled at once (with "never", all of them). Someone who now asks to hear at the end of an
    agreement that is already complete hears so. Returns how many were cancelled."""
    if place.role != Role.HARMED_PARTY:
        return 0
    still = wanted(place)
    cancelled = (
        ProgressUpdate.objects.filter(recipient=place, state=State.QUEUED)
        .exclude(trigger__in=still)
        .update(state=State.CANCELLED)
    )
    agreement = selectors.agreement_of(place.case)
    if Trigger.COMPLETION in still and _complete(agreement):
        Agreement.objects.select_for_update().filter(pk=agreement.pk).first()
        if _completion_for(place, timezone.now()) is not None:
            _deliver_soon()
    return cancelled


def _started(agreement: Agreement) -> datetime | None:
    """When the agreement first came into force; an amendment does not restart the count of weeks."""
    return (
        agreement.versions.filter(signed_at__isnull=False)
        .order_by("signed_at")
        .values_list("signed_at", flat=True)
        .first()
    )


def periodic_due(*, now: datetime) -> int:
    """Queues the regular summary for each person harmed who asked for one every N weeks, while their
    agreement is in force and not yet complete, once N weeks have passed since it came into force or since
    their last summary. Returns how many were queued."""
    choices = HarmedPartyChoices.objects.filter(
        progress_updates=ProgressUpdates.EVERY_N_WEEKS,
        progress_every_weeks__isnull=False,
        participant__role=Role.HARMED_PARTY,
        participant__removed_at__isnull=True,
        participant__case__data_deleted_at__isnull=True,
    ).exclude(participant__case__stage=Stage.CLOSED)
    queued = 0
    for choice in choices.select_related("participant__case").order_by("pk"):
        place = choice.participant
        agreement = selectors.agreement_of(place.case)
        if agreement is None or agreement.completed_at is not None or _complete(agreement):
            continue
        if selectors.version_in_force(agreement) is None or not _reachable(place):
            continue
        if standing(place) in (rules.STOPPED, rules.EXCLUDED):
            continue  # nothing new while they are away (a break holds the summary until they are back)
        last = (
            ProgressUpdate.objects.filter(recipient=place, trigger=Trigger.PERIODIC)
            .exclude(state=State.CANCELLED)
            .order_by("-due_at")
            .first()
        )
        if last is not None and last.state == State.QUEUED:
            continue  # one waiting summary at a time
        since = last.due_at if last is not None else _started(agreement)
        if since is None or now < since + timedelta(weeks=choice.progress_every_weeks):
            continue
        _queue(place, Trigger.PERIODIC, now)
        queued += 1
    return queued


def _deliver(update: ProgressUpdate, now: datetime) -> bool:
    place = Participant.objects.select_related("case").get(pk=update.recipient_id)
    if update.trigger not in wanted(place) or not _reachable(place):
        update.state = State.CANCELLED
        update.save(update_fields=["state"])
        return False
    if place.paused_at is not None or standing(place) in rules.LEFT_OUT:
        return False  # on a break or excluded: the update waits until they are back
    if update.trigger == Trigger.COMPLETION:
        notice = Notice(case_id=place.case_id, recipient=place, kind=Notice.Kind.AGREEMENT_COMPLETE)
    else:
        done, total = figures_of(selectors.agreement_of(place.case), place)
        figures = {"done": done, "of": total} if total else None
        notice = Notice(
            case_id=place.case_id, recipient=place, kind=Notice.Kind.PROGRESS_UPDATE, figures=figures
        )
    notice.save()
    update.state = State.DELIVERED
    update.delivered_at = now
    update.save(update_fields=["state", "delivered_at"])
    return True


def deliver_due(*, now: datetime) -> int:
    """Delivers the updates that are due, each checked against the person's choice and consent as they
    are now: one no longer wanted is cancelled instead. Returns how many were delivered."""
    due = ProgressUpdate.objects.filter(state=State.QUEUED, due_at__lte=now).order_by("due_at", "pk")
    delivered = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            update = ProgressUpdate.objects.select_for_update().filter(pk=pk, state=State.QUEUED).first()
            if update is not None and _deliver(update, now):  # None: another worker took it
                delivered += 1
    return delivered
