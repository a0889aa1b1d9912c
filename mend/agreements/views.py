"""Agreement pages, under /cases/<reference>/agreement/: thin views (parse, access, one service, respond)."""

import functools
import json

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST

from mend.agreements import access, commitments, contexts, exports, forms, names, services
from mend.agreements.models import Commitment
from mend.core import at_rest, edges
from mend.dialogue import services as dialogue_services
from mend.dialogue.models import Conversation


def _one_key_read(view):
    """A page that shows many sealed rows of its case (items, payments, signatures) reads the case's data
    key once for the request, not once per row; the key is dropped when the response is made."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        with at_rest.key_cache():
            return view(request, *args, **kwargs)

    return wrapped


def _home(reference: str):
    return redirect("agreements:home", reference=reference)


def _to_version(reference: str, number):
    return redirect("agreements:version", reference=reference, number=number)


def _to_item(reference: str, uid):
    return redirect("agreements:item", reference=reference, uid=uid)


def _version_page(request, viewer, version, **forms_shown):
    """The version page shown again with the form that did not go through."""
    context = contexts.version_context(viewer, version, **forms_shown)
    return render(request, "agreements/version.html", context, status=400)


# --- the agreement's page ---------------------------------------------------------------------------------


@require_GET
@_one_key_read
def home(request, reference):
    viewer = access.access_agreement_viewer(request.user, reference)
    return render(request, "agreements/home.html", contexts.home_context(viewer))


# --- drafting (facilitators) ------------------------------------------------------------------------------


@require_POST
def draft_start(request, reference):
    viewer = access.access_facilitator(request.user, reference)
    outcome = edges.flash(request, lambda: services.agreement_draft(actor=request.user, case=viewer.case))
    if not outcome.ok:
        return _home(reference)
    return _to_version(reference, outcome.value.number)


@require_POST
@_one_key_read
def draft_terms(request, reference, number):
    viewer = access.access_facilitator(request.user, reference)
    version = access.access_version(viewer, number)
    form = forms.TermsForm(request.POST)
    save = lambda data: services.version_terms_save(actor=request.user, version=version, terms=data["terms"])  # noqa: E731
    if edges.submit(request, form, save).ok:
        messages.success(request, _("The shared terms are saved."))
        return _to_version(reference, number)
    return _version_page(request, viewer, version, terms_form=form)


def _item_save(request, viewer, version, form):
    """The item form's fields, with its owner looked up in the case, handed to the service."""

    def save(data):
        owner = contexts.participant_of(viewer.case, data["owner"])
        owed_to = contexts.participant_of(viewer.case, data["owed_to"]) if data.get("owed_to") else None
        fields = {k: data[k] for k in ("kind", "description", "due_on", "verification")}
        return services.item_save(
            actor=request.user,
            version=version,
            owner=owner,
            owed_to=owed_to,
            details=form.details(),
            **fields,
        )

    return save


@require_POST
@_one_key_read
def draft_item(request, reference, number):
    viewer = access.access_facilitator(request.user, reference)
    version = access.access_version(viewer, number)
    form = forms.ItemForm(
        request.POST, owners=contexts.owners(viewer.case), owed=contexts.owed_choices(viewer.case)
    )
    if edges.submit(request, form, _item_save(request, viewer, version, form)).ok:
        messages.success(request, _("The item is added."))
        return _to_version(reference, number)
    return _version_page(request, viewer, version, item_form=form)


@require_POST
def draft_item_remove(request, reference, number, uid):
    viewer = access.access_facilitator(request.user, reference)
    version = access.access_version(viewer, number)
    edges.flash(request, lambda: services.item_remove(actor=request.user, version=version, uid=uid))
    return _to_version(reference, number)


@require_POST
def version_open(request, reference, number):
    viewer = access.access_facilitator(request.user, reference)
    version = access.access_version(viewer, number)
    edges.flash(
        request,
        lambda: services.version_open(actor=request.user, version=version),
        success=_("The parties can now read and sign this version."),
    )
    return _to_version(reference, number)


@require_POST
def version_withdraw(request, reference, number):
    viewer = access.access_facilitator(request.user, reference)
    version = access.access_version(viewer, number)
    edges.flash(request, lambda: services.version_withdraw(actor=request.user, version=version))
    return _to_version(reference, number)


# --- one version: reading, signing, declining ---------------------------------------------------------


@require_GET
@_one_key_read
def version(request, reference, number):
    viewer = access.access_agreement_viewer(request.user, reference)
    version = access.access_version(viewer, number)
    return render(request, "agreements/version.html", contexts.version_context(viewer, version))


@require_POST
@_one_key_read
def version_sign(request, reference, number):
    viewer = access.access_party(request.user, reference)
    version = access.access_version(viewer, number)
    form = forms.SignForm(request.POST)

    def sign(data):
        fields = {k: data[k] for k in ("typed_name", "key_id", "signature")}
        return services.version_sign(actor=request.user, place=viewer.place, version=version, **fields)

    if edges.submit(request, form, sign).ok:
        messages.success(request, _("Thank you. Your signature is recorded."))
        return _to_version(reference, number)
    return _version_page(request, viewer, version, sign_form=form)


DECLINED = gettext_noop(
    "You chose not to sign. That is all right. Your facilitator will talk with you about what could change."
)


@require_POST
def version_decline(request, reference, number):
    viewer = access.access_party(request.user, reference)
    version = access.access_version(viewer, number)
    edges.flash(
        request,
        lambda: services.version_decline(actor=request.user, place=viewer.place, version=version),
        success=_(DECLINED),
    )
    return _to_version(reference, number)


# --- exports ----------------------------------------------------------------------------------------------


@require_GET
@_one_key_read
def version_pdf(request, reference, number):
    viewer = access.access_agreement_viewer(request.user, reference)
    version = access.access_version(viewer, number)
    who, seen = names.names_and_visible(viewer)
    response = HttpResponse(
        exports.agreement_pdf(version, names=who, seen=seen), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{exports.pdf_filename(version)}"'
    return response


@require_GET
@_one_key_read
def calendar(request, reference):
    viewer = access.access_agreement_viewer(request.user, reference)
    if not (viewer.staff or viewer.party):
        raise access.Http404
    agreement = access.access_agreement(viewer)
    body = exports.agreement_ics(
        agreement,
        items=contexts.calendar_items(viewer, agreement),
        check_ins=contexts.calendar_check_ins(viewer, agreement),
        program_tz=viewer.case.program.time_zone,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.ics_filename(agreement)}"'
    return response


# --- carrying it out ----------------------------------------------------------------------------------


@require_GET
@_one_key_read
def item(request, reference, uid):
    viewer = access.access_agreement_viewer(request.user, reference)
    commitment = access.access_commitment(viewer, uid)
    found, state = access.access_item(viewer, commitment)
    support = None
    if viewer.party and found.owner_id == viewer.place.pk:
        # The owner's page seals evidence to their conversation with their facilitators: the dialogue's
        # service opens it the first time it is needed (this GET, as before).
        support = dialogue_services.conversation_open(
            case=viewer.case, kind=Conversation.Kind.SUPPORT, party=viewer.place
        )
    context = contexts.item_context(viewer, commitment, found, state, support)
    return render(request, "agreements/item.html", context)


UNREADABLE_EVIDENCE = gettext_noop("The evidence could not be read. Please try again.")


@require_POST
def item_evidence(request, reference, uid):
    """The owner marks the item done; the body is the evidence envelope, sealed in their browser."""
    viewer = access.access_party(request.user, reference)
    commitment = access.access_commitment(viewer, uid)
    try:
        envelope = json.loads(request.body or b"")
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any envelope
        envelope = None
    if not isinstance(envelope, dict):
        return JsonResponse({"error": _(UNREADABLE_EVIDENCE)}, status=400)
    outcome = edges.attempt(
        lambda: commitments.commitment_submit(
            actor=request.user, place=viewer.place, commitment=commitment, envelope=envelope
        )
    )
    if outcome.error is not None:
        return edges.json_refusal(outcome.error, code="")
    # Where the item stands now: a retry of evidence already sent does not change it.
    evidence = outcome.value
    return JsonResponse({"ok": True, "id": evidence.message.message_id, "state": evidence.commitment.state})


@require_GET
def item_evidence_frames(request, reference, uid):
    """The evidence messages as frames, for the owner's and the facilitators' browsers to open."""
    viewer = access.access_agreement_viewer(request.user, reference)
    commitment = access.access_commitment(viewer, uid)
    found, _state = access.access_item(viewer, commitment)
    if not access.sees_evidence(viewer, found):
        raise access.Http404
    return JsonResponse({"frames": contexts.evidence_frames(commitment, request.user)})


def _facilitator_commitment(request, reference, uid) -> Commitment:
    viewer = access.access_facilitator(request.user, reference)
    return access.access_commitment(viewer, uid)


@require_POST
def item_verify(request, reference, uid):
    commitment = _facilitator_commitment(request, reference, uid)
    edges.flash(
        request,
        lambda: commitments.commitment_verify(actor=request.user, commitment=commitment),
        success=_("The item is marked done and checked."),
    )
    return _to_item(reference, uid)


def _flash_form(request, form, call, *, success: str, invalid: str) -> None:
    """A small form posted from a page that then reloads: its refusal, or what was wrong, is flashed."""
    if form.is_valid():
        edges.flash(request, lambda: call(form.cleaned_data), success=success)
    else:
        messages.error(request, invalid)


@require_POST
def item_ask_more(request, reference, uid):
    commitment = _facilitator_commitment(request, reference, uid)
    _flash_form(
        request,
        forms.AskMoreForm(request.POST),
        lambda data: commitments.commitment_ask_more(
            actor=request.user, commitment=commitment, note=data["note"]
        ),
        success=_("Your note is saved for the person to read."),
        invalid=_("Write what more is needed, in up to 2000 characters."),
    )
    return _to_item(reference, uid)


@require_POST
def item_payment(request, reference, uid):
    commitment = _facilitator_commitment(request, reference, uid)
    _flash_form(
        request,
        forms.PaymentForm(request.POST),
        lambda data: commitments.payment_record(
            actor=request.user, commitment=commitment, **{k: data[k] for k in ("amount", "paid_on", "note")}
        ),
        success=_("The payment is recorded."),
        invalid=_("Give the amount and the day it was paid."),
    )
    return _to_item(reference, uid)


# --- follow-up and the end ------------------------------------------------------------------------------


@require_POST
def check_in_add(request, reference):
    viewer = access.access_facilitator(request.user, reference)
    agreement = access.access_agreement(viewer)

    def schedule(data):
        person = contexts.participant_of(viewer.case, data["with_participant"])
        return commitments.checkin_schedule(
            actor=request.user,
            agreement=agreement,
            kind=data["kind"],
            with_participant=person,
            due_on=data["due_on"],
        )

    _flash_form(
        request,
        forms.CheckInForm(request.POST, people=contexts.owners(viewer.case)),
        schedule,
        success=_("It is in the follow-up plan."),
        invalid=_("Choose the kind, the person and a day."),
    )
    return _home(reference)


@require_POST
def check_in_done(request, reference, check_in_id):
    viewer = access.access_facilitator(request.user, reference)
    access.access_agreement(viewer)
    check_in = access.access_check_in(viewer, check_in_id)
    form = forms.CheckInDoneForm(request.POST)
    _flash_form(
        request,
        form,
        lambda data: commitments.checkin_done(actor=request.user, check_in=check_in, notes=data["notes"]),
        success="",
        invalid=_("The notes can be at most 2000 characters."),
    )
    return _home(reference)


@require_POST
def close(request, reference):
    viewer = access.access_facilitator(request.user, reference)
    agreement = access.access_agreement(viewer)
    form = forms.OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how the agreement ended."))
        return _home(reference)
    close_it = lambda: commitments.agreement_close(  # noqa: E731
        actor=request.user, agreement=agreement, outcome=form.cleaned_data["outcome"]
    )
    if not edges.flash(request, close_it, success=_("The case is closed with its outcome.")).ok:
        return _home(reference)
    return redirect("cases:detail", reference=reference)
