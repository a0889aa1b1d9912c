"""`site_name` for every template: the name the page's title and header show instead of "Mend"."""

from django.utils.functional import SimpleLazyObject

from mend.accounts.site_name import site_name_for


def site_name(request):
    # Lazy and kept once read: no query for a response that never shows it, one for a page that does.
    user = getattr(request, "user", None)
    return {"site_name": SimpleLazyObject(lambda: site_name_for(user))}
