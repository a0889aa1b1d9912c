from django.template import Context, Template
from django.utils import translation

from mend.cases import notices
from mend.cases.models import Notice


def render(text: str, **context) -> str:
    return Template("{% load mend_text %}" + text).render(Context(context))


def test_a_name_is_isolated_and_escaped():
    assert render("{{ name|bdi }}", name="<Heron>") == "<bdi>&lt;Heron&gt;</bdi>"


def test_nothing_is_left_empty():
    assert render("[{{ name|bdi }}]", name="") == "[]"


def test_a_name_inside_a_translated_sentence_stays_isolated():
    rendered = render(
        "{% load i18n %}{% blocktranslate with name=name|bdi %}{{ name }} is ready to continue."
        "{% endblocktranslate %}",
        name="هيرون",
    )
    assert rendered == "<bdi>هيرون</bdi> is ready to continue."


def test_an_amount_is_in_the_readers_number_format_with_its_currency_isolated():
    with translation.override("en"):
        assert render("{{ v|money:'NZD' }}", v="1234.5") == "1,234.50 <bdi>NZD</bdi>"
    with translation.override("es"):
        assert render("{{ v|money:'EUR' }}", v="1234.5") == "1\xa0234,50 <bdi>EUR</bdi>"
    with translation.override("ar"):
        assert render("{{ v|money }}", v="1234.5") == "1234,50"


def test_what_is_not_a_number_is_shown_as_it_was_written():
    assert render("{{ v|money:'NZD' }}", v="about 100") == "about 100 <bdi>NZD</bdi>"


def test_a_name_in_a_notice_is_escaped_and_isolated(cast):
    cast.harmed.pseudonym = "<b>هيرون</b>"
    cast.harmed.save(update_fields=["pseudonym"])
    notices.stepped_back(case=cast.case, who=cast.harmed)
    notice = Notice.objects.filter(kind=Notice.Kind.SUPPORT_PROMPT, about=cast.harmed).latest("pk")
    with translation.override("en"):
        assert notices.text_of(notice) == (
            "<bdi>&lt;b&gt;هيرون&lt;/b&gt;</bdi> has stepped back for now. "
            "You may want to offer them support."
        )
    page = cast.client("facilitator").get("/").content.decode()
    assert "<bdi>&lt;b&gt;هيرون&lt;/b&gt;</bdi> has stepped back" in page
    assert f"<bdi>{cast.case.reference}</bdi></a>:" in page
