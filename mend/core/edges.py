"""The one way a page or endpoint runs a service and turns its refusal (a `DomainError`) into a 4xx.

Views used to write the same `try/except DomainError` in some sixty places, each choosing where the
message went; here the three places it can go are written once: onto a form's field, into a flash
message, or into a JSON answer. Status codes and messages are the service's own.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import JsonResponse

from mend.core.errors import DomainError


@dataclass(frozen=True)
class Outcome:
    """What running a service gave: its value, or the refusal; `ran` is False when nothing was tried
    (a GET, or a form that did not validate)."""

    value: Any = None
    error: DomainError | None = None
    ran: bool = True

    @property
    def ok(self) -> bool:
        return self.ran and self.error is None

    @property
    def status(self) -> int:
        """The page's status: the refusal's own, else 400 for a submission that did not go through."""
        return self.error.status if self.error is not None else (200 if self.ok else 400)


NOT_RUN = Outcome(ran=False)


def attempt(call: Callable[[], Any]) -> Outcome:
    """Runs `call`; a refusal is kept in the outcome instead of raised."""
    try:
        return Outcome(value=call())
    except DomainError as error:
        return Outcome(error=error)


def field_for(form, error: DomainError, default: str | None = None) -> str | None:
    """The form field the refusal names, when the form has it; else `default` (None: the whole form)."""
    return error.field if error.field in form.fields else default


def refuse_into(form, error: DomainError, *, field: str | None = None) -> None:
    form.add_error(field_for(form, error, field), error.message)


def submit(request, form, call: Callable[[dict], Any], *, field: str | None = None) -> Outcome:
    """On a POST whose form is valid, runs `call(form.cleaned_data)`; a refusal goes onto the field it
    names (or `field`, or the whole form). Nothing runs on a GET or an invalid form."""
    if request.method != "POST" or not form.is_valid():
        return NOT_RUN
    outcome = attempt(lambda: call(form.cleaned_data))
    if outcome.error is not None:
        refuse_into(form, outcome.error, field=field)
    return outcome


def form_status(request, outcome: Outcome | None = None) -> int:
    """200 for a page shown, 400 for a submission shown again (unless the refusal carries its own)."""
    if outcome is not None and outcome.error is not None:
        return outcome.error.status
    return 400 if request.method == "POST" else 200


def flash(request, call: Callable[[], Any], *, success: str = "", level: int = messages.ERROR) -> Outcome:
    """Runs `call`; a refusal becomes a flash message (an error unless `level` says otherwise), and
    `success`, when given, is flashed when it went through."""
    outcome = attempt(call)
    if outcome.error is not None:
        messages.add_message(request, level, outcome.error.message)
    elif success:
        messages.success(request, success)
    return outcome


def json_refusal(error: DomainError, *, status: int | None = None, code: str | None = None) -> JsonResponse:
    """The JSON answer for a refusal: `{"error": message}` with the refusal's status; `code`, when given,
    is the default for a refusal that carries no code of its own."""
    body = {"error": error.message}
    if code is not None:
        body["code"] = getattr(error, "code", code)
    return JsonResponse(body, status=status or error.status)
