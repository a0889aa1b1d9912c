"""Issue 16, the pages: each party's standing in plain words on the staff case page, the form that marks a
person as not taking part for now, the form for their time zone and language, the excluded person's own pages
(their part is paused, and how to come back), and the same-side choice on a person's own pages."""

import pytest
from django.urls import reverse

from mend import builders
from mend.cases.models import Participant
from mend.consent import services as consent_services
from mend.consent.selectors import current_text
from tests.builders import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def school(cast):
    return builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=("Kauri",),
        responsible=("Kea", "Tui", "Weka"),
    )


def _url(case, name: str, place: Participant) -> str:
    return reverse(f"cases_people:{name}", args=[case.reference, place.pk])


def test_the_staff_case_page_says_each_persons_standing(cast, school):
    kea, tui, weka = school.responsible
    builders.stop(kea)
    consent_services.participant_pause(actor=tui.user, place=tui)
    consent_services.participant_exclude(actor=cast.facilitator, place=weka, reason="Asked for a pause.")
    page = signed_in(cast.facilitator).get(reverse("cases:detail", args=[school.case.reference]))
    text = page.content.decode()
    assert 'Kauri (person harmed) · <span data-testid="standing">taking part</span>' in text
    assert 'Kea (person responsible) · <span data-testid="standing">stopped taking part</span>' in text
    assert 'Tui (person responsible) · <span data-testid="standing">on a break</span>' in text
    assert (
        'Weka (person responsible) · <span data-testid="standing">not in the process for now</span>' in text
    )
    assert "Mark as not taking part for now" in text
    assert "Asked for a pause" not in text  # the reason is kept, not shown on the page


def test_a_facilitator_marks_a_person_as_not_taking_part_from_the_case_page(cast, school):
    kea = school.responsible[0]
    client = signed_in(cast.facilitator)
    refused = client.post(_url(school.case, "exclude", kea), {f"x{kea.pk}-reason": "no"})
    assert refused.status_code == 400
    done = client.post(_url(school.case, "exclude", kea), {f"x{kea.pk}-reason": "Asked for more time."})
    assert done.status_code == 302
    kea.refresh_from_db()
    assert kea.excluded_at is not None and kea.exclusion_reason == "Asked for more time."


def test_a_facilitator_changes_time_zone_and_language_from_the_case_page(cast, school):
    kea = school.responsible[0]
    client = signed_in(cast.facilitator)
    data = {f"p{kea.pk}-time_zone": "Pacific/Auckland", f"p{kea.pk}-preferred_language": "mi"}
    assert client.post(_url(school.case, "settings", kea), data).status_code == 302
    kea.refresh_from_db()
    assert (kea.time_zone, kea.preferred_language) == ("Pacific/Auckland", "mi")
    bad = {f"p{kea.pk}-time_zone": "Mars/Olympus", f"p{kea.pk}-preferred_language": "mi"}
    assert client.post(_url(school.case, "settings", kea), bad).status_code == 400


@pytest.mark.parametrize("who", ["outsider", "other_program_facilitator", "harmed", "responsible"])
def test_outsiders_get_404_from_the_person_forms(cast, school, who):
    kea = school.responsible[0]
    client = cast.client(who)
    for name, data in (
        ("exclude", {f"x{kea.pk}-reason": "A reason here."}),
        ("settings", {f"p{kea.pk}-time_zone": "UTC", f"p{kea.pk}-preferred_language": "en"}),
    ):
        assert client.post(_url(school.case, name, kea), data).status_code == 404, (who, name)
    kea.refresh_from_db()
    assert kea.excluded_at is None


def test_a_coordinator_who_does_not_facilitate_is_refused(cast, school):
    kea = school.responsible[0]
    answer = signed_in(cast.coordinator).post(
        _url(school.case, "exclude", kea), {f"x{kea.pk}-reason": "A reason here."}
    )
    assert answer.status_code in (400, 403, 409)
    kea.refresh_from_db()
    assert kea.excluded_at is None


def test_inv_voluntary_the_excluded_persons_pages_say_their_part_is_paused_and_how_to_come_back(cast, school):
    kea = school.responsible[0]
    consent_services.participant_exclude(actor=cast.facilitator, place=kea, reason="Said so by phone.")
    client = signed_in(kea.user)
    home = client.get(reverse("cases:detail", args=[school.case.reference])).content.decode()
    assert "Your part in this process is paused for now." in home
    assert 'data-testid="stop"' not in home and "phone" not in home
    consent_page = client.get(reverse("consent:consent", args=[school.case.reference])).content.decode()
    assert "I want to take part again" in consent_page
    text = current_text(cast.program, "take_part")
    answer = client.post(
        reverse("consent:consent", args=[school.case.reference]),
        {"scope": "take_part", "decision": "give", "text_sha256": text.sha256},
    )
    assert answer.status_code == 302
    kea.refresh_from_db()
    assert kea.excluded_at is None
    home = client.get(reverse("cases:detail", args=[school.case.reference])).content.decode()
    assert "Your part in this process is paused for now." not in home and 'data-testid="stop"' in home


def test_inv_privacy_a_person_responsible_chooses_on_their_consent_page_whether_their_side_sees_them(
    cast, school
):
    kea = school.responsible[0]
    client = signed_in(kea.user)
    url = reverse("consent:consent", args=[school.case.reference])
    page = client.get(url).content.decode()
    assert "Other people in this case who are also a person responsible may see my pseudonym" in page
    assert client.post(url, {"visibility": "1", "seen_by_same_side": "on"}).status_code == 302
    kea.refresh_from_db()
    assert kea.seen_by_same_side
    assert client.post(url, {"visibility": "1"}).status_code == 302
    kea.refresh_from_db()
    assert not kea.seen_by_same_side


def test_inv_privacy_a_person_harmed_chooses_on_their_choices_page(cast, school):
    kauri = school.harmed[0]
    client = signed_in(kauri.user)
    url = reverse("consent:choices", args=[school.case.reference])
    assert "Other people in this case who are also a person harmed" in client.get(url).content.decode()
    data = {"mode": "direct", "progress_updates": "at_end", "seen_by_same_side": "on"}
    assert client.post(url, data).status_code == 302
    kauri.refresh_from_db()
    assert kauri.seen_by_same_side
    # The person harmed does not get the responsible side's form on the consent page.
    consent_page = client.get(reverse("consent:consent", args=[school.case.reference])).content.decode()
    assert "who are also a person harmed" not in consent_page


def test_inv_voluntary_a_person_off_their_path_reads_what_happens_for_them_not_the_stage(cast, school):
    """The case goes on at its stage for the others; the home page of someone who stepped back says what
    happens for them (nothing new reaches them; how to come back), not what the stage means for the others."""
    kea, tui, weka = school.responsible
    builders.stop(kea)
    consent_services.participant_pause(actor=tui.user, place=tui)
    home = reverse("cases:detail", args=[school.case.reference])
    stopped = signed_in(kea.user).get(home).content.decode()
    on_break = signed_in(tui.user).get(home).content.decode()
    going_on = signed_in(weka.user).get(home).content.decode()
    assert "You are not taking part at the moment, so nothing new will reach you." in stopped
    assert "You are taking part as" not in stopped
    assert "You are taking a break. Nothing is scheduled with you" in on_break
    assert "You are not taking part at the moment" not in on_break
    assert "You are taking part as the person responsible." in going_on
    assert "nothing new will reach you" not in going_on and "You are taking a break" not in going_on


def test_inv_voluntary_an_excluded_person_can_still_take_back_their_consent(cast, school):
    """Staff marking someone as not in the process does not take away their own choice: their consent to take
    part, still given, can be taken back from their consent page in one action."""
    kea = school.responsible[0]
    consent_services.participant_exclude(actor=cast.facilitator, place=kea, reason="Said so by phone.")
    client = signed_in(kea.user)
    page = client.get(reverse("consent:consent", args=[school.case.reference])).content.decode()
    take_part = page[page.index('data-scope="take_part"') :].split("</li>")[0]
    assert 'value="withdraw"' in take_part and "I want to take part again" in take_part
    text = current_text(cast.program, "take_part")
    answer = client.post(
        reverse("consent:consent", args=[school.case.reference]),
        {"scope": "take_part", "decision": "withdraw", "text_sha256": text.sha256},
    )
    assert answer.status_code == 302
    assert not kea.consents.filter(scope="take_part", withdrawn_at__isnull=True).exists()
