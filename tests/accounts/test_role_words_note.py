"""The program words page says, for a language whose sentences put an article before a role word (Spanish
and French: "la persona afectada"), how a program's own words sit in them."""

import pytest

from tests.accounts.test_site_name import words_page


@pytest.mark.parametrize(
    ("language", "note"),
    [
        ("es", "In Spanish, Mend puts these words after “la” or “una”"),
        ("fr", "In French, Mend puts these words after “la” or “une”"),
        ("en", None),
        ("ar", None),
    ],
)
def test_the_words_page_says_how_the_words_sit_in_a_sentence_where_an_article_comes_first(
    cast, language, note
):
    page = cast.client("admin").get(f"{words_page(cast)}?language={language}").content.decode()
    if note:
        assert note in page and 'data-testid="words-note"' in page
    else:
        assert 'data-testid="words-note"' not in page
