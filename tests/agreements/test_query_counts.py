"""The agreement's pages take the same number of queries however many items the agreement holds, and an
item's page however many payments it has: no query per row (sealed words included, whose case key is read
once per page)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mend.agreements import commitments, services
from mend.agreements.models import Commitment
from tests.agreements.builders import at_encounter, commitment, keys_for, sign_as, signed
from tests.agreements.progress_helpers import choose
from tests.agreements.test_commitments import evidence_envelope, submit
from tests.builders import signed_in

FEW, MANY = 2, 12


def queries(client, path: str) -> int:
    client.get(path)  # the first call may fill per-process caches (and opens the owner's conversation)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured)


def amend_to(cast, keys, total: int):
    """An amendment that adds items until there are `total`, signed by both parties: now in force."""
    version = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    for n in range(version.items.count(), total):
        services.item_save(
            actor=cast.facilitator,
            version=version,
            kind="service" if n % 2 else "apology",
            description=f"Step {n + 1} of making things right.",
            owner=cast.responsible,
            due_on=timezone.localdate() + timedelta(days=10 + n),
            verification="The facilitator hears about it.",
            details={"hours": "5", "where": "The community garden"} if n % 2 else {"channel": "By post"},
        )
    services.version_open(actor=cast.facilitator, version=version)
    sign_as(cast.harmed, version, keys["harmed"])
    sign_as(cast.responsible, version, keys["responsible"])
    version.refresh_from_db()
    return version


def vary_states(cast, keys, version) -> None:
    """Items in every state, so that every branch of the board is drawn."""
    items = list(Commitment.objects.filter(agreement=version.agreement).order_by("pk"))
    if items[0].state != Commitment.State.VERIFIED:
        commitments.commitment_verify(actor=cast.facilitator, commitment=items[0])
    for item in items[2:]:
        if item.state == Commitment.State.OPEN and item.pk % 3 == 0:
            submit(cast, item, evidence_envelope(cast, keys, f"Done: {item.item_uid}."))


@pytest.fixture
def keys(cast):
    at_encounter(cast)
    choose(cast, "each_verified")
    return keys_for(cast)


VIEWERS = ["facilitator", "coordinator", "responsible", "harmed", "supporter"]


def _user(cast, who):
    someone = getattr(cast, who)
    return getattr(someone, "user", someone)


def test_the_agreement_page_does_not_grow_with_its_items(cast, keys):
    few = signed(cast, items=FEW, keys=keys)
    vary_states(cast, keys, few)
    path = f"/cases/{cast.case.reference}/agreement/"
    clients = {who: signed_in(_user(cast, who)) for who in VIEWERS}
    before = {who: queries(client, path) for who, client in clients.items()}

    many = amend_to(cast, keys, MANY)
    vary_states(cast, keys, many)
    assert many.items.count() == MANY
    after = {who: queries(client, path) for who, client in clients.items()}
    assert after == before


def test_a_version_page_does_not_grow_with_its_items(cast, keys):
    signed(cast, items=FEW, keys=keys)
    clients = {who: signed_in(_user(cast, who)) for who in ("facilitator", "responsible", "harmed")}
    before = {who: queries(c, f"/cases/{cast.case.reference}/agreement/v1/") for who, c in clients.items()}
    amend_to(cast, keys, MANY)
    after = {who: queries(c, f"/cases/{cast.case.reference}/agreement/v2/") for who, c in clients.items()}
    assert after == before


def test_an_item_page_does_not_grow_with_the_items_or_its_payments(cast, keys):
    version = signed(cast, items=FEW, keys=keys)
    restitution = commitment(version, 1)
    submit(cast, restitution, evidence_envelope(cast, keys, "The first payment is made."))
    commitments.payment_record(
        actor=cast.facilitator, commitment=restitution, amount="10", paid_on=timezone.localdate()
    )
    path = f"/cases/{cast.case.reference}/agreement/items/{restitution.item_uid}/"
    clients = {who: signed_in(_user(cast, who)) for who in ("facilitator", "responsible", "harmed")}
    before = {who: queries(client, path) for who, client in clients.items()}

    amend_to(cast, keys, MANY)
    for n in range(5):
        commitments.payment_record(
            actor=cast.facilitator,
            commitment=restitution,
            amount="10",
            paid_on=timezone.localdate() - timedelta(days=n),
            note=f"Payment {n + 2}, by bank transfer.",
        )
    submit(cast, restitution, evidence_envelope(cast, keys, "The other payments are made."))
    after = {who: queries(client, path) for who, client in clients.items()}
    assert after == before
