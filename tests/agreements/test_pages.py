"""The agreement pages through the Django test client: the status board shows each role only what it may
(docs/agreements.md, "Carrying it out"), evidence opens only for its owner and the facilitators, and bad
input to every form and JSON endpoint is answered with a clear message and changes nothing."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from mend.agreements import commitments, services
from mend.agreements.models import CheckIn, Commitment, Evidence, Item, Payment, Signature, Version
from mend.cases.models import Case
from mend.dialogue.models import Message
from tests.agreements.builders import at_encounter, commitment, drafted, keys_for, signed
from tests.agreements.progress_helpers import choose
from tests.agreements.test_commitments import NOTE, evidence_envelope, submit
from tests.builders import signed_in

# The items `signed(cast, items=4)` makes, in order.
WORDS = [
    "Finish a consent education course.",
    "Pay back the cost of the new phone.",
    "Delete every copy of the photos.",
    "Write a letter of apology.",
]
# Words about how the other side's item is going that the person harmed never sees.
PROCESS_WORDS = ["Marked done", "waiting to be checked", "More needed", "To do", "overdue"]


@pytest.fixture
def keys(cast):
    at_encounter(cast)
    return keys_for(cast)


@pytest.fixture
def under_way(cast, keys):
    """Four items of the person responsible in force: checked, marked done, more needed, and to do."""
    version = signed(cast, items=4, keys=keys)
    checked, marked, more, to_do = (commitment(version, n) for n in range(4))
    commitments.commitment_verify(actor=cast.facilitator, commitment=checked)
    submit(cast, marked, evidence_envelope(cast, keys, "The money is paid."))
    submit(cast, more, evidence_envelope(cast, keys, "I deleted them."))
    commitments.commitment_ask_more(actor=cast.facilitator, commitment=more, note=NOTE)
    return version


def home(cast, user) -> str:
    response = signed_in(user).get(f"/cases/{cast.case.reference}/agreement/")
    assert response.status_code == 200
    return response.content.decode()


def board_rows(page: str) -> dict[str, str]:
    """uid -> the row's HTML, for each item row of the status board."""
    return dict(re.findall(r'<tr data-item="([0-9a-f]+)">(.*?)</tr>', page, flags=re.S))


def shown_state(row: str) -> str:
    return re.search(r'data-state="([a-z_]+)"', row).group(1)


def uids(version) -> list[str]:
    return list(version.items.order_by("position").values_list("uid", flat=True))


def item_path(cast, uid: str, rest: str = "") -> str:
    return f"/cases/{cast.case.reference}/agreement/items/{uid}/{rest}"


# --- the status board -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["facilitator", "coordinator"])
def test_staff_see_every_item_with_its_state_and_what_is_overdue(cast, under_way, who):
    last = uids(under_way)[3]
    # Past due (edited in place: the version's own page would now say it was changed, as it should).
    Item.objects.filter(version=under_way, uid=last).update(due_on=timezone.localdate() - timedelta(days=2))
    rows = board_rows(home(cast, getattr(cast, who)))
    assert list(rows) == uids(under_way)
    assert [shown_state(row) for row in rows.values()] == ["verified", "submitted", "more_needed", "open"]
    for uid, row in rows.items():
        assert ("overdue" in row) == (uid == last), "overdue only where it is late and not yet done"
    for words, row in zip(WORDS, rows.values(), strict=True):
        assert words in row


def test_the_person_responsible_sees_every_item_and_where_it_stands(cast, under_way):
    page = home(cast, cast.responsible.user)
    rows = board_rows(page)
    assert list(rows) == uids(under_way)
    assert [shown_state(row) for row in rows.values()] == ["verified", "submitted", "more_needed", "open"]
    assert "Marked done, waiting to be checked" in page and "1 of 4 items are done and checked." in page


def test_the_person_harmed_who_chose_never_sees_nothing_of_progress(cast, under_way):
    choose(cast, "never")
    page = home(cast, cast.harmed.user)
    assert 'data-testid="board-hidden"' in page and "You chose not to hear about progress." in page
    assert not board_rows(page) and 'data-testid="board"' not in page
    for words in WORDS:
        assert words not in page
    assert "of 4 items" not in page


def test_the_person_harmed_who_chose_the_end_sees_only_whether_it_is_complete(cast, under_way):
    choose(cast, "at_end")
    page = home(cast, cast.harmed.user)
    assert 'data-testid="board-end"' in page and "The agreement is under way." in page
    assert not board_rows(page) and 'data-testid="board-hidden"' not in page
    for words in [*WORDS, *PROCESS_WORDS, "of 4 items"]:
        assert words not in page
    for item in Commitment.objects.exclude(state="verified"):
        commitments.commitment_verify(actor=cast.facilitator, commitment=item)
    assert "Everything in the agreement is done." in home(cast, cast.harmed.user)


def test_the_person_harmed_who_chose_each_item_sees_only_what_is_done_and_checked(cast, under_way):
    choose(cast, "each_verified")
    page = home(cast, cast.harmed.user)
    rows = board_rows(page)
    assert list(rows) == uids(under_way)
    assert [shown_state(row) for row in rows.values()] == ["verified", "not_yet", "not_yet", "not_yet"]
    checked, *others = rows.values()
    assert "Done and checked" in checked
    for row in others:
        assert "Not yet" in row and "Done and checked" not in row
    for words in PROCESS_WORDS:
        assert words not in page, "how the other side's items are going is not the person harmed's to see"
    assert "1 of 4 items are done and checked." in page


def test_a_supporter_sees_whether_it_is_under_way_and_no_item(cast, under_way):
    page = home(cast, cast.supporter.user)
    assert 'data-testid="board-end"' in page and "The agreement is under way." in page
    assert not board_rows(page)
    for words in [*WORDS, *PROCESS_WORDS, "of 4 items"]:
        assert words not in page
    assert signed_in(cast.supporter.user).get(item_path(cast, uids(under_way)[0])).status_code == 404


# --- an item's page -------------------------------------------------------------------------------------


def test_the_person_harmed_sees_an_item_only_as_their_choice_allows(cast, under_way):
    marked = uids(under_way)[1]
    client = signed_in(cast.harmed.user)
    for choice in ("never", "at_end"):
        choose(cast, choice)
        assert client.get(item_path(cast, marked)).status_code == 404, choice
    choose(cast, "each_verified")
    page = client.get(item_path(cast, marked)).content.decode()
    assert WORDS[1] in page and 'data-state="not_yet"' in page and "Not yet" in page
    for words in PROCESS_WORDS:
        assert words not in page
    assert 'data-state="submitted"' not in page
    checked = client.get(item_path(cast, uids(under_way)[0])).content.decode()
    assert 'data-state="verified"' in checked and "Done and checked" in checked


def test_the_owner_sees_their_item_as_it_stands(cast, under_way):
    page = signed_in(cast.responsible.user).get(item_path(cast, uids(under_way)[1])).content.decode()
    assert 'data-state="submitted"' in page and "Marked done, waiting to be checked" in page
    assert 'data-testid="evidence-list"' in page and "data-submit-url" in page


@pytest.mark.parametrize(
    "who,status",
    [
        ("responsible", 200),
        ("facilitator", 200),
        ("harmed", 404),
        ("supporter", 404),
        ("coordinator", 404),
        ("other_facilitator_same_program", 404),
        ("outsider", 404),
    ],
)
def test_evidence_opens_only_for_its_owner_and_the_facilitators(cast, under_way, who, status):
    choose(cast, "each_verified")  # the person harmed may open the item, and still not its evidence
    marked = commitment(under_way, 1)
    someone = getattr(cast, who)
    response = signed_in(getattr(someone, "user", someone)).get(
        item_path(cast, marked.item_uid, "evidence/frames/")
    )
    assert response.status_code == status
    if status == 200:
        frames = response.json()["frames"]
        evidence = Evidence.objects.get(commitment=marked)
        assert [f["id"] for f in frames] == [evidence.message.message_id]
        assert frames[0]["envelope"]["conversation"] == evidence.message.conversation.public_id


def test_the_item_page_shows_the_restitution_ledger_to_the_owner_and_staff(cast, under_way):
    restitution = commitment(under_way, 1)
    commitments.payment_record(
        actor=cast.facilitator, commitment=restitution, amount="100", paid_on=timezone.localdate()
    )
    commitments.payment_record(
        actor=cast.facilitator, commitment=restitution, amount="50", paid_on=timezone.localdate()
    )
    for user in (cast.responsible.user, cast.facilitator):
        page = signed_in(user).get(item_path(cast, restitution.item_uid)).content.decode()
        assert "150.00 of 250.00 <bdi>NZD</bdi> paid; 100.00 left." in page
    choose(cast, "each_verified")
    page = signed_in(cast.harmed.user).get(item_path(cast, restitution.item_uid)).content.decode()
    assert 'data-testid="ledger"' not in page


def test_the_item_pages_two_staff_forms_each_label_their_own_fields(cast, under_way):
    """The item page's "Record the payment" and "Ask for more" both have a note: each label points at its
    own field, and no id is on the page twice (the "What more is needed" box had no name)."""
    restitution = commitment(under_way, 1)
    page = signed_in(cast.facilitator).get(item_path(cast, restitution.item_uid)).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []
    for field in ("id_ask_note", "id_payment_note"):
        assert f'for="{field}"' in page and f'id="{field}"' in page, field


# --- bad input: a clear answer, and nothing changed -----------------------------------------------------


def _item_form(cast, **changes) -> dict:
    return {
        "kind": "restitution",
        "description": "Pay back the cost of the new phone.",
        "owner": cast.responsible.pk,
        "due_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "verification": "A receipt.",
        "amount": "250",
        "currency": "NZD",
        "schedule": "Monthly",
        **changes,
    }


@pytest.mark.parametrize(
    "changes,field,words",
    [
        ({"amount": "abc"}, "amount", "Write the amount as a number"),
        ({"amount": "-3"}, "amount", "more than 0"),
        ({"currency": "XYZ"}, "currency", "three-letter code"),
        ({"schedule": ""}, "schedule", ""),
        ({"due_on": "soon"}, "due_on", ""),
        ({"owner": "999999"}, "owner", ""),
    ],
)
def test_the_item_form_shows_a_bad_value_on_its_own_field(cast, keys, changes, field, words):
    version = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    response = signed_in(cast.facilitator).post(
        f"/cases/{cast.case.reference}/agreement/v{version.number}/items/", _item_form(cast, **changes)
    )
    assert response.status_code == 400
    page = response.content.decode()
    error = re.search(rf'<p class="error" id="id_{field}_error">(.*?)</p>', page)
    assert error is not None, f"the error is on the {field} field"
    assert words in error.group(1)
    assert page.count('class="error"') == 1, "and only there"
    assert not Item.objects.exists()


def test_the_item_form_adds_a_good_item(cast, keys):
    version = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    response = signed_in(cast.facilitator).post(
        f"/cases/{cast.case.reference}/agreement/v{version.number}/items/", _item_form(cast)
    )
    assert response.status_code == 302
    assert Item.objects.get().details == {"amount": "250.00", "currency": "NZD", "schedule": "Monthly"}


def test_terms_that_are_too_long_are_refused_on_their_field(cast, keys):
    version = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    response = signed_in(cast.facilitator).post(
        f"/cases/{cast.case.reference}/agreement/v{version.number}/terms/", {"terms": "x" * 2001}
    )
    assert response.status_code == 400 and 'id="id_terms_error"' in response.content.decode()
    assert str(Version.objects.get(pk=version.pk).terms) == ""


@pytest.fixture
def waiting(cast, keys):
    version = drafted(cast, items=1)
    services.version_open(actor=cast.facilitator, version=version)
    return version


def _sign(cast, version, **fields):
    key_id = cast.harmed.user.key_bundles.get(replaced_at__isnull=True).key_id
    form = {"typed_name": "Wren", "key_id": key_id, **fields}
    return signed_in(cast.harmed.user).post(
        f"/cases/{cast.case.reference}/agreement/v{version.number}/sign/", form
    )


@pytest.mark.parametrize("signature", ["garbage", "A" * 86, "!!not base64!!", "A" * 90])
def test_signing_with_a_signature_that_does_not_match_is_refused(cast, waiting, signature):
    response = _sign(cast, waiting, signature=signature)
    assert response.status_code == 400
    assert "does not match" in response.content.decode()
    assert not Signature.objects.exists()
    assert Version.objects.get(pk=waiting.pk).state == Version.State.SIGNING


def test_signing_without_a_signature_from_the_device_says_javascript_is_needed(cast, waiting):
    response = _sign(cast, waiting, signature="")
    assert response.status_code == 400 and "needs JavaScript" in response.content.decode()
    response = _sign(cast, waiting, signature="A" * 86, key_id="not-my-key")
    assert response.status_code == 400 and "not your current ones" in response.content.decode()
    assert not Signature.objects.exists()


def _post_evidence(cast, uid: str, body, *, who=None):
    who = who or cast.responsible
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return signed_in(who.user).post(item_path(cast, uid, "evidence/"), data, content_type="application/json")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json at all",
        b"\xff\xfe\xfd",
        b"[1, 2, 3]",
        b'"an envelope"',
        b"null",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"v": 1}',
        b'{"v": 1, "conversation": [], "id": 3, "sender": {}, "meta": "x", "nonce": 1, "body": 2, '
        b'"keys": "k", "sig": null}',
    ],
)
def test_evidence_that_cannot_be_read_gets_a_clear_answer_and_changes_nothing(cast, keys, body):
    version = signed(cast, items=1, keys=keys)
    item = commitment(version, 0)
    response = _post_evidence(cast, item.item_uid, body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]
    assert not Evidence.objects.exists() and not Message.objects.exists()
    assert Commitment.objects.get(pk=item.pk).state == Commitment.State.OPEN


def test_evidence_from_the_person_harmed_for_the_other_sides_item_is_refused(cast, keys):
    version = signed(cast, items=1, keys=keys)
    item = commitment(version, 0)
    response = _post_evidence(cast, item.item_uid, evidence_envelope(cast, keys), who=cast.harmed)
    assert response.status_code == 400 and "Only the person this item belongs to" in response.json()["error"]
    assert not Evidence.objects.exists()
    assert Commitment.objects.get(pk=item.pk).state == Commitment.State.OPEN


def test_evidence_sent_through_the_page_marks_the_item_done_and_a_retry_says_where_it_stands(cast, keys):
    version = signed(cast, items=1, keys=keys)
    item = commitment(version, 0)
    sealed = evidence_envelope(cast, keys)
    response = _post_evidence(cast, item.item_uid, sealed)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "id": sealed["id"], "state": "submitted"}
    commitments.commitment_ask_more(actor=cast.facilitator, commitment=item, note=NOTE)
    again = _post_evidence(cast, item.item_uid, sealed)
    assert again.status_code == 200 and again.json()["state"] == "more_needed"
    assert Evidence.objects.count() == 1


def _follow(response) -> str:
    assert response.status_code == 200 and response.redirect_chain, "back to the page, with a message"
    return response.content.decode()


@pytest.mark.parametrize(
    "form,words",
    [
        ({"amount": "abc", "paid_on": "2020-01-01"}, "Write the amount as a number"),
        ({"amount": "0", "paid_on": "2020-01-01"}, "more than 0"),
        ({"amount": "20", "paid_on": ""}, "Give the amount and the day it was paid."),
        ({"amount": "20", "paid_on": "someday"}, "Give the amount and the day it was paid."),
        ({"amount": "20", "paid_on": "2999-01-01"}, "today or an earlier day"),
    ],
)
def test_a_payment_that_cannot_be_recorded_says_why_and_records_nothing(cast, keys, form, words):
    version = signed(cast, items=2, keys=keys)
    restitution = commitment(version, 1)
    response = signed_in(cast.facilitator).post(
        item_path(cast, restitution.item_uid, "payments/"), form, follow=True
    )
    assert words in _follow(response)
    assert not Payment.objects.exists()


def test_asking_for_more_without_a_note_says_so_and_changes_nothing(cast, keys):
    version = signed(cast, items=1, keys=keys)
    item = commitment(version, 0)
    submit(cast, item, evidence_envelope(cast, keys))
    response = signed_in(cast.facilitator).post(
        item_path(cast, item.item_uid, "more/"), {"note": ""}, follow=True
    )
    assert "Write what more is needed" in _follow(response)
    assert Commitment.objects.get(pk=item.pk).state == Commitment.State.SUBMITTED


@pytest.mark.parametrize(
    "form,words",
    [
        ({"kind": "check_in", "due_on": "tomorrow"}, "Choose the kind, the person and a day."),
        ({"kind": "coffee", "due_on": "2999-01-01"}, "Choose the kind, the person and a day."),
        ({"kind": "check_in", "due_on": "2000-01-01"}, "Choose today or a later day."),
    ],
)
def test_a_check_in_that_cannot_be_planned_says_why(cast, keys, form, words):
    signed(cast, items=1, keys=keys)
    response = signed_in(cast.facilitator).post(
        f"/cases/{cast.case.reference}/agreement/check-ins/",
        {"with_participant": cast.responsible.pk, **form},
        follow=True,
    )
    assert words in _follow(response)
    assert not CheckIn.objects.exists()


def test_closing_without_a_known_outcome_says_so_and_the_case_stays_open(cast, keys):
    signed(cast, items=1, keys=keys)
    response = signed_in(cast.facilitator).post(
        f"/cases/{cast.case.reference}/agreement/close/", {"outcome": "fine"}, follow=True
    )
    assert "Choose how the agreement ended." in _follow(response)
    assert Case.objects.get(pk=cast.case.pk).stage == "encounter"


def test_closing_twice_says_it_already_has_its_outcome(cast, keys):
    signed(cast, items=1, keys=keys)
    client = signed_in(cast.facilitator)
    path = f"/cases/{cast.case.reference}/agreement/close/"
    first = client.post(path, {"outcome": "completed"})
    assert first.status_code == 302 and first["Location"] == f"/cases/{cast.case.reference}/"
    again = client.post(path, {"outcome": "withdrawn"}, follow=True)
    assert "This agreement already has its outcome." in _follow(again)
    case = Case.objects.get(pk=cast.case.pk)
    assert (case.stage, case.closure_reason) == ("closed", "agreement_completed")


@pytest.mark.parametrize("choice", ["never", "at_end", "each_verified"])
def test_the_person_harmed_always_sees_and_reaches_an_item_of_their_own(cast, keys, choice):
    from tests.agreements.builders import sign_as

    version = drafted(cast, items=1)
    services.item_save(
        actor=cast.facilitator,
        version=version,
        kind="other",
        description="Tell the facilitator which places feel safe to meet.",
        owner=cast.harmed,
        due_on=timezone.localdate() + timedelta(days=20),
        verification="The facilitator hears it.",
    )
    services.version_open(actor=cast.facilitator, version=version)
    sign_as(cast.harmed, version, keys["harmed"])
    sign_as(cast.responsible, version, keys["responsible"])
    theirs, mine = uids(version)
    support = commitment(version, 1)
    commitments.commitment_submit(
        actor=cast.harmed.user,
        place=cast.harmed,
        commitment=support,
        envelope=evidence_envelope_for(cast.harmed, keys["harmed"]),
    )
    choose(cast, choice)
    page = home(cast, cast.harmed.user)
    rows = board_rows(page)
    assert shown_state(rows[mine]) == "submitted", "their own item, as it stands"
    if choice == "each_verified":
        assert shown_state(rows[theirs]) == "not_yet"
    else:
        assert theirs not in rows and WORDS[0] not in page
    client = signed_in(cast.harmed.user)
    own_page = client.get(item_path(cast, mine))
    assert own_page.status_code == 200 and 'data-state="submitted"' in own_page.content.decode()
    assert client.get(item_path(cast, mine, "evidence/frames/")).json()["frames"]


def evidence_envelope_for(place, pair) -> dict:
    from mend.dialogue import services as dialogue
    from tests.dialogue.helpers import seal

    support = dialogue.conversation_open(case=place.case, kind="support", party=place)
    return seal(support, pair, "I wrote down the places.")
