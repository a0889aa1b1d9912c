"""The pages of the consent issue: each party's own controls, and the facilitator's preparation work."""

from datetime import timedelta

from django.utils import timezone

from mend.assessments.models import Acknowledgment, Assessment, SafetyPlan
from mend.cases.models import Case
from mend.consent.models import Consent, ConsentText, HarmedPartyChoices
from mend.meetings.models import Meeting
from tests.builders import prepare_for_encounter


def _case_url(cast, rest=""):
    return f"/cases/{cast.case.reference}/{rest}"


def test_it_lets_a_party_give_consent_to_the_text_they_read(cast):
    client = cast.client("harmed")
    page = client.get(_case_url(cast, "consent/"))
    assert page.status_code == 200
    text = ConsentText.objects.filter(program=cast.program, scope="take_part", language="en").latest(
        "version"
    )
    assert text.text in page.content.decode()
    response = client.post(
        _case_url(cast, "consent/"), {"scope": "take_part", "decision": "give", "text_sha256": text.sha256}
    )
    assert response.status_code == 302
    assert Consent.objects.filter(participant=cast.harmed, scope="take_part", withdrawn_at=None).exists()


def test_it_refuses_consent_to_stale_wording_with_a_reason(cast):
    response = cast.client("harmed").post(
        _case_url(cast, "consent/"), {"scope": "take_part", "decision": "give", "text_sha256": "0" * 64}
    )
    assert response.status_code == 409
    assert "read it again" in response.content.decode()
    assert not Consent.objects.exists()


def test_it_refuses_a_scope_that_does_not_apply(cast):
    text = ConsentText.objects.filter(program=cast.program, scope="progress_updates", language="en").latest(
        "version"
    )
    response = cast.client("responsible").post(
        _case_url(cast, "consent/"),
        {"scope": "progress_updates", "decision": "give", "text_sha256": text.sha256},
    )
    assert response.status_code == 400 and "does not apply" in response.content.decode()


def test_inv_voluntary_stopping_is_one_click_from_the_case_page(cast):
    prepare_for_encounter(cast)
    client = cast.client("harmed")
    page = client.get(_case_url(cast)).content.decode()
    assert f'action="/cases/{cast.case.reference}/stop/"' in page
    response = client.post(_case_url(cast, "stop/"))
    assert response.status_code == 302
    assert not Consent.objects.filter(participant=cast.harmed, scope="take_part", withdrawn_at=None).exists()
    assert Case.objects.get(pk=cast.case.pk).stage == "paused"


def test_inv_voluntary_a_break_and_a_return_from_the_case_page(cast):
    prepare_for_encounter(cast)
    client = cast.client("responsible")
    assert client.post(_case_url(cast, "break/")).status_code == 302
    cast.responsible.refresh_from_db()
    assert cast.responsible.paused_at is not None
    assert "ready to continue" in client.get(_case_url(cast)).content.decode().lower()
    assert client.post(_case_url(cast, "break/"), {"resume": "1"}).status_code == 302
    cast.responsible.refresh_from_db()
    assert cast.responsible.paused_at is None


def test_inv_survivor_centered_only_the_harmed_party_has_a_choices_page(cast):
    assert cast.client("harmed").get(_case_url(cast, "choices/")).status_code == 200
    for who in ["responsible", "supporter", "facilitator", "outsider"]:
        assert cast.client(who).get(_case_url(cast, "choices/")).status_code == 404, who


def test_inv_survivor_centered_choices_are_saved_and_checked(cast):
    client = cast.client("harmed")
    bad = client.post(_case_url(cast, "choices/"), {"mode": "indirect", "progress_updates": "every_n_weeks"})
    assert bad.status_code == 400 and "every how many weeks" in bad.content.decode()
    assert not HarmedPartyChoices.objects.exists()
    good = client.post(
        _case_url(cast, "choices/"),
        {"mode": "indirect", "progress_updates": "every_n_weeks", "progress_every_weeks": "6"},
    )
    assert good.status_code == 302
    choices = HarmedPartyChoices.objects.get(participant=cast.harmed)
    assert (choices.mode, choices.progress_every_weeks) == ("indirect", 6)


def test_inv_survivor_centered_the_responsible_party_never_sees_the_progress_choice(cast):
    cast.client("harmed").post(
        _case_url(cast, "choices/"),
        {"mode": "indirect", "progress_updates": "every_n_weeks", "progress_every_weeks": "6"},
    )
    page = cast.client("responsible").get(_case_url(cast)).content.decode()
    assert "communicate through your facilitator" in page
    for hidden in ["every 6 weeks", "summary", "progress", "6 weeks"]:
        assert hidden not in page.lower(), hidden


def test_it_shows_the_facilitator_exactly_what_blocks_a_session(cast):
    response = cast.client("facilitator").post(
        _case_url(cast, "sessions/new/"),
        {
            "kind": "dialogue",
            "format": "video",
            "date": (timezone.localdate() + timedelta(days=5)).isoformat(),
            "time": "10:00",
            "time_zone": "Pacific/Auckland",
            "duration_minutes": "60",
            "attendees": [
                cast.harmed.pk,
                cast.responsible.pk,
                cast.case.participants.get(user=cast.facilitator).pk,
            ],
        },
    )
    assert response.status_code == 409
    assert "Waiting for:" in response.content.decode() and "(Kestrel)" in response.content.decode()
    assert not Meeting.objects.exists()


def test_it_schedules_a_session_when_everything_holds(cast):
    prepare_for_encounter(cast)
    response = cast.client("facilitator").post(
        _case_url(cast, "sessions/new/"),
        {
            "kind": "dialogue",
            "format": "in_person",
            "date": (timezone.localdate() + timedelta(days=5)).isoformat(),
            "time": "10:00",
            "time_zone": "Pacific/Auckland",
            "duration_minutes": "90",
            "attendees": [
                cast.harmed.pk,
                cast.responsible.pk,
                cast.case.participants.get(user=cast.facilitator).pk,
            ],
        },
    )
    assert response.status_code == 302
    session = Meeting.objects.get()
    assert session.time_zone == "Pacific/Auckland" and session.attendees.count() == 3


def test_it_signs_off_an_assessment_from_the_questions(cast):
    client = cast.client("facilitator")
    url = _case_url(cast, f"people/{cast.responsible.pk}/assessment/")
    page = client.get(url)
    # An image-based abuse case is a cybercrime case: the digital safety questions are asked too.
    assert page.status_code == 200 and "accounts and devices secure" in page.content.decode()
    missing_date = client.post(url, {"outcome": "not_yet", "q_motivation": "Unsure yet."})
    assert missing_date.status_code == 400 and "date to assess again" in missing_date.content.decode()
    assert client.post(url, {"outcome": "ready", "q_motivation": "Wants to repair."}).status_code == 302
    assert Assessment.objects.get(participant=cast.responsible).outcome == "ready"


def test_it_keeps_assessments_from_facilitators_of_other_cases(cast):
    url = _case_url(cast, f"people/{cast.responsible.pk}/assessment/")
    for who in [
        "other_facilitator_same_program",
        "other_program_facilitator",
        "harmed",
        "responsible",
        "outsider",
    ]:
        assert cast.client(who).get(url).status_code == 404, who


def test_inv_privacy_a_safety_plan_is_seen_only_by_its_person_and_their_facilitators(cast):
    cast.client("facilitator").post(
        _case_url(cast, f"people/{cast.harmed.pk}/safety-plan/"),
        {"risks": "Messages from new accounts.", "measures": "Report and block."},
    )
    assert SafetyPlan.objects.filter(participant=cast.harmed).exists()
    url = _case_url(cast, f"people/{cast.harmed.pk}/safety-plan/")
    assert "Report and block." in cast.client("harmed").get(url).content.decode()
    assert "Report and block." in cast.client("facilitator").get(url).content.decode()
    for who in [
        "responsible",
        "supporter",
        "coordinator",
        "admin",
        "other_facilitator_same_program",
        "other_program_facilitator",
        "outsider",
    ]:
        assert cast.client(who).get(url).status_code == 404, who


def test_inv_acknowledgment_written_by_the_responsible_party_and_confirmed_by_the_facilitator(cast):
    short = cast.client("responsible").post(_case_url(cast, "acknowledgment/"), {"text": "sorry"})
    assert short.status_code == 400 and "at least 30 characters" in short.content.decode()
    assert cast.client("harmed").get(_case_url(cast, "acknowledgment/")).status_code == 404
    cast.client("responsible").post(
        _case_url(cast, "acknowledgment/"),
        {"text": "I posted their address online and it made them afraid at home."},
    )
    response = cast.client("facilitator").post(
        _case_url(cast, f"people/{cast.responsible.pk}/acknowledgment/confirm/")
    )
    assert response.status_code == 302
    assert Acknowledgment.objects.get().confirmed_by == cast.facilitator


def test_inv_neutrality_declaring_a_conflict_on_the_page_ends_the_assignment(cast):
    client = cast.client("facilitator")
    missing = client.post(_case_url(cast, "conflict/"), {"has_conflict": "yes"})
    assert missing.status_code == 400 and "Say briefly" in missing.content.decode()
    assert (
        client.post(
            _case_url(cast, "conflict/"), {"has_conflict": "yes", "details": "Neighbour."}
        ).status_code
        == 302
    )
    assert client.get(_case_url(cast)).status_code == 404


def test_it_lets_only_program_admins_change_consent_wording(cast):
    url = f"/programs/{cast.program.pk}/consent/"
    for who in ["coordinator", "facilitator", "harmed", "other_program_facilitator"]:
        assert cast.client(who).get(url).status_code == 404, who
    client = cast.client("admin")
    assert client.post(url, {"scope": "take_part", "text": "too short"}).status_code == 400
    assert (
        client.post(url, {"scope": "take_part", "text": "I choose to take part and I may stop."}).status_code
        == 302
    )
    assert (
        ConsentText.objects.filter(program=cast.program, scope="take_part", language="en")
        .latest("version")
        .version
        == 2
    )


def test_it_lets_program_admins_edit_the_questions(cast):
    url = f"/programs/{cast.program.pk}/questions/"
    client = cast.client("admin")
    assert "motivation | readiness" in client.get(url).content.decode()
    bad = client.post(url, {"questions": "only two | parts"})
    assert bad.status_code == 400 and "Line 1 needs three parts" in bad.content.decode()
    ok = client.post(url, {"questions": "hopes | readiness | What do they hope for?"})
    assert ok.status_code == 302
    page = cast.client("facilitator").get(_case_url(cast, f"people/{cast.harmed.pk}/assessment/"))
    assert "What do they hope for?" in page.content.decode()


def test_inv_neutrality_a_coordinator_assigns_a_co_facilitator_who_then_must_declare(cast):
    client = cast.client("coordinator")
    colleague = cast.other_facilitator_same_program
    response = client.post(
        _case_url(cast, "assign/"), {"assign-facilitator": colleague.pk, "assign-role": "co_facilitator"}
    )
    assert response.status_code == 302
    assert cast.case.participants.filter(user=colleague, role="co_facilitator").exists()
    page = client.get(_case_url(cast)).content.decode()
    assert "a conflict-of-interest declaration by Gil Colleague" in page


def test_it_refuses_to_assign_someone_outside_the_program(cast):
    stranger = cast.other_program_facilitator
    response = cast.client("coordinator").post(
        _case_url(cast, "assign/"), {"assign-facilitator": stranger.pk, "assign-role": "facilitator"}
    )
    assert response.status_code == 400
    assert not cast.case.participants.filter(user=stranger).exists()


def test_it_tells_the_facilitator_on_their_dashboard_when_a_party_steps_back(cast):
    prepare_for_encounter(cast)
    cast.client("harmed").post(_case_url(cast, "stop/"))
    page = cast.client("facilitator").get("/").content.decode()
    assert "<bdi>Wren</bdi> has stepped back for now. You may want to offer them support." in page


def test_it_lets_a_program_choose_its_words_for_roles(cast):
    client = cast.client("admin")
    refused = client.post(f"/programs/{cast.program.pk}/words/", {"harmed_party": "victim"})
    assert refused.status_code == 400 and "never shows that word" in refused.content.decode()
    saved = client.post(f"/programs/{cast.program.pk}/words/", {"harmed_party": "person who was hurt"})
    assert saved.status_code == 302
    page = cast.client("harmed").get(_case_url(cast)).content.decode()
    assert "You are taking part as the person who was hurt." in page
