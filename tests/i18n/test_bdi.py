from django.template import Context, Template


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
