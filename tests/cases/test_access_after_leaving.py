"""A place left behind opens nothing: a facilitator whose program membership ended, or whose account was
closed, without the offboarding service (a membership deleted elsewhere, an account closed in the database)
reaches nothing of the case through any door, and stops being a recipient of its conversations. Runs on the
code before offboarding existed too, where it shows the attack working."""

import pytest
from django.test import Client

from mend.accounts.models import Membership, User
from mend.cases import access
from mend.cases import services as case_services
from mend.cases.models import Participant
from mend.core.errors import DomainError
from mend.dialogue import rules
from mend.dialogue import services as dialogue_services
from tests.builders import make_staff

pytestmark = pytest.mark.django_db


def _place(cast, user) -> Participant | None:
    return Participant.objects.filter(case=cast.case, user=user, removed_at__isnull=True).first()


def _api(user_token: str, path: str):
    return Client().get(path, headers={"Authorization": f"Bearer {user_token}"})


def test_it_gives_a_former_member_whose_place_was_left_behind_nothing_of_the_case(cast, colleague):
    Membership.objects.filter(user=colleague).delete()
    Membership.objects.create(user=colleague, program=cast.other_program, role="facilitator")  # still staff
    assert _place(cast, colleague) is not None
    former = User.objects.get(pk=colleague.pk)
    assert not access.cases_managed_by(former).filter(pk=cast.case.pk).exists()
    assert not access.cases_managed_by_probed(former).filter(pk=cast.case.pk).exists()
    assert not access.cases_taken_part_in(former).filter(pk=cast.case.pk).exists()
    assert colleague.client.get(f"/cases/{cast.case.reference}/").status_code == 404
    assert colleague.client.get(f"/cases/{cast.case.reference}/messages/").status_code == 404
    assert _api(colleague.raw_token, f"/api/v1/cases/{cast.case.reference}").status_code == 404
    conversation = dialogue_services.conversation_open(case=cast.case, kind="team")
    assert colleague.pk not in {p.user_id for p in rules.readers(conversation)}
    assert cast.facilitator.pk in {p.user_id for p in rules.readers(conversation)}


def test_it_gives_a_closed_account_whose_place_was_left_behind_nothing_of_the_case(cast, colleague):
    User.objects.filter(pk=colleague.pk).update(is_active=False)
    closed = User.objects.get(pk=colleague.pk)
    assert not access.cases_managed_by(closed).exists()
    assert not access.cases_managed_by_probed(closed).exists()
    assert colleague.client.get(f"/cases/{cast.case.reference}/").status_code == 302  # signed out
    assert _api(colleague.raw_token, f"/api/v1/cases/{cast.case.reference}").status_code == 401
    conversation = dialogue_services.conversation_open(case=cast.case, kind="support", party=cast.harmed)
    assert colleague.pk not in {p.user_id for p in rules.readers(conversation)}


def test_it_no_longer_offers_a_closed_account_as_a_facilitator(cast):
    gone = make_staff(cast.program, "facilitator", "gone@riverbend.test", "Gus Gone")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    with pytest.raises(DomainError):
        case_services.facilitator_assign(
            actor=cast.coordinator, case=cast.case, user=User.objects.get(pk=gone.pk)
        )
