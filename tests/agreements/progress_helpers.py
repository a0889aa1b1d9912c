"""A signed agreement of two items for the person responsible, made at a fixed moment that the tests then
move forward with time-machine, and the person harmed's choice of progress updates."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import time_machine
from django.utils import timezone

from mend.agreements import commitments, services
from mend.agreements.document import signed_bytes
from mend.agreements.models import Agreement, Commitment, Version
from mend.cases import services as case_services
from mend.consent import services as consent_services
from mend.core.envelope import b64u
from tests.builders import consent, prepare_for_encounter
from tests.dialogue.helpers import give_keys

FIRST = "Complete the consent education course run by the programme."
SECOND = "Take down every copy of the pictures and confirm it in writing."


@dataclass
class Signed:
    agreement: Agreement
    version: Version
    start: datetime  # when it came into force
    first: Commitment
    second: Commitment


def start_time() -> datetime:
    """A whole hour a month from now, so that every date the tests travel to is still ahead of the clock."""
    return (timezone.now() + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)


def travel(start: datetime):
    return time_machine.travel(start, tick=False)


def sign(place, version: Version, typed_name: str) -> None:
    pair = give_keys(place.user)
    signature = pair.sign.sign(signed_bytes(str(version.document), typed_name))
    services.version_sign(
        actor=place.user,
        place=place,
        version=version,
        typed_name=typed_name,
        key_id=pair.key_id,
        signature=b64u(signature),
    )


def signed_agreement(cast, *, first_due_days: int = 10, second_due_days: int = 40) -> Signed:
    """Both parties sign an agreement of two items for the person responsible, now (the travelled time).
    The person harmed agrees to hear about progress (they choose how with `choose`)."""
    prepare_for_encounter(cast, mode="indirect")
    consent(cast.harmed, "progress_updates")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    cast.case.refresh_from_db()
    version = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    today = timezone.localdate()
    for description, days in ((FIRST, first_due_days), (SECOND, second_due_days)):
        services.item_save(
            actor=cast.facilitator,
            version=version,
            kind="learning",
            description=description,
            owner=cast.responsible,
            due_on=today + timedelta(days=days),
            verification="The facilitator sees the certificate.",
            details={"programme": "Consent education"},
        )
    version = services.version_open(actor=cast.facilitator, version=version)
    sign(cast.harmed, version, "Wren W.")
    sign(cast.responsible, version, "Kestrel K.")
    version.refresh_from_db()
    assert version.state == Version.State.SIGNED
    uids = list(version.items.order_by("position").values_list("uid", flat=True))
    found = {c.item_uid: c for c in Commitment.objects.filter(agreement=version.agreement)}
    return Signed(
        agreement=version.agreement,
        version=version,
        start=version.signed_at,
        first=found[uids[0]],
        second=found[uids[1]],
    )


def verify(cast, commitment: Commitment) -> None:
    commitments.commitment_verify(actor=cast.facilitator, commitment=commitment)


def choose(cast, progress_updates: str, every_weeks: int | None = None) -> None:
    consent_services.choices_update(
        actor=cast.harmed.user,
        place=cast.harmed,
        mode="indirect",
        supporters_may_attend=False,
        community_may_attend=False,
        progress_updates=progress_updates,
        progress_every_weeks=every_weeks,
    )
