"""A person's own data-rights pages: downloading their information (opened in their browser), and
deleting it, with a calm confirm step."""

from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from mend.cases import access
from mend.core import edges
from mend.rights import export, forms
from mend.rights import services as rights


@require_http_methods(["GET", "POST"])
def delete_own(request, reference):
    case = access.access_case(request.user, reference)
    place = access.access_own_taking_part(request.user, case)
    form = forms.DeleteOwnForm(request.POST if request.method == "POST" else None)
    outcome = edges.submit(
        request, form, lambda _data: rights.participant_data_delete(actor=request.user, place=place)
    )
    if outcome.ok:
        # The account is closed with the place: this page is the last one, signed out.
        logout(request)
        return render(request, "rights/deleted.html")
    context = {"case": case, "place": place, "form": form, "role_word": case.program.word_for(place.role)}
    return render(request, "rights/delete_own.html", context, status=edges.form_status(request, outcome))


@require_http_methods(["GET"])
def my_information(request, reference):
    case = access.access_case(request.user, reference)
    place = access.access_own_taking_part(request.user, case)
    return render(request, "rights/my_information.html", {"case": case, "place": place})


@require_http_methods(["GET"])
def my_information_data(request, reference):
    """What the download is made of: the messages still encrypted, for the person's browser to open."""
    case = access.access_case(request.user, reference)
    place = access.access_own_taking_part(request.user, case)
    data = export.participant_data_export(place)
    rights.participant_data_exported(actor=request.user, place=place)
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
