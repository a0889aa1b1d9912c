"""mend.core.edges.submit for the meeting and circle forms whose pages show a refusal that names no field
of theirs above the form (`refusal`, data-testid="refusal"), not as one of the form's own errors."""

from collections.abc import Callable
from typing import Any

from mend.core import edges


def submit(
    request, form, call: Callable[[dict], Any], *, fields: dict | None = None
) -> tuple[edges.Outcome, str]:
    """On a POST whose form is valid, runs `call(form.cleaned_data)`. A refusal goes onto the field it names
    (through `fields`, the service's field name -> the form's, when they differ); one that names no field of
    the form is returned as the page's refusal. Nothing runs on a GET or an invalid form."""
    if request.method != "POST" or not form.is_valid():
        return edges.NOT_RUN, ""
    outcome = edges.attempt(lambda: call(form.cleaned_data))
    error = outcome.error
    if error is None:
        return outcome, ""
    field = (fields or {}).get(error.field, error.field)
    if field in form.fields:
        form.add_error(field, error.message)
        return outcome, ""
    return outcome, error.message
