"""The `mend` command: demo data, the first administrator, and the job worker."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.utils import timezone

from mend import cli, demo
from mend.accounts.models import Membership, Program, User
from mend.accounts.tasks import sessions_purge
from mend.cases.models import Case, Participant
from mend.core import envelope
from tests.accounts.helpers import auth_key, derived, sign_in


def test_it_loads_the_demo_once(db):
    out = StringIO()
    call_command("demo", stdout=out)
    call_command("demo", stdout=out)
    assert "already there" in out.getvalue() and "wren-demo" in out.getvalue()
    assert Program.objects.filter(slug=demo.DEMO_SLUG).count() == 1
    assert Case.objects.count() == 3


def test_it_models_the_demo_cases_on_the_source_documents(db):
    demo.load()
    by_category = {c.harm_category: c for c in Case.objects.all()}
    assert set(by_category) == {"sexual_assault", "data_breach", "unauthorised_access"}

    def roles(case):
        return sorted(Participant.objects.filter(case=case).values_list("role", flat=True))

    assert roles(by_category["data_breach"]).count("harmed_party") == 5
    assert roles(by_category["data_breach"]).count("responsible_party") == 1
    school = roles(by_category["unauthorised_access"])
    assert school.count("responsible_party") == 3
    assert {"harmed_party", "supporter", "community_member", "co_facilitator"} <= set(school)
    assert "indirect" in by_category["sexual_assault"].intake_notes
    wren = Participant.objects.get(case=by_category["sexual_assault"], pseudonym="Wren")
    assert wren.choices.mode == "indirect"


def test_it_lets_the_demo_participant_sign_in_with_the_printed_phrase(db, client):
    demo.load()
    response = sign_in(client, "wren-demo", demo.DEMO_PHRASE, json=True)
    assert response.status_code == 200
    # The demo party has keys already, wrapped under the printed phrase, so the page can unlock them.
    keys = response.json()["keys"]
    wrap_key = derived("wren-demo", demo.DEMO_PHRASE)[1]
    assert envelope.unwrap_keys(wrap_key, keys["wrapped"]).key_id == keys["key_id"]


def test_it_creates_the_first_admin_and_program(db, monkeypatch):
    monkeypatch.setenv("MEND_ADMIN_PASSWORD", "correct horse battery staple")
    call_command(
        "createadmin",
        email="Lead@Example.org",
        name="Lee Lead",
        program="Northshore RJ",
        jurisdiction=["NZ"],
        stdout=StringIO(),
    )
    user = User.objects.get(username="lead@example.org")
    assert Membership.objects.get(user=user).role == "admin"
    # Only the key the sign-in page derives from the password is kept, as an Argon2 hash.
    assert user.password.startswith("sealed$")  # Argon2, sealed with the key store's accounts key
    assert user.check_password(auth_key("lead@example.org", "correct horse battery staple"))
    assert not user.check_password("correct horse battery staple")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", "correct horse battery staple", "email address"),
        ("ok@example.org", "short", "too short"),
    ],
)
def test_it_explains_what_to_fix_in_createadmin(db, monkeypatch, email, password, message):
    monkeypatch.setenv("MEND_ADMIN_PASSWORD", password)
    with pytest.raises(CommandError, match=message):
        call_command("createadmin", email=email, name="Lee", program="Northshore RJ", stdout=StringIO())
    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_runs_queued_jobs_in_a_worker():
    # A real transaction: the worker closes and reopens connections between jobs, as in production.
    Session.objects.create(session_key="old", session_data="", expire_date=timezone.now() - timedelta(days=1))
    Session.objects.create(session_key="new", session_data="", expire_date=timezone.now() + timedelta(days=1))
    result = sessions_purge.enqueue()
    call_command("worker", batch=True, verbosity=0)
    result.refresh()
    assert result.status == "SUCCESSFUL" and result.return_value == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]


def test_it_runs_django_commands_through_mend(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["mend", "audit", "--help"])
    assert exit_info.value.code == 0
    assert "verify" in capsys.readouterr().out
