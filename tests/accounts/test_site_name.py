"""A program's site name (issue 18): tab titles, the header and emails say the name a program chose, never
"Mend", so that a shared phone or a watched inbox does not tell what the person is taking part in."""

import copy
import re
from datetime import timedelta
from email.utils import parseaddr

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mend.accounts import site_name
from mend.accounts.context_processors import site_name as site_name_processor
from mend.accounts.models import Program
from mend.agreements import reminders
from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Participant, Role
from tests.agreements.progress_helpers import signed_agreement, start_time, travel
from tests.builders import make_staff, signed_in

NEUTRAL = "Northside Wellbeing"
EMAIL = "kestrel.k@example.test"
PROCESSOR = "mend.accounts.context_processors.site_name"


def name_program(program: Program, name: str) -> None:
    Program.objects.filter(pk=program.pk).update(site_name=name)


def title_of(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def brand_of(html: str) -> str:
    return re.search(r'<a class="brand" href="[^"]*">(.*?)</a>', html, re.S).group(1)


def words_page(cast) -> str:
    return f"/programs/{cast.program.pk}/words/"


def test_it_names_the_program_in_a_participants_title_and_header(cast):
    name_program(cast.program, NEUTRAL)
    html = cast.client("harmed").get("/", follow=True).content.decode()
    assert title_of(html).endswith(f" · {NEUTRAL}")
    assert brand_of(html) == NEUTRAL
    assert "Mend" not in title_of(html) + brand_of(html)


def test_it_names_the_program_in_a_staff_members_title_and_header(cast):
    name_program(cast.program, NEUTRAL)
    html = cast.client("facilitator").get("/", follow=True).content.decode()
    assert title_of(html).endswith(f" · {NEUTRAL}")
    assert brand_of(html) == NEUTRAL


def test_it_says_mend_when_the_program_chose_no_name(cast):
    html = cast.client("harmed").get("/", follow=True).content.decode()
    assert title_of(html).endswith(" · Mend")
    assert brand_of(html) == "Mend"


def test_it_never_shows_one_programs_name_to_another_programs_staff(cast):
    name_program(cast.program, NEUTRAL)
    html = cast.client("other_program_facilitator").get("/", follow=True).content.decode()
    assert NEUTRAL not in html
    assert brand_of(html) == "Mend"


def test_a_signed_out_page_says_mend(cast, client):
    name_program(cast.program, NEUTRAL)
    html = client.get("/account/sign-in/").content.decode()
    assert brand_of(html) == "Mend"
    assert NEUTRAL not in html


def test_the_name_is_escaped(cast):
    name_program(cast.program, "Tea & <Talk>")
    html = cast.client("harmed").get("/", follow=True).content.decode()
    assert brand_of(html) == "Tea &amp; &lt;Talk&gt;"


def _second_case(cast, *, site: str = "") -> Participant:
    """The person harmed also has a place in a case of the other program (made last: their newest)."""
    name_program(cast.other_program, site)
    coordinator = make_staff(cast.other_program, "coordinator", "coord@elsewhere.test", "Cai Coordinator")
    case = case_services.case_create(
        actor=coordinator,
        program=cast.other_program,
        harm_category="doxxing",
        jurisdictions=["AU"],
        referral_source="self",
    )
    return Participant.objects.create(
        case=case, user=cast.harmed.user, role=Role.HARMED_PARTY, pseudonym="Wren"
    )


def test_a_participant_in_two_programs_sees_their_newest_case_s_name(cast):
    name_program(cast.program, NEUTRAL)
    _second_case(cast, site="Eastgate Support")
    assert site_name.site_name_for(cast.harmed.user) == "Eastgate Support"


def test_a_named_program_wins_over_one_that_left_the_name_empty(cast):
    # "Mend" is not the neutral choice: the newest case's program chose no name, the older one did.
    name_program(cast.program, NEUTRAL)
    _second_case(cast, site="")
    assert site_name.site_name_for(cast.harmed.user) == NEUTRAL


def test_a_case_the_person_is_still_in_wins_over_one_they_left(cast):
    name_program(cast.program, NEUTRAL)
    place = _second_case(cast, site="Eastgate Support")
    Participant.objects.filter(pk=place.pk).update(removed_at=place.invited_at)
    assert site_name.site_name_for(cast.harmed.user) == NEUTRAL


def test_an_admin_sets_the_name_on_the_words_page(cast):
    client = cast.client("admin")
    response = client.post(words_page(cast), {"site_name": f"  {NEUTRAL}\n "})
    assert response.status_code == 302
    cast.program.refresh_from_db()
    assert cast.program.site_name == NEUTRAL, "trimmed"
    html = client.get(response["Location"]).content.decode()
    assert "The browser tab, each page and emails now use this name." in html
    assert f'value="{NEUTRAL}"' in html
    assert brand_of(html) == NEUTRAL


def test_an_empty_name_brings_back_mend(cast):
    name_program(cast.program, NEUTRAL)
    assert cast.client("admin").post(words_page(cast), {"site_name": "   "}).status_code == 302
    cast.program.refresh_from_db()
    assert cast.program.site_name == ""
    assert site_name.site_name_for(cast.harmed.user) == "Mend"


def test_saving_the_name_leaves_the_words_for_roles_alone(cast):
    Program.objects.filter(pk=cast.program.pk).update(role_words={"en": {"harmed_party": "person hurt"}})
    cast.client("admin").post(words_page(cast), {"site_name": NEUTRAL})
    cast.program.refresh_from_db()
    assert cast.program.role_words == {"en": {"harmed_party": "person hurt"}}


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("N" * 61, "The site name can be at most 60 characters."),
        ("North\x00side", None),  # Django's own refusal of a null character
        ("North\x07side", "The site name can only hold letters, numbers, spaces and punctuation."),
        ("North\u202eside", "The site name can only hold letters, numbers, spaces and punctuation."),
        ("Victim Support", "Mend never shows that word on screen."),
    ],
)
def test_a_name_it_cannot_use_is_refused_on_its_field(cast, typed, says):
    response = cast.client("admin").post(words_page(cast), {"site_name": typed})
    assert response.status_code == 400
    form = response.context["site_form"]
    assert list(form.errors) == ["site_name"]
    if says:
        assert says in form.errors["site_name"][0]
        assert says in response.content.decode()
    cast.program.refresh_from_db()
    assert cast.program.site_name == ""
    assert not AuditEvent.objects.filter(code="program.site_name_changed").exists()


@pytest.mark.parametrize(
    "who", ["coordinator", "facilitator", "volunteer", "other_program_facilitator", "harmed"]
)
def test_only_the_programs_admin_may_set_the_name(cast, who):
    response = cast.client(who).post(words_page(cast), {"site_name": NEUTRAL})
    assert response.status_code == 404
    cast.program.refresh_from_db()
    assert cast.program.site_name == ""


def test_another_programs_admin_may_not_set_the_name(cast):
    admin = make_staff(cast.other_program, "admin", "admin@elsewhere.test", "Ari Admin")
    assert signed_in(admin).post(words_page(cast), {"site_name": NEUTRAL}).status_code == 404
    cast.program.refresh_from_db()
    assert cast.program.site_name == ""


def test_a_change_of_name_is_audited_once(cast):
    client = cast.client("admin")
    client.post(words_page(cast), {"site_name": NEUTRAL})
    client.post(words_page(cast), {"site_name": NEUTRAL})  # the same again: no change, no event
    [event] = AuditEvent.objects.filter(code="program.site_name_changed")
    assert event.actor_id == cast.admin.pk
    assert (event.target_type, event.target_id) == ("program", str(cast.program.pk))
    assert event.program_id == cast.program.pk
    assert NEUTRAL not in str(event.payload), "the event says that it changed, not the name"


def test_the_reminder_email_uses_the_site_name_in_subject_and_from(cast, settings):
    settings.DEFAULT_FROM_EMAIL = "Mend <mend@mend.example>"
    name_program(cast.program, NEUTRAL)
    cast.responsible.contact_method = EMAIL
    cast.responsible.save(update_fields=["contact_method"])
    with travel(start_time()) as traveller:
        signed = signed_agreement(cast, first_due_days=10)
        traveller.move_to(signed.start + timedelta(days=11))
        assert reminders.overdue_remind(today=timezone.localdate()) == 1
    [email] = mail.outbox
    assert email.subject == f"A note from {NEUTRAL}"
    assert parseaddr(email.from_email) == (NEUTRAL, "mend@mend.example")
    assert "Mend" not in email.subject + email.from_email + email.body
    assert "Mend" not in email.message()["From"]


def test_an_email_of_a_program_without_a_name_keeps_the_configured_from(cast, settings):
    settings.DEFAULT_FROM_EMAIL = "Mend <mend@mend.example>"
    assert site_name.from_email_of(cast.program) == "Mend <mend@mend.example>"
    assert site_name.site_name_of(cast.program) == "Mend"


def test_a_from_name_with_commas_or_accents_stays_one_address(cast, settings):
    settings.DEFAULT_FROM_EMAIL = "mend@mend.example"
    name_program(cast.program, "Bien-être, Nord")
    cast.program.refresh_from_db()
    message = mail.EmailMessage("s", "b", site_name.from_email_of(cast.program), [EMAIL]).message()
    assert parseaddr(str(message["From"]))[1] == "mend@mend.example"


def test_it_reads_nothing_until_a_template_shows_the_name(cast, rf):
    request = rf.get("/")
    request.user = cast.harmed.user
    name_program(cast.program, NEUTRAL)
    with CaptureQueriesContext(connection) as queries:
        context = site_name_processor(request)
    assert len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        assert str(context["site_name"]) == NEUTRAL
        assert f"{context['site_name']}" == NEUTRAL
    assert len(queries) == 1, "read once, then kept"


def _page_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("who", "path"), [("harmed", "case"), ("facilitator", "/"), ("facilitator", "/cases/")]
)
def test_a_page_takes_at_most_one_more_query(cast, settings, who, path):
    name_program(cast.program, NEUTRAL)
    path = f"/cases/{cast.case.reference}/" if path == "case" else path
    client = cast.client(who)
    _page_queries(client, path)  # warm: the session's first reads
    with_name = _page_queries(client, path)
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["context_processors"].remove(PROCESSOR)
    settings.TEMPLATES = templates
    _page_queries(client, path)
    without = _page_queries(client, path)
    assert without < with_name <= without + 1


def test_the_field_stops_typing_at_the_length_the_service_allows(cast):
    page = cast.client("admin").get(words_page(cast)).content.decode()
    assert f'name="site_name" maxlength="{site_name.MAX_LENGTH}"' in page
    assert site_name.MAX_LENGTH == Program._meta.get_field("site_name").max_length == 60
