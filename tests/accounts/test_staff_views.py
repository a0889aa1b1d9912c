"""The program admins' page of people: only that program's admins reach it (others get the same 404 as
for a program that does not exist), each action has a confirmation step, and it works without JavaScript."""

import pytest
from django.test import Client

from mend.accounts.models import Membership, User
from mend.cases import services as case_services
from mend.cases.models import Participant, Role
from tests.builders import make_program, make_staff, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague_membership(cast):
    user = cast.other_facilitator_same_program
    case_services.facilitator_assign(
        actor=cast.coordinator, case=cast.case, user=user, role=Role.CO_FACILITATOR
    )
    return Membership.objects.get(user=user, program=cast.program)


def _paths(cast, membership) -> list[str]:
    base = f"/programs/{cast.program.pk}/people/"
    return [base, f"{base}{membership.pk}/remove/", f"{base}{membership.pk}/deactivate/"]


@pytest.mark.parametrize(
    "who",
    [
        "coordinator",
        "facilitator",
        "volunteer",
        "other_program_facilitator",
        "harmed",
        "outsider",
        "other_program_admin",
    ],
)
def test_it_answers_everyone_but_the_programs_admins_with_a_404(cast, colleague_membership, who):
    if who == "other_program_admin":
        client = _client(make_staff(cast.other_program, "admin", "admin@elsewhere.test", "Ari Elsewhere"))
    else:
        client = cast.client(who)
    listing, *actions = _paths(cast, colleague_membership)
    for path in (listing, *actions):
        assert client.get(path).status_code == 404, path
    for path in actions:
        assert client.post(path).status_code == 404, path
    assert Membership.objects.filter(pk=colleague_membership.pk).exists()


def _client(user):
    return signed_in(user)


def test_it_sends_anonymous_visitors_to_sign_in_and_staff_to_their_second_factor(cast, colleague_membership):
    path = f"/programs/{cast.program.pk}/people/"
    assert Client().get(path)["Location"].startswith("/account/sign-in/")
    unverified = Client()
    unverified.force_login(cast.admin)
    assert unverified.get(path)["Location"] == "/account/two-factor/"


def test_it_answers_a_membership_of_another_program_like_one_that_does_not_exist(cast):
    stranger = Membership.objects.get(user=cast.other_program_facilitator)
    client = cast.client("admin")
    for action in ("remove", "deactivate"):
        path = f"/programs/{cast.program.pk}/people/{stranger.pk}/{action}/"
        missing = f"/programs/{cast.program.pk}/people/999999/{action}/"
        assert client.get(path).status_code == client.get(missing).status_code == 404
        assert client.post(path).status_code == 404
    assert Membership.objects.filter(pk=stranger.pk).exists()


def test_it_lists_the_people_of_the_program_with_their_cases(cast, colleague_membership):
    response = cast.client("admin").get(f"/programs/{cast.program.pk}/people/")
    content = response.content.decode()
    assert response.status_code == 200
    for name in ("Fen Facilitator", "Gil Colleague", "Cole Coordinator", "Vee Volunteer"):
        assert name in content
    assert "Oro Elsewhere" not in content
    assert "facilitates 1 case" in content
    assert f"/people/{colleague_membership.pk}/remove/" in content


def test_it_asks_for_confirmation_before_removing_someone_and_then_removes_them(cast, colleague_membership):
    client = cast.client("admin")
    path = f"/programs/{cast.program.pk}/people/{colleague_membership.pk}/remove/"
    confirm = client.get(path)
    assert confirm.status_code == 200
    assert "Remove Gil Colleague from Riverbend Restorative Programme?" in confirm.content.decode()
    assert Membership.objects.filter(pk=colleague_membership.pk).exists()  # nothing happens on GET
    done = client.post(path)
    assert done.status_code == 302
    assert done["Location"] == f"/programs/{cast.program.pk}/people/"
    assert not Membership.objects.filter(pk=colleague_membership.pk).exists()
    assert not Participant.objects.filter(
        case=cast.case, user=colleague_membership.user, removed_at__isnull=True
    ).exists()
    assert "is no longer in this program" in client.get(done["Location"]).content.decode()


def test_it_asks_for_confirmation_before_deactivating_someone_and_then_does(cast, colleague_membership):
    client = cast.client("admin")
    path = f"/programs/{cast.program.pk}/people/{colleague_membership.pk}/deactivate/"
    assert "Deactivate Gil Colleague" in client.get(path).content.decode()
    assert User.objects.get(pk=colleague_membership.user_id).is_active
    assert client.post(path).status_code == 302
    assert not User.objects.get(pk=colleague_membership.user_id).is_active
    listed = client.get(f"/programs/{cast.program.pk}/people/").content.decode()
    assert "account closed" in listed


def test_it_explains_why_an_account_shared_with_another_program_cannot_be_closed_here(
    cast, colleague_membership
):
    Membership.objects.create(user=colleague_membership.user, program=cast.other_program, role="facilitator")
    client = cast.client("admin")
    path = f"/programs/{cast.program.pk}/people/{colleague_membership.pk}/deactivate/"
    page = client.get(path)
    assert "program you do not run" in page.content.decode()
    after_the_error = page.content.decode().split("error-summary")[-1].split("</main>")[0]
    assert 'name="csrfmiddlewaretoken"' not in after_the_error
    refused = client.post(path)
    assert refused.status_code == 409
    assert User.objects.get(pk=colleague_membership.user_id).is_active


def test_it_does_not_offer_an_admin_to_remove_themselves(cast):
    own = Membership.objects.get(user=cast.admin)
    client = cast.client("admin")
    assert (
        f"/people/{own.pk}/remove/" not in client.get(f"/programs/{cast.program.pk}/people/").content.decode()
    )
    assert client.post(f"/programs/{cast.program.pk}/people/{own.pk}/remove/").status_code == 409
    assert Membership.objects.filter(pk=own.pk).exists()


def test_it_lets_an_admin_of_two_programs_see_each_programs_people_apart(cast):
    third = make_program(name="Third Circle Trust", slug="third")
    Membership.objects.create(user=cast.admin, program=third, role="admin")
    page = cast.client("admin").get(f"/programs/{third.pk}/people/").content.decode()
    assert "Ada Admin" in page and "Fen Facilitator" not in page
