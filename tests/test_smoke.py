"""The case page answers, and the demo (mend.demo) can be walked: its people sign in with what `make run`
prints, and its cases are where a new user can go on from."""

from django.test import Client

from mend import demo
from mend.readiness.rules import (
    STOPPED,
    TAKING_PART,
    all_parties,
    meeting_missing,
    parties,
    standing_of,
)
from mend.readiness.snapshot import snapshot_of
from tests.accounts.helpers import sign_in


def test_it_serves_the_case_page_to_its_facilitator(cast):
    response = cast.client("facilitator").get(f"/cases/{cast.case.reference}/")
    assert response.status_code == 200
    assert b"Wren" in response.content


# --- the demo can be walked (issue 16, part 6) ------------------------------------------------------------


def _demo_case(category: str):
    from mend.cases.models import Case

    return Case.objects.get(program__slug=demo.DEMO_SLUG, harm_category=category)


def test_it_leaves_the_demo_data_breach_going_on_for_the_four_after_one_stopped(db):
    demo.load()
    breach = _demo_case("data_breach")
    snap = snapshot_of(breach)
    standings = {p.pseudonym: standing_of(snap, p) for p in all_parties(snap)}
    assert standings == {
        "Heron": TAKING_PART,
        "Tern": TAKING_PART,
        "Plover": TAKING_PART,
        "Godwit": TAKING_PART,
        "Dotterel": STOPPED,
        "Falcon": TAKING_PART,
    }
    # The case goes on for the others: at its encounter, and a conference of the others could be scheduled.
    assert breach.stage == "encounter"
    staff = [p for p in snap.places if p.is_facilitating]
    assert meeting_missing(snap, [*staff, *parties(snap)]) == []
    assert len({p.time_zone for p in all_parties(snap)}) == 6  # each person's own
    assert all(p.user.is_demo for p in all_parties(snap))


def test_it_makes_the_demo_school_case_ready_for_its_conference(db):
    demo.load()
    school = _demo_case("unauthorised_access")
    snap = snapshot_of(school)
    assert school.stage == "encounter"
    supporters = {
        p.pseudonym: snap.place(p.supports_id).pseudonym for p in snap.places if p.role == "supporter"
    }
    assert supporters == {"Totara": "Sparrow", "Hinau": "Finch", "Miro": "Linnet"}
    harmed = [p for p in snap.places if p.role == "harmed_party"]
    assert [snap.choices_of(p).mode for p in harmed] == ["direct", "direct"]
    attending = [p for p in snap.places if p.role != "community_member"]
    assert meeting_missing(snap, attending) == []


def test_it_prints_a_sign_in_for_every_demo_person_who_can_walk_a_case(db, client):
    demo.load()
    names = [login for _n, login, _tz in (*demo.BREACH_HARMED, demo.BREACH_RESPONSIBLE, *demo.SCHOOL_HARMED)]
    names += [y[1] for y in demo.SCHOOL_YOUTHS] + [y[3] for y in demo.SCHOOL_YOUTHS]
    for name in names:
        assert name in demo.SIGN_IN_HELP
    assert sign_in(client, "dotterel-demo", demo.DEMO_PHRASE, json=True).status_code == 200
    assert sign_in(Client(), "totara-demo", demo.DEMO_PHRASE, json=True).status_code == 200
