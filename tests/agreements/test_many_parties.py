"""Agreements with many parties (issue 16): items owed to one person harmed, progress per person, signing
by the people on their path while someone who stopped is left out, amendments that include them when they
come back, and each person named in the agreement only as the viewer may see them."""

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from mend import builders
from mend.agreements import commitments, progress, reminders, selectors, services
from mend.agreements import document as doc
from mend.agreements.models import Commitment, Item, ProgressUpdate, Version
from mend.audit.models import AuditEvent
from mend.cases.models import Notice
from mend.consent import services as consent_services
from mend.consent.models import HarmedPartyChoices
from mend.core.errors import Conflict, DomainError
from tests.agreements.builders import sign_as
from tests.agreements.test_exports import text_of as pdf_text
from tests.builders import signed_in
from tests.dialogue.helpers import give_keys

FIVE = ("Aspen", "Birch", "Cedar", "Dune", "Elm")
YOUTHS = ("Kea", "Tui", "Weka")
READINESS = builders.Readiness(harmed_scopes=("progress_updates",), progress_updates="each_verified")


@dataclass
class Many:
    case: object
    facilitator: object
    harmed: list
    responsible: list
    keys: dict

    @property
    def parties(self):
        return [*self.harmed, *self.responsible]

    def by(self, name):
        return next(p for p in self.parties if p.pseudonym == name)


def _many(cast, harmed, responsible) -> Many:
    prepared = builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=harmed,
        responsible=responsible,
        readiness=READINESS,
        actions=builders.TO_ENCOUNTER,
    )
    people = [*prepared.harmed, *prepared.responsible]
    return Many(
        case=prepared.case,
        facilitator=cast.facilitator,
        harmed=prepared.harmed,
        responsible=prepared.responsible,
        keys={p.pk: give_keys(p.user) for p in people},
    )


@pytest.fixture
def five(cast) -> Many:
    """Five people harmed by one data breach, and the person responsible."""
    return _many(cast, FIVE, ("Falcon",))


@pytest.fixture
def youths(cast) -> Many:
    """One person harmed, and three youths responsible."""
    return _many(cast, ("Kauri",), YOUTHS)


def _item(many, version, *, description, owner, owed_to=None, days=30):
    return services.item_save(
        actor=many.facilitator,
        version=version,
        kind="other",
        description=description,
        owner=owner,
        owed_to=owed_to,
        due_on=timezone.localdate() + timedelta(days=days),
        verification="The facilitator sees it done.",
    )


def _breach_draft(many) -> Version:
    """Three items: one owed to Birch, one to Cedar, one to every person harmed."""
    version = services.agreement_draft(actor=many.facilitator, case=many.case)
    falcon = many.by("Falcon")
    _item(many, version, description="Pay back what was lost.", owner=falcon, owed_to=many.by("Birch"))
    _item(many, version, description="Restore the email account.", owner=falcon, owed_to=many.by("Cedar"))
    _item(many, version, description="Delete every copy of the data.", owner=falcon)
    return version


def _sign(many, place, version, typed=None):
    return sign_as(place, version, many.keys[place.pk], typed)


def _stop(place):
    consent_services.consent_withdraw(actor=place.user, place=place, scope="take_part")
    place.refresh_from_db()


def _come_back(place):
    builders.give_consent(place, "take_part")
    place.refresh_from_db()


def _in_force(many) -> Version:
    version = _breach_draft(many)
    services.version_open(actor=many.facilitator, version=version)
    for place in many.parties:
        _sign(many, place, version)
    version.refresh_from_db()
    assert version.state == Version.State.SIGNED
    return version


def _commitment(version, description) -> Commitment:
    item = next(i for i in version.items.all() if str(i.description) == description)
    return Commitment.objects.get(agreement=version.agreement, item_uid=item.uid)


def _delivered(place) -> list:
    return list(
        Notice.objects.filter(recipient=place, kind=Notice.Kind.PROGRESS_UPDATE)
        .order_by("pk")
        .values_list("figures", flat=True)
    )


# --- signing with many parties ------------------------------------------------------------------------------


def test_inv_voluntary_one_person_harmed_stops_and_the_other_five_sign_it_into_force(five):
    version = _breach_draft(five)
    services.version_open(actor=five.facilitator, version=version)
    aspen = five.by("Aspen")
    _stop(aspen)
    assert aspen not in services.signing_parties(five.case)
    others = [p for p in five.parties if p != aspen]
    for place in others[:-1]:
        _sign(five, place, version)
        version.refresh_from_db()
        assert version.state == Version.State.SIGNING, "in force only when every other party signed"
    _sign(five, others[-1], version)
    version.refresh_from_db()
    assert version.state == Version.State.SIGNED
    assert selectors.version_in_force(version.agreement) == version
    event = AuditEvent.objects.get(code="agreement.in_force")
    assert event.payload == {"version": 1, "left_out": 1}, "a count, never who"
    with pytest.raises(Conflict):
        _sign(five, aspen, version)


def test_inv_voluntary_a_person_who_stopped_cannot_sign_a_version_still_open(five):
    version = _breach_draft(five)
    services.version_open(actor=five.facilitator, version=version)
    aspen = five.by("Aspen")
    _stop(aspen)
    with pytest.raises(Conflict, match="away from the process"):
        _sign(five, aspen, version)
    with pytest.raises(Conflict, match="away from the process"):
        services.version_decline(actor=aspen.user, place=aspen, version=version)


def test_inv_voluntary_the_last_unsigned_person_leaving_puts_the_version_in_force(five):
    version = _breach_draft(five)
    services.version_open(actor=five.facilitator, version=version)
    elm = five.by("Elm")
    for place in five.parties:
        if place != elm:
            _sign(five, place, version)
    version.refresh_from_db()
    assert version.state == Version.State.SIGNING
    consent_services.participant_pause(actor=elm.user, place=elm)
    version.refresh_from_db()
    assert version.state == Version.State.SIGNED, "the version was checked again when Elm took a break"
    assert Commitment.objects.filter(agreement=version.agreement).count() == 3


def test_inv_voluntary_an_excluded_person_is_left_out_of_signing(youths):
    version = services.agreement_draft(actor=youths.facilitator, case=youths.case)
    for youth in youths.responsible:
        _item(youths, version, description=f"{youth.pseudonym} writes a letter.", owner=youth)
    services.version_open(actor=youths.facilitator, version=version)
    tui = youths.by("Tui")
    for place in youths.parties:
        if place != tui:
            _sign(youths, place, version)
    consent_services.participant_exclude(actor=youths.facilitator, place=tui, reason="Not safe for now")
    version.refresh_from_db()
    # Tui owns an item he never signed: nobody is bound by it, so the version waits for an amendment.
    assert version.state == Version.State.SIGNING
    assert not Commitment.objects.filter(agreement=version.agreement).exists()


def test_inv_voluntary_a_person_left_out_who_owns_nothing_does_not_hold_the_others_up(youths):
    version = services.agreement_draft(actor=youths.facilitator, case=youths.case)
    tui = youths.by("Tui")
    for youth in youths.responsible:
        if youth != tui:
            _item(youths, version, description=f"{youth.pseudonym} writes a letter.", owner=youth)
    services.version_open(actor=youths.facilitator, version=version)
    for place in youths.parties:
        if place != tui:
            _sign(youths, place, version)
    consent_services.participant_exclude(actor=youths.facilitator, place=tui, reason="Not safe for now")
    version.refresh_from_db()
    assert version.state == Version.State.SIGNED


def test_inv_voluntary_no_version_in_force_without_someone_on_each_side(youths):
    version = services.agreement_draft(actor=youths.facilitator, case=youths.case)
    _item(youths, version, description="A letter.", owner=youths.by("Kea"))
    services.version_open(actor=youths.facilitator, version=version)
    for youth in youths.responsible:
        _sign(youths, youth, version)
    kauri = youths.by("Kauri")
    _stop(kauri)
    version.refresh_from_db()
    assert version.state == Version.State.SIGNING, "nobody on the harmed side signed it"


def test_inv_voluntary_a_person_who_comes_back_is_not_bound_and_an_amendment_includes_her(five):
    aspen = five.by("Aspen")
    version = _breach_draft(five)
    services.version_open(actor=five.facilitator, version=version)
    _stop(aspen)
    for place in five.parties:
        if place != aspen:
            _sign(five, place, version)
    version.refresh_from_db()
    assert version.state == Version.State.SIGNED
    assert aspen.pk in doc.party_ids(version) and not version.signatures.filter(participant=aspen).exists()
    staff_page = signed_in(five.facilitator).get(f"/cases/{five.case.reference}/agreement/v1/")
    assert (
        "not bound by this version" in staff_page.content.decode() and "Aspen" in staff_page.content.decode()
    )
    birch_page = _page(five.by("Birch"), version)
    assert "not bound by this version" not in birch_page, "the others learn nothing of who or why"
    _come_back(aspen)
    five.case.refresh_from_db()
    if five.case.stage == "paused":  # a side emptied earlier: staff resume (not the case here)
        pytest.fail("one person stopping must not pause the case for the others")
    amendment = services.agreement_draft(actor=five.facilitator, case=five.case)
    assert amendment.number == 2
    services.version_open(actor=five.facilitator, version=amendment)
    amendment.refresh_from_db()
    assert aspen in services.signing_parties(five.case)
    assert aspen.pk in doc.party_ids(amendment)
    others = [p for p in five.parties if p != aspen]
    for place in others:
        _sign(five, place, amendment)
    amendment.refresh_from_db()
    assert amendment.state == Version.State.SIGNING, "now she is back, the amendment waits for her"
    _sign(five, aspen, amendment)
    amendment.refresh_from_db()
    assert amendment.state == Version.State.SIGNED
    version.refresh_from_db()
    assert version.state == Version.State.SUPERSEDED


# --- items owed to a person harmed --------------------------------------------------------------------------


def test_an_item_is_owed_to_a_person_harmed_of_the_case_only(five, youths):
    version = services.agreement_draft(actor=five.facilitator, case=five.case)
    falcon = five.by("Falcon")
    for wrong in (falcon, youths.by("Kauri")):
        with pytest.raises(DomainError) as raised:
            _item(five, version, description="A letter.", owner=falcon, owed_to=wrong)
        assert raised.value.field == "owed_to"
    item = _item(five, version, description="A letter.", owner=falcon, owed_to=five.by("Dune"))
    assert item.owed_to == five.by("Dune")


def test_owed_to_is_carried_across_an_amendment_and_frozen_in_the_document(five):
    version = _in_force(five)
    amendment = services.agreement_draft(actor=five.facilitator, case=five.case)
    owed = {i.uid: i.owed_to_id for i in version.items.all()}
    assert {i.uid: i.owed_to_id for i in amendment.items.all()} == owed
    document = json.loads(str(version.document))
    ids = doc.ids_by_ref(version)
    assert {i["uid"]: ids.get(i["owed_to"]) if i["owed_to"] else None for i in document["items"]} == owed
    assert selectors.version_check(version).intact


# --- progress per person ------------------------------------------------------------------------------------


def test_inv_survivor_each_person_harmed_hears_only_of_the_items_owed_to_them(five):
    version = _in_force(five)
    assert not ProgressUpdate.objects.exists()
    commitments.commitment_verify(
        actor=five.facilitator, commitment=_commitment(version, "Pay back what was lost.")
    )
    assert {u.recipient.pseudonym for u in ProgressUpdate.objects.all()} == {"Birch"}
    progress.deliver_due(now=timezone.now())
    assert _delivered(five.by("Birch")) == [{"done": 1, "of": 2}], "her item and the one owed to everyone"
    commitments.commitment_verify(
        actor=five.facilitator, commitment=_commitment(version, "Delete every copy of the data.")
    )
    progress.deliver_due(now=timezone.now())
    assert _delivered(five.by("Cedar")) == [{"done": 1, "of": 2}], "Birch's item is not Cedar's to count"
    assert _delivered(five.by("Dune")) == [{"done": 1, "of": 1}]
    assert _delivered(five.by("Birch"))[-1] == {"done": 2, "of": 2}


def test_inv_voluntary_a_person_who_stopped_receives_no_progress_update(five):
    version = _in_force(five)
    aspen = five.by("Aspen")
    _stop(aspen)
    commitments.commitment_verify(
        actor=five.facilitator, commitment=_commitment(version, "Delete every copy of the data.")
    )
    progress.deliver_due(now=timezone.now())
    assert not ProgressUpdate.objects.filter(recipient=aspen).exists()
    assert _delivered(aspen) == []
    assert [_delivered(p) for p in five.harmed if p != aspen] == [[{"done": 1, "of": 2}]] * 2 + [
        [{"done": 1, "of": 1}]
    ] * 2


def test_inv_voluntary_an_excluded_person_gets_no_waiting_update_and_no_new_one(five):
    version = _in_force(five)
    dune = five.by("Dune")
    commitments.commitment_verify(
        actor=five.facilitator, commitment=_commitment(version, "Delete every copy of the data.")
    )
    consent_services.participant_exclude(actor=five.facilitator, place=dune, reason="Needs time away")
    progress.deliver_due(now=timezone.now())
    assert _delivered(dune) == []
    assert ProgressUpdate.objects.get(recipient=dune).state != ProgressUpdate.State.DELIVERED
    commitments.commitment_verify(
        actor=five.facilitator, commitment=_commitment(version, "Pay back what was lost.")
    )
    progress.deliver_due(now=timezone.now())
    assert ProgressUpdate.objects.filter(recipient=dune).count() == 1, "nothing new is queued for her"
    assert _delivered(dune) == []


def test_inv_voluntary_an_owner_who_stopped_gets_no_reminder(youths):
    version = services.agreement_draft(actor=youths.facilitator, case=youths.case)
    for youth in youths.responsible:
        _item(youths, version, description=f"{youth.pseudonym} writes a letter.", owner=youth)
    services.version_open(actor=youths.facilitator, version=version)
    for place in youths.parties:
        _sign(youths, place, version)
    Item.objects.filter(version=version).update(due_on=timezone.localdate() - timedelta(days=3))
    _stop(youths.by("Tui"))
    Notice.objects.all().delete()
    assert reminders.overdue_remind(today=timezone.localdate()) == 2
    reminded = set(Notice.objects.values_list("recipient__pseudonym", flat=True))
    assert "Tui" not in reminded and {"Kea", "Weka"} <= reminded


# --- privacy in the agreement -------------------------------------------------------------------------------


def _page(place, version) -> str:
    response = signed_in(place.user).get(f"/cases/{place.case.reference}/agreement/v{version.number}/")
    assert response.status_code == 200
    return response.content.decode()


def test_inv_privacy_the_document_everyone_signs_names_no_one(five):
    version = _breach_draft(five)
    services.version_open(actor=five.facilitator, version=version)
    version.refresh_from_db()
    text = str(version.document)
    parties = json.loads(text)["parties"]
    assert all(set(p) == {"ref", "role"} for p in parties)
    for place in five.parties:
        assert place.pseudonym not in text
        assert place.user.username not in text
        assert version.refs[str(place.pk)] in {p["ref"] for p in parties}
        assert all(p["ref"] not in (str(place.pk), str(place.user_id)) for p in parties)
    birch_page = _page(five.by("Birch"), version)
    assert text.replace('"', "&quot;") in birch_page, "the signer's page carries the very bytes signed"


def test_inv_privacy_people_harmed_see_each_other_in_the_agreement_only_by_mutual_agreement(five):
    birch, cedar = five.by("Birch"), five.by("Cedar")
    version = _breach_draft(five)
    services.version_open(actor=five.facilitator, version=version)
    _sign(five, cedar, version, typed="Cedar Quill")
    page = _page(birch, version)
    for other in ("Aspen", "Cedar", "Dune", "Elm", "Cedar Quill"):
        assert other not in page
    assert "another person harmed" in page
    assert "Birch" in page, "her own item names her"
    for place in (birch, cedar):
        consent_services.same_side_visibility_set(actor=place.user, place=place, seen=True)
    page = _page(birch, version)
    assert "Cedar" in page and "Cedar Quill" in page
    assert "Aspen" not in page, "Aspen did not agree to be seen"


def test_inv_privacy_the_person_responsible_sees_only_those_who_chose_to_meet_them(five):
    dune = five.by("Dune")
    HarmedPartyChoices.objects.filter(participant=dune).update(mode="indirect")
    version = services.agreement_draft(actor=five.facilitator, case=five.case)
    falcon = five.by("Falcon")
    _item(five, version, description="A letter for Dune.", owner=falcon, owed_to=dune)
    _item(five, version, description="A letter for Elm.", owner=falcon, owed_to=five.by("Elm"))
    version.refresh_from_db()
    services.version_open(actor=five.facilitator, version=version)
    page = _page(falcon, version)
    assert "Dune" not in page.replace("A letter for Dune.", ""), "only the item's own words may say it"
    assert "Elm" in page.replace("A letter for Elm.", ""), "Elm chose to meet directly"


def test_inv_privacy_the_pdf_names_people_as_the_reader_may_see_them(five):
    birch = five.by("Birch")
    version = _breach_draft(five)
    services.version_open(actor=five.facilitator, version=version)
    _sign(five, five.by("Cedar"), version, typed="Cedar Quill")
    response = signed_in(birch.user).get(f"/cases/{five.case.reference}/agreement/v1/agreement.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    for other in ("Aspen", "Cedar", "Dune", "Elm"):
        assert other not in text
    assert "another person harmed" in text


def test_inv_privacy_a_person_harmed_does_not_follow_an_item_owed_to_another(five):
    version = _in_force(five)
    birch = five.by("Birch")
    client = signed_in(birch.user)
    cedars = _commitment(version, "Restore the email account.")
    mine = _commitment(version, "Pay back what was lost.")
    base = f"/cases/{five.case.reference}/agreement/items/"
    assert client.get(f"{base}{cedars.item_uid}/").status_code == 404
    commitments.commitment_verify(actor=five.facilitator, commitment=mine)
    assert client.get(f"{base}{mine.item_uid}/").status_code == 200
    home = client.get(f"/cases/{five.case.reference}/agreement/").content.decode()
    assert "Restore the email" not in home and "1 of 2 items" in home


def test_each_youth_carries_their_own_item_and_sees_the_others_unnamed(youths):
    version = services.agreement_draft(actor=youths.facilitator, case=youths.case)
    for youth in youths.responsible:
        _item(youths, version, description=f"Item of youth {youth.pk}.", owner=youth)
    services.version_open(actor=youths.facilitator, version=version)
    for place in youths.parties:
        _sign(youths, place, version)
    version.refresh_from_db()
    assert version.state == Version.State.SIGNED
    owners = {i.owner.pseudonym for i in version.items.all()}
    assert owners == set(YOUTHS)
    kea = youths.by("Kea")
    home = signed_in(kea.user).get(f"/cases/{youths.case.reference}/agreement/").content.decode()
    assert "Kea" in home and "Tui" not in home and "Weka" not in home
    assert "another person responsible" in home


def test_inv_voluntary_the_stopped_persons_pages_show_nothing_new(five):
    aspen = five.by("Aspen")
    version = _in_force(five)
    _stop(aspen)
    commitments.commitment_verify(
        actor=five.facilitator, commitment=_commitment(version, "Delete every copy of the data.")
    )
    amendment = services.agreement_draft(actor=five.facilitator, case=five.case)
    services.version_open(actor=five.facilitator, version=amendment)
    client = signed_in(aspen.user)
    home = client.get(f"/cases/{five.case.reference}/agreement/").content.decode()
    assert 'data-testid="board-away"' in home
    assert "items are done and checked" not in home and "Delete every copy" not in home
    assert "Version 2" not in home and "read-to-sign" not in home
    assert client.get(f"/cases/{five.case.reference}/agreement/v2/").status_code == 404
    deleted = _commitment(version, "Delete every copy of the data.")
    assert client.get(f"/cases/{five.case.reference}/agreement/items/{deleted.item_uid}/").status_code == 404
    birch_home = signed_in(five.by("Birch").user).get(f"/cases/{five.case.reference}/agreement/")
    assert "Version 2" in birch_home.content.decode(), "the others go on"


def test_inv_privacy_a_person_harmed_takes_away_only_the_due_dates_owed_to_her(five):
    _in_force(five)
    path = f"/cases/{five.case.reference}/agreement/calendar.ics"
    birch = signed_in(five.by("Birch").user).get(path).content.decode()
    assert "Pay back what was lost." in birch and "Delete every copy" in birch
    assert "Restore the email account." not in birch
    falcon = signed_in(five.by("Falcon").user).get(path).content.decode()
    assert "Restore the email account." in falcon, "the person responsible carries them all"


def test_a_facilitator_chooses_whom_an_item_is_for_on_the_item_form(five):
    version = services.agreement_draft(actor=five.facilitator, case=five.case)
    client = signed_in(five.facilitator)
    page = client.get(f"/cases/{five.case.reference}/agreement/v1/").content.decode()
    assert 'name="owed_to"' in page and "Every person harmed" in page
    aspen = five.by("Aspen")
    _stop(aspen)
    page = client.get(f"/cases/{five.case.reference}/agreement/v1/").content.decode()
    owed_select = page.split('name="owed_to"', 1)[1].split("</select>", 1)[0]
    assert f'value="{five.by("Birch").pk}"' in owed_select
    assert f'value="{aspen.pk}"' not in owed_select, "only the people harmed on their path are offered"
    response = client.post(
        f"/cases/{five.case.reference}/agreement/v1/items/",
        {
            "kind": "other",
            "description": "A letter.",
            "owner": five.by("Falcon").pk,
            "owed_to": five.by("Elm").pk,
            "due_on": (timezone.localdate() + timedelta(days=9)).isoformat(),
            "verification": "The facilitator reads it.",
        },
    )
    assert response.status_code == 302
    assert version.items.get().owed_to == five.by("Elm")
