"""Offboarding: removing a staff member from a program, or closing their account, ends their places,
sessions, API tokens and recipient status at once, audited; and a place left behind opens nothing."""

import pytest
from django.contrib.sessions.models import Session
from django.http import Http404
from django.test import Client

from mend.accounts.models import ApiToken, Membership, User
from mend.accounts.offboarding import membership_end, sessions_end_all, user_deactivate
from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Participant
from mend.core.errors import DomainError
from tests.builders import signed_in

pytestmark = pytest.mark.django_db


def _sessions_of(user: User) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk))


def _place(cast, user) -> Participant | None:
    return Participant.objects.filter(case=cast.case, user=user, removed_at__isnull=True).first()


def _api(user_token: str, path: str):
    return Client().get(path, headers={"Authorization": f"Bearer {user_token}"})


# Removing someone from the program.


def test_it_ends_the_places_of_someone_removed_from_the_program_with_an_audit_trail(cast, colleague):
    membership = Membership.objects.get(user=colleague, program=cast.program)
    membership_end(actor=cast.admin, membership=membership)
    assert _place(cast, colleague) is None
    assert not Membership.objects.filter(user=colleague).exists()
    codes = list(AuditEvent.objects.order_by("seq").values_list("code", flat=True))[-2:]
    assert codes == ["case.facilitator_unassigned", "membership.ended"]
    event = AuditEvent.objects.get(code="membership.ended")
    assert (event.actor_id, event.program_id, event.payload["places_ended"]) == (
        cast.admin.pk,
        cast.program.pk,
        1,
    )


def test_it_signs_out_everywhere_and_revokes_the_tokens_of_someone_left_with_no_program(cast, colleague):
    assert _sessions_of(colleague) == 1
    membership_end(actor=cast.admin, membership=Membership.objects.get(user=colleague))
    assert _sessions_of(colleague) == 0
    assert not ApiToken.objects.filter(user=colleague, revoked_at__isnull=True).exists()
    assert colleague.client.get("/cases/").status_code == 302
    assert _api(colleague.raw_token, "/api/v1/cases").status_code == 401


def test_it_keeps_signed_in_someone_who_still_belongs_to_another_program(cast, colleague):
    Membership.objects.create(user=colleague, program=cast.other_program, role="facilitator")
    membership_end(actor=cast.admin, membership=Membership.objects.get(user=colleague, program=cast.program))
    assert _sessions_of(colleague) == 1
    assert _api(colleague.raw_token, "/api/v1/cases").status_code == 200
    # ... but this program's case is closed to them.
    assert colleague.client.get(f"/cases/{cast.case.reference}/").status_code == 404
    assert _api(colleague.raw_token, f"/api/v1/cases/{cast.case.reference}").status_code == 404


@pytest.mark.parametrize("who", ["coordinator", "facilitator", "other_program_facilitator", "outsider"])
def test_it_lets_only_an_admin_of_the_program_remove_someone(cast, colleague, who):
    with pytest.raises(DomainError):
        membership_end(actor=getattr(cast, who), membership=Membership.objects.get(user=colleague))
    assert _place(cast, colleague) is not None


def test_it_does_not_let_an_admin_remove_themselves(cast):
    with pytest.raises(DomainError):
        membership_end(actor=cast.admin, membership=Membership.objects.get(user=cast.admin))


def test_it_withdraws_the_removed_persons_requests_to_join_a_case(cast):
    request = case_services.assignment_request_create(actor=cast.coordinator, case=cast.case)
    membership_end(actor=cast.admin, membership=Membership.objects.get(user=cast.coordinator))
    request.refresh_from_db()
    assert request.outcome == "withdrawn"


def test_it_ends_a_removed_volunteers_circle_places_with_an_audit_trail(cast):
    from mend.circles.circle_access import access_circle, circles_visible_to
    from tests.circles.builders import cosa, meeting

    found = cosa(cast)
    ahead = meeting(cast, found.circle, [found.core, found.volunteer])
    membership_end(actor=cast.admin, membership=Membership.objects.get(user=cast.volunteer))
    found.volunteer.refresh_from_db()
    assert found.volunteer.left_at is not None
    assert list(ahead.member_attendees.all()) == [found.core]
    event = AuditEvent.objects.get(code="circle.member_removed")
    assert (event.actor_id, event.payload["reason"]) == (cast.admin.pk, "left_program")
    assert not circles_visible_to(cast.volunteer).exists()
    with pytest.raises(Http404):
        access_circle(cast.volunteer, found.circle.pk)


def test_it_ends_a_closed_accounts_circle_places(cast):
    from tests.circles.builders import cosa

    found = cosa(cast)
    user_deactivate(actor=cast.admin, user=cast.volunteer)
    found.volunteer.refresh_from_db()
    assert found.volunteer.left_at is not None


def test_inv_privacy_a_circle_place_left_behind_does_not_open_the_circle(cast):
    # Membership or account ended without the offboarding service: the access rules alone refuse.
    from mend.circles.circle_access import access_circle, circles_visible_to
    from tests.circles.builders import cosa

    found = cosa(cast)
    assert access_circle(cast.volunteer, found.circle.pk).viewer.place == found.volunteer
    cast.volunteer.is_active = False
    with pytest.raises(Http404):
        access_circle(cast.volunteer, found.circle.pk)
    cast.volunteer.is_active = True
    Membership.objects.filter(user=cast.volunteer).delete()
    assert not circles_visible_to(cast.volunteer).exists()
    with pytest.raises(Http404):
        access_circle(cast.volunteer, found.circle.pk)


def test_it_records_each_request_it_withdraws_in_the_audit_trail(cast):
    request = case_services.assignment_request_create(actor=cast.coordinator, case=cast.case)
    membership_end(actor=cast.admin, membership=Membership.objects.get(user=cast.coordinator))
    event = AuditEvent.objects.get(code="case.assignment_withdrawn")
    assert (event.actor_id, event.target_id, event.case_id) == (cast.admin.pk, str(request.pk), cast.case.pk)
    assert event.payload["reason"] == "left_program"


def test_it_answers_calmly_when_the_removal_is_sent_twice(cast, colleague, monkeypatch):
    from mend.accounts import staff_views

    membership = Membership.objects.get(user=colleague, program=cast.program)
    found = staff_views.access_program_membership

    def found_then_removed_by_the_other_submission(*args):
        # The first submission commits between this one's access check and its removal.
        found_membership = found(*args)
        membership_end(actor=cast.admin, membership=membership)
        return found_membership

    monkeypatch.setattr(staff_views, "access_program_membership", found_then_removed_by_the_other_submission)
    response = signed_in(cast.admin).post(f"/programs/{cast.program.pk}/people/{membership.pk}/remove/")
    assert response.status_code == 409
    assert "already been removed" in response.content.decode()


# Closing an account.


def test_it_closes_an_account_and_everything_that_hangs_on_it(cast, colleague):
    user_deactivate(actor=cast.admin, user=colleague)
    colleague.refresh_from_db()
    assert not colleague.is_active
    assert _place(cast, colleague) is None
    assert not ApiToken.objects.filter(user=colleague, revoked_at__isnull=True).exists()
    assert Membership.objects.filter(user=colleague).exists()  # still listed, marked closed
    event = AuditEvent.objects.get(code="account.deactivated")
    assert event.payload == {"places_ended": 1, "tokens_revoked": 1}
    # Signed out everywhere: the session is left in place, but an inactive account's no longer signs in.
    assert colleague.client.get("/cases/").status_code == 302
    assert colleague.client.get(f"/cases/{cast.case.reference}/").status_code == 302


def test_it_does_not_let_an_admin_close_an_account_that_another_program_shares(cast, colleague):
    Membership.objects.create(user=colleague, program=cast.other_program, role="facilitator")
    with pytest.raises(DomainError, match="program you do not run"):
        user_deactivate(actor=cast.admin, user=colleague)
    colleague.refresh_from_db()
    assert colleague.is_active
    # An admin of both may.
    Membership.objects.create(user=cast.admin, program=cast.other_program, role="admin")
    user_deactivate(actor=cast.admin, user=colleague)


def test_it_ends_only_the_sessions_of_the_person_named(cast, colleague):
    other = signed_in(cast.facilitator)
    assert sessions_end_all(colleague) == 1
    assert other.get("/cases/").status_code == 200


# Recovery signs the person out everywhere.


def test_it_signs_a_person_out_everywhere_when_they_recover_their_account(cast):
    import os

    from mend.accounts import keys
    from mend.core import envelope as env
    from tests.accounts.helpers import made_keys

    user = cast.harmed.user
    made = made_keys(os.urandom(32))
    keys.key_bundle_replace(actor=user, **made.fields)
    elsewhere = signed_in(user)
    assert _sessions_of(user) == 1
    keys.account_recover(
        user=user,
        recovery_auth=env.derive_recovery(made.recovery_code)[0],
        auth_key=env.b64u(os.urandom(32)),
        wrapped=made.fields["wrapped"],
    )
    # The new passphrase changed the session auth hash, so the other session no longer signs in.
    assert elsewhere.get(f"/cases/{cast.case.reference}/").status_code == 302
    assert elsewhere.get("/cases/").status_code == 302


@pytest.mark.parametrize(
    "how, words",
    [("remove", "who left the program"), ("close", "whose account was closed")],
)
def test_it_tells_the_case_timeline_why_a_place_ended(cast, colleague, how, words):
    from mend.cases.timeline import describe

    if how == "remove":
        membership_end(actor=cast.admin, membership=Membership.objects.get(user=colleague))
    else:
        user_deactivate(actor=cast.admin, user=colleague)
    event = AuditEvent.objects.get(code="case.facilitator_unassigned")
    assert words in describe(event, cast.program)
