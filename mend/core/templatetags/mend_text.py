"""Names and codes inside sentences: `{{ place.pseudonym|bdi }}` isolates their direction, so that a Latin
pseudonym in an Arabic sentence (or an Arabic one in an English sentence) keeps the words around it in
order."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def bdi(value) -> str:
    if value in (None, ""):
        return ""
    return format_html("<bdi>{}</bdi>", value)
