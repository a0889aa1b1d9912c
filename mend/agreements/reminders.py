"""Reminders of overdue items (docs/agreements.md).

Once a day the job finds the items of agreements in force that are past their due date and not yet done
and checked, and reminds each owner at most once a week per item: a notice in the app and, when their
contact method is an email address, an email. The words are the same for everyone and name nothing of
the case: no reference, no item, no name, no date, since an email can be read over a shoulder or by
whoever else has the inbox. The case's facilitators are told that something is overdue, and no more."""

import logging
from collections import defaultdict
from datetime import date, timedelta

from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from mend.accounts.site_name import from_email_of, site_name_of
from mend.agreements import selectors
from mend.agreements.models import Agreement, Commitment, Version
from mend.cases import notices
from mend.cases.models import Participant, Stage
from mend.core import i18n
from mend.readiness import rules
from mend.readiness.snapshot import consent_snapshot

log = logging.getLogger(__name__)

REMIND_EVERY = timedelta(days=7)


def email_of(place: Participant) -> str | None:
    """The person's contact method, when it is an email address and nothing else."""
    address = str(place.contact_method or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        return None
    return address


def _reachable(owner: Participant) -> bool:
    """Still in the case and on their path: not on a break, stopped or excluded (nothing reaches a person
    while they are away; mend.readiness.rules.LEFT_OUT)."""
    return (
        owner.removed_at is None
        and owner.joined_at is not None
        and owner.user_id is not None
        and rules.on_path(consent_snapshot(owner.case), owner)
    )


def _agreements(today: date):
    """Agreements in force, not ended, in cases that are going on, with an item due before today."""
    return (
        Agreement.objects.filter(
            completed_at__isnull=True,
            case__data_deleted_at__isnull=True,
            versions__state=Version.State.SIGNED,
            versions__items__due_on__lt=today,
        )
        .exclude(case__stage__in=[Stage.CLOSED, Stage.PAUSED])
        .select_related("case")
        .distinct()
        .order_by("pk")
    )


def _due_by_owner(agreement: Agreement, today: date) -> dict[int, list[int]]:
    """The commitments each owner is due a reminder for: overdue, not verified, not reminded this week."""
    commitments = selectors.commitments_by_uid(agreement)
    due: dict[int, list[int]] = defaultdict(list)
    for item in selectors.items_in_force(agreement):
        commitment = commitments.get(item.uid)
        if item.due_on >= today or commitment is None or commitment.state == Commitment.State.VERIFIED:
            continue
        if commitment.last_reminded_on is not None and commitment.last_reminded_on > today - REMIND_EVERY:
            continue
        due[item.owner_id].append(commitment.pk)
    return due


@transaction.atomic
def _remind(*, agreement: Agreement, owner: Participant, commitment_ids: list[int], today: date) -> bool:
    # Locked and checked again, so that two workers never remind twice for the same week.
    locked = list(Commitment.objects.select_for_update().filter(pk__in=commitment_ids).order_by("pk"))
    fresh = [
        c
        for c in locked
        if c.state != Commitment.State.VERIFIED
        and (c.last_reminded_on is None or c.last_reminded_on <= today - REMIND_EVERY)
    ]
    if not fresh:
        return False
    Commitment.objects.filter(pk__in=[c.pk for c in fresh]).update(last_reminded_on=today)
    notices.item_overdue(case=agreement.case, owner=owner)
    return True


def _email(owner: Participant) -> None:
    address = email_of(owner)
    if address is None:
        return
    program = owner.case.program
    with i18n.in_language_of(owner.user, fallback=program.default_language):
        # The program's site name, not "Mend", when it chose one: an inbox can be watched.
        subject = _("A note from %(site_name)s") % {"site_name": site_name_of(program)}
        body = _("Something in your agreement is due. When you are ready, sign in to see it.")
    try:
        mail.send_mail(subject, body, from_email_of(program), [address])
    except Exception:  # the notice in the app stands; the address never goes to the log
        log.warning("A reminder email could not be sent to participant %s.", owner.pk)


def overdue_remind(*, today: date) -> int:
    """Reminds the owners of overdue items; returns how many people were reminded."""
    reminded = 0
    for agreement in _agreements(today):
        for owner_id, commitment_ids in _due_by_owner(agreement, today).items():
            owner = Participant.objects.select_related("case__program", "user").get(pk=owner_id)
            if not _reachable(owner):
                continue
            if _remind(agreement=agreement, owner=owner, commitment_ids=commitment_ids, today=today):
                _email(owner)
                reminded += 1
    return reminded
