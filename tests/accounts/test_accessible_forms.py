"""Accessibility that axe cannot see, on the server-rendered forms (includes/form.html): help text and errors
read out with their field, radio and checkbox groups named by a legend, one field per id, and a failed send
that opens with an error summary and says "Error:" in the title."""

from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from django.test import Client

from mend.cases import services as case_services
from mend.cases.forms import InviteForm
from mend.cases.models import Role

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: "Node | None"):
        self.tag, self.attrs, self.parent, self.children, self.parts = tag, attrs, parent, [], []

    def text(self) -> str:
        return " ".join(" ".join([*self.parts, *(child.text() for child in self.children)]).split())

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def ancestor(self, tag: str) -> "Node | None":
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node


class Page(HTMLParser):
    """Just enough of a DOM to follow ids, labels and fieldsets."""

    def __init__(self, html: str):
        super().__init__()
        self.root = self.current = Node("#document", {}, None)
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.parts.append(data)

    def all(self, tag: str | None = None, **attrs) -> list[Node]:
        return [
            node
            for node in self.root.walk()
            if (tag is None or node.tag == tag) and all(node.attrs.get(k) == v for k, v in attrs.items())
        ]

    def by_id(self, id_: str) -> Node:
        found = [node for node in self.root.walk() if node.attrs.get("id") == id_]
        assert len(found) == 1, f"{len(found)} elements with id {id_!r}"
        return found[0]

    def field(self, name: str) -> Node:
        found = [
            n
            for n in self.root.walk()
            if n.tag in ("input", "select", "textarea") and n.attrs.get("name") == name
        ]
        assert found, f"no field named {name}"
        return found[0]

    def described_by(self, node: Node) -> str:
        return " ".join(self.by_id(id_).text() for id_ in node.attrs.get("aria-describedby", "").split())

    def title(self) -> str:
        return self.all("title")[0].text()


def page_of(response) -> Page:
    return Page(response.content.decode())


def join_page(cast) -> Page:
    _invitation, raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role="interpreter"
    )
    response = Client().get(f"/join/{raw}/")
    assert response.status_code == 200
    return page_of(response)


def case_url(cast, rest: str = "") -> str:
    return f"/cases/{cast.case.reference}/{rest}"


# Help text ---------------------------------------------------------------------------------------------


def test_it_reads_help_text_out_with_its_field(cast):
    page = join_page(cast)
    pseudonym = page.field("pseudonym")
    assert pseudonym.attrs["aria-describedby"] == "id_pseudonym_helptext"
    assert page.described_by(pseudonym) == "Pick any name. It does not need to be your real name."
    assert "Your facilitator can arrange an interpreter." in page.described_by(
        page.field("preferred_language")
    )


def test_it_gives_every_described_field_a_description_that_exists(cast):
    for page in (join_page(cast), page_of(cast.client("facilitator").get(case_url(cast)))):
        for node in page.root.walk():
            for id_ in node.attrs.get("aria-describedby", "").split():
                page.by_id(id_)  # exactly one element answers each id


# Errors tied to their field ------------------------------------------------------------------------------


def test_it_ties_an_error_to_its_field_and_marks_the_field_invalid(cast):
    response = cast.client("facilitator").post(
        case_url(cast, "invite/"), {"invite-role": "harmed_party", "invite-expires_in_days": "0"}
    )
    assert response.status_code == 400
    page = page_of(response)
    days = page.field("invite-expires_in_days")
    assert days.attrs.get("aria-invalid") == "true"
    assert "id_invite-expires_in_days_error" in days.attrs["aria-describedby"].split()
    assert page.described_by(days).startswith("Ensure this value is greater than or equal to 1.")
    assert "aria-invalid" not in page.field("invite-role").attrs


def test_it_names_each_of_several_errors_once_beside_its_field(cast):
    response = cast.client("harmed").post(case_url(cast, "choices/"), {"progress_every_weeks": ""})
    page = page_of(response)
    for name in ("mode", "progress_updates"):
        error = page.by_id(f"id_{name}_error")
        assert error.text() == "This field is required."


# Radio and checkbox groups -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "path", "name", "legend"),
    [
        ("harmed", "choices/", "mode", "How do you want to take part?"),
        (
            "harmed",
            "choices/",
            "progress_updates",
            "How do you want to hear about the other person's progress?",
        ),
        ("facilitator", "people/{harmed}/assessment/", "outcome", "Outcome"),
        ("facilitator", "sessions/new/", "attendees", "Who attends"),
    ],
)
def test_it_puts_a_group_of_choices_in_a_fieldset_named_by_its_legend(cast, who, path, name, legend):
    response = cast.client(who).get(case_url(cast, path.format(harmed=cast.harmed.pk)))
    assert response.status_code == 200
    page = page_of(response)
    choices = [n for n in page.root.walk() if n.tag == "input" and n.attrs.get("name") == name]
    assert choices
    groups = {id(choice.ancestor("fieldset")) for choice in choices}
    assert len(groups) == 1 and choices[0].ancestor("fieldset") is not None
    fieldset = choices[0].ancestor("fieldset")
    assert fieldset.children[0].tag == "legend"
    assert fieldset.children[0].text().rstrip(":") == legend


def test_a_group_with_an_error_is_described_by_it(cast):
    page = page_of(cast.client("harmed").post(case_url(cast, "choices/"), {"progress_updates": "never"}))
    fieldset = page.field("mode").ancestor("fieldset")
    assert page.described_by(fieldset) == "This field is required."
    assert all(
        n.attrs.get("aria-invalid") == "true" for n in page.all("input") if n.attrs.get("name") == "mode"
    )


# One field per id: the invite and assign forms -----------------------------------------------------------


def test_it_gives_every_id_on_the_staff_case_page_once(cast):
    page = page_of(cast.client("coordinator").get(case_url(cast)))
    ids = [node.attrs["id"] for node in page.root.walk() if "id" in node.attrs]
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


def test_it_labels_the_invite_and_assign_roles_each_with_its_own_words(cast):
    page = page_of(cast.client("coordinator").get(case_url(cast)))
    labels = {label.attrs.get("for"): label.text() for label in page.all("label")}
    assert labels[page.field("invite-role").attrs["id"]] == "Who are you inviting?"
    assign_role = page.field("assign-role")
    assert labels[assign_role.attrs["id"]] != "Who are you inviting?"


def test_it_still_invites_from_the_prefixed_form(cast):
    response = cast.client("facilitator").post(
        case_url(cast, "invite/"), {"invite-role": "community_member", "invite-expires_in_days": "3"}
    )
    assert response.status_code == 302
    assert cast.case.participants.filter(role=Role.COMMUNITY_MEMBER).exists()


# The error summary and the title -------------------------------------------------------------------------


def test_a_failed_post_opens_with_a_summary_that_takes_focus_and_links_each_field(cast):
    sent = {"progress_updates": "every_n_weeks", "progress_every_weeks": "0"}
    response = cast.client("harmed").post(case_url(cast, "choices/"), sent)
    assert response.status_code == 400
    page = page_of(response)
    [summary] = page.all("div", **{"data-error-summary": ""})
    assert summary.attrs["tabindex"] == "-1"
    assert summary.children[0].tag == "h2" and summary.children[0].text() == "There are 2 things to fix"
    links = {a.attrs["href"]: a.text() for a in summary.walk() if a.tag == "a"}
    assert links["#id_mode_0"] == "How do you want to take part? This field is required."
    assert links["#id_progress_every_weeks"].startswith("If a summary: every how many weeks? Ensure")
    for href in links:
        page.by_id(href[1:])  # each link leads to a field on the page
    # The module that moves focus there (no inline script: the Content Security Policy allows none).
    assert any(s.attrs.get("src", "").endswith("mend/error-summary.js") for s in page.all("script"))


def test_a_summary_says_when_there_is_one_thing_to_fix(cast):
    page = page_of(
        cast.client("facilitator").post(case_url(cast, "invite/"), {"invite-expires_in_days": "7"})
    )
    [summary] = page.all("div", **{"data-error-summary": ""})
    assert summary.children[0].text() == "There is 1 thing to fix"


def test_a_page_that_shows_its_form_cleanly_has_no_summary_and_no_error_title(cast):
    response = cast.client("harmed").get(case_url(cast, "choices/"))
    page = page_of(response)
    assert page.all("div", **{"data-error-summary": ""}) == []
    assert not page.title().startswith("Error")


def test_a_failed_post_puts_error_first_in_the_title(cast):
    page = page_of(cast.client("harmed").post(case_url(cast, "choices/"), {"progress_every_weeks": ""}))
    assert page.title().startswith("Error: ")
    assert page.title() == "Error: Your choices · Mend"


def test_the_title_prefix_follows_bound_forms_with_errors_only():
    template = Template("{% load mend_forms %}[{% error_title_prefix %}]")
    assert template.render(Context({"form": InviteForm(parties=[], role_words=str)})) == "[]"
    bad = InviteForm({"role": "queen"}, parties=[], role_words=str)
    assert template.render(Context({"invite_form": bad})) == "[Error: ]"
    good = InviteForm({"role": "harmed_party", "expires_in_days": "7"}, parties=[], role_words=str)
    assert template.render(Context({"form": good})) == "[]"
    assert template.render(Context({"form_has_errors": True})) == "[Error: ]"
