"""The page title's "Error:" when a form on the page came back with something to fix, so that the first
thing a screen reader says on arrival (the title) already tells the person. Used by base.html:
`<title>{% error_title_prefix %}{% block title %}…{% endblock %}</title>`; the title is rendered before the
page's content, so this looks at the forms the view handed over, not at what the content renders."""

from django import template
from django.forms import BaseForm
from django.utils.translation import gettext as _

register = template.Library()


def form_has_errors(context) -> bool:
    """True when the view set `form_has_errors`, or handed over a bound form that has errors."""
    values = context.flatten().values()
    if context.get("form_has_errors"):
        return True
    return any(isinstance(value, BaseForm) and value.is_bound and value.errors for value in values)


@register.simple_tag(takes_context=True)
def error_title_prefix(context) -> str:
    # Translators: the start of a page's title when a form on it needs fixing, as in "Error: Sign in · Mend".
    return _("Error:") + " " if form_has_errors(context) else ""
