"""Bare Django views that `make bench` measures Mend's own pages and API against. They answer without
sign-in and show nothing private: only mounted with MEND_BENCH=1, which mend.env refuses off a local host."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from mend.cases.models import Case

# The shape and size of a page of the API's case list, made once: the baseline does no work per call.
_PAGE = {
    "items": [
        {
            "reference": f"C-BNCH-{i:04d}",
            "program_id": 1,
            "harm_category": "online_harassment",
            "jurisdictions": ["NZ"],
            "referral_source": "self",
            "stage": "preparation",
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-02T00:00:00Z",
            "facilitators": [{"pseudonym": "Bench Facilitator", "role": "facilitator"}],
        }
        for i in range(25)
    ],
    "count": 1000,
    "count_is_exact": False,
    "older": "MTczNTc3NjAwMDAwMDAwMC4xMjM0NTY",
    "newer": None,
}


@login_not_required
@require_GET
def bare_json(request):
    """The `api` baseline: a JsonResponse and nothing else."""
    return JsonResponse(_PAGE)


@login_not_required
@require_GET
def bare_row(request):
    """The `page` baseline: one row read with the ORM, as a small page that shows nothing of it."""
    row = Case.objects.order_by("pk").values_list("reference", "stage").first()
    return HttpResponse(f"<!DOCTYPE html><title>row</title><p>{len(row or ())} fields read</p>")
