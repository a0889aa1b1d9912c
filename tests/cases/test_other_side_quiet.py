"""The person responsible's pages say nothing of the other side's consent: withdrawing the consent to meet
directly reads, on every page the person responsible has, exactly like a process that is simply not at
that point (invariants 1 and 2: others are told only what they need, never who or why)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from mend.assessments import services as assessments
from mend.cases import services as case_services
from mend.cases.models import Participant
from mend.consent import services as consent_services
from mend.dialogue import services as dialogue_services
from tests.builders import prepare_for_encounter
from tests.dialogue.helpers import give_keys


def withdraw_direct_meeting(cast) -> None:
    consent_services.consent_withdraw(
        actor=cast.harmed.user, place=Participant.objects.get(pk=cast.harmed.pk), scope="direct_meeting"
    )


def pages_of_the_person_responsible(cast) -> dict[str, str]:
    """Every page the person responsible has in the case, as they see them, with what differs on every
    load (tokens) blanked."""
    client = cast.client("responsible")
    direct = dialogue_services.conversation_open(case=cast.case, kind="direct")
    messages = f"/cases/{cast.case.reference}/messages/"
    urls = {
        "case": f"/cases/{cast.case.reference}/",
        "messages": messages,
        "direct": f"{messages}{direct.public_id}/",
        "members": f"{messages}{direct.public_id}/members/",
        "consent": f"/cases/{cast.case.reference}/consent/",
        "agreement": f"/cases/{cast.case.reference}/agreement/",
        "home": "/",
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        body = response.content.decode()
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
        body = re.sub(r'nonce="[^"]+"', "", body)
        body = re.sub(r'data-csrf="[^"]+"', "", body)
        pages[name] = f"{response.status_code}\n{body}"
    return pages


def differences(one: dict[str, str], other: dict[str, str]) -> dict[str, list[str]]:
    found = {}
    for name in one:
        a, b = one[name].splitlines(), other[name].splitlines()
        changed = [f"- {x}\n+ {y}" for x, y in zip(a, b, strict=False) if x != y]
        if len(a) != len(b):
            changed.append(f"{len(a)} lines against {len(b)}")
        if changed:
            found[name] = changed
    return found


@pytest.fixture
def keys(cast):
    for who in (cast.harmed, cast.responsible):
        give_keys(who.user)
    give_keys(cast.facilitator)


def test_it_reads_the_same_during_preparation_whether_or_not_the_other_side_withdrew(cast, keys):
    prepare_for_encounter(cast, mode="direct")
    # Not at that point yet: the harmed party holds every consent, the encounter has not begun.
    not_yet = pages_of_the_person_responsible(cast)
    withdraw_direct_meeting(cast)
    withdrawn = pages_of_the_person_responsible(cast)
    assert differences(not_yet, withdrawn) == {}


def test_it_reads_the_same_during_the_encounter_as_a_pause_for_any_other_reason(cast, keys):
    """Since issue 16 withdrawing the consent to meet directly no longer pauses the whole encounter: it stops
    contact with that person. The person responsible's pages read exactly as when contact stops for a reason
    of the facilitator's (here a readiness assessment signed off as not yet)."""
    prepare_for_encounter(cast, mode="direct")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    # The facilitator's record stops contact (the process is simply not at that point for now)...
    assessments.assessment_sign_off(
        actor=cast.facilitator,
        place=cast.harmed,
        answers={},
        outcome="not_yet",
        reassess_on=timezone.localdate() + timedelta(days=7),
    )
    cast.case.refresh_from_db()
    assert cast.case.stage == "encounter"
    not_now = pages_of_the_person_responsible(cast)
    assessments.assessment_sign_off(
        actor=cast.facilitator, place=cast.harmed, answers={"motivation": "Ready."}, outcome="ready"
    )
    # ...or the person harmed withdraws their consent to meet directly.
    withdraw_direct_meeting(cast)
    cast.case.refresh_from_db()
    assert cast.case.stage == "encounter"
    withdrawn = pages_of_the_person_responsible(cast)
    assert differences(not_now, withdrawn) == {}


def test_it_tells_the_person_responsible_the_channel_while_contact_is_open(cast, keys):
    prepare_for_encounter(cast, mode="direct")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    page = cast.client("responsible").get(f"/cases/{cast.case.reference}/").content.decode()
    assert 'data-testid="other-side"' in page
