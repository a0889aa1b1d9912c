"""A person's own data-rights pages: deleting their information, with a calm confirm step."""

from django.contrib.auth import logout
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from mend.cases import access
from mend.core.errors import DomainError
from mend.keystore import forms, rights


@require_http_methods(["GET", "POST"])
def delete_own(request, reference):
    case = access.access_case(request.user, reference)
    place = access.access_own_taking_part(request.user, case)
    form = forms.DeleteOwnForm(request.POST if request.method == "POST" else None)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            rights.participant_data_delete(actor=request.user, place=place)
        except DomainError as error:
            form.add_error(None, error.message)
            status = error.status
        else:
            # The account is closed with the place: this page is the last one, signed out.
            logout(request)
            return render(request, "keystore/deleted.html")
    context = {"case": case, "place": place, "form": form, "role_word": case.program.word_for(place.role)}
    return render(request, "keystore/delete_own.html", context, status=status)
