"""Names and codes inside sentences: `{{ place.pseudonym|bdi }}` isolates their direction, so that a Latin
pseudonym in an Arabic sentence (or an Arabic one in an English sentence) keeps the words around it in
order."""

from django import template
from django.utils.html import format_html

from mend.core import i18n

register = template.Library()


@register.filter
def bdi(value) -> str:
    if value in (None, ""):
        return ""
    return i18n.isolate(value)


@register.filter
def money(value, currency: str = "") -> str:
    """An amount in the reader's number format (grouped, two decimals: 1,234.50 in English, 1.234,50 in
    Spanish), with its ISO currency code isolated beside it."""
    if value in (None, ""):
        return ""
    amount = i18n.amount(value)
    return format_html("{} <bdi>{}</bdi>", amount, currency) if currency else amount
