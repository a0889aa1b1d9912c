"""The language switcher at the foot of every page: a plain form, so that it works without JavaScript."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from mend.accounts import services
from mend.core import i18n
from mend.core.errors import DomainError


@login_not_required
@require_POST
def language(request):
    """Remembers the choice for this browser (a cookie) and, for a signed-in person, on their account."""
    code = request.POST.get("language", "")
    try:
        if request.user.is_authenticated:
            services.user_language_set(user=request.user, language=code)
        else:
            i18n.chosen(code)
    except DomainError as error:
        messages.error(request, error.message)
    return set_language(request)
