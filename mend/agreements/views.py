"""Agreement pages, under /cases/<reference>/agreement/: thin views (parse, access, one service, respond)."""

import functools
import json

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mend.agreements import access, commitments, exports, forms, selectors, services
from mend.agreements.models import CheckIn, Commitment, Evidence, Item, Version
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES
from mend.core import at_rest
from mend.core.errors import DomainError
from mend.dialogue import selectors as dialogue_selectors
from mend.dialogue import services as dialogue_services
from mend.dialogue.models import Conversation


def _error_into(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _name(case, place) -> str:
    return place.pseudonym or case.program.word_for(place.role)


def _owners(case) -> list[tuple[int, str]]:
    places = case.participants.filter(removed_at__isnull=True, role__in=(*PARTY_ROLES, *FACILITATING_ROLES))
    return [(p.pk, f"{_name(case, p)} ({case.program.word_for(p.role)})") for p in places.order_by("pk")]


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


# --- the agreement's page ---------------------------------------------------------------------------------


@require_GET
@_one_key_read
def home(request, reference):
    viewer = access.access_agreement_viewer(request.user, reference)
    case = viewer.case
    agreement = selectors.agreement_of(case)
    versions = list(agreement.versions.order_by("-number")) if agreement else []
    if not viewer.staff:
        versions = [v for v in versions if v.state != Version.State.DRAFT]
    waiting = None
    if viewer.party:
        waiting = next((v for v in versions if v.state == Version.State.SIGNING), None)
        if waiting and waiting.signatures.filter(participant=viewer.place).exists():
            waiting = None
    context = {
        "case": case,
        "viewer": viewer,
        "agreement": agreement,
        "versions": versions if (viewer.staff or viewer.party) else [],
        "waiting": waiting,
        "board": selectors.board_for(viewer, agreement),
        "check_ins": list(agreement.check_ins.select_related("with_participant"))
        if agreement and viewer.staff
        else [],
        "check_in_form": forms.CheckInForm(people=_owners(case)) if viewer.facilitates else None,
        "outcome_form": forms.OutcomeForm()
        if viewer.facilitates and agreement and not agreement.outcome
        else None,
        "can_draft": viewer.facilitates and case.stage in services.DRAFTING_STAGES,
    }
    return render(request, "agreements/home.html", context)


# --- drafting (facilitators) ------------------------------------------------------------------------------


@require_POST
def draft_start(request, reference):
    viewer = access.access_facilitator(request.user, reference)
    try:
        version = services.agreement_draft(actor=request.user, case=viewer.case)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _home(reference)
    return redirect("agreements:version", reference=reference, number=version.number)


def _draft_version(viewer, number) -> Version:
    return access.access_version(viewer, number)


@require_POST
@_one_key_read
def draft_terms(request, reference, number):
    viewer = access.access_facilitator(request.user, reference)
    version = _draft_version(viewer, number)
    form = forms.TermsForm(request.POST)
    if form.is_valid():
        try:
            services.version_terms_save(actor=request.user, version=version, terms=form.cleaned_data["terms"])
        except DomainError as exc:
            _error_into(form, exc)
        else:
            messages.success(request, _("The shared terms are saved."))
            return redirect("agreements:version", reference=reference, number=number)
    return render(
        request, "agreements/version.html", _version_context(viewer, version, terms_form=form), status=400
    )


@require_POST
@_one_key_read
def draft_item(request, reference, number):
    viewer = access.access_facilitator(request.user, reference)
    version = _draft_version(viewer, number)
    form = forms.ItemForm(request.POST, owners=_owners(viewer.case))
    if form.is_valid():
        owner = viewer.case.participants.get(pk=form.cleaned_data["owner"])
        try:
            services.item_save(
                actor=request.user,
                version=version,
                kind=form.cleaned_data["kind"],
                description=form.cleaned_data["description"],
                owner=owner,
                due_on=form.cleaned_data["due_on"],
                verification=form.cleaned_data["verification"],
                details=form.details(),
            )
        except DomainError as exc:
            _error_into(form, exc)
        else:
            messages.success(request, _("The item is added."))
            return redirect("agreements:version", reference=reference, number=number)
    return render(
        request, "agreements/version.html", _version_context(viewer, version, item_form=form), status=400
    )


@require_POST
def draft_item_remove(request, reference, number, uid):
    viewer = access.access_facilitator(request.user, reference)
    version = _draft_version(viewer, number)
    try:
        services.item_remove(actor=request.user, version=version, uid=uid)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("agreements:version", reference=reference, number=number)


@require_POST
def version_open(request, reference, number):
    viewer = access.access_facilitator(request.user, reference)
    version = _draft_version(viewer, number)
    try:
        services.version_open(actor=request.user, version=version)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The parties can now read and sign this version."))
    return redirect("agreements:version", reference=reference, number=number)


@require_POST
def version_withdraw(request, reference, number):
    viewer = access.access_facilitator(request.user, reference)
    version = _draft_version(viewer, number)
    try:
        services.version_withdraw(actor=request.user, version=version)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("agreements:version", reference=reference, number=number)


# --- one version: reading, signing, declining ---------------------------------------------------------


def _version_context(viewer, version, *, terms_form=None, item_form=None, sign_form=None) -> dict:
    case = viewer.case
    frozen = bool(version.document_sha256)
    if frozen:
        document = json.loads(str(version.document)) if version.document else {"items": [], "terms": ""}
    else:
        document = services.build_document(version)
    names = {p.pk: _name(case, p) for p in case.participants.all()}
    kinds = dict(Item._meta.get_field("kind").choices)
    rows = [
        {**item, "owner_name": names.get(item["owner"], ""), "kind_label": kinds.get(item["kind"], "")}
        for item in document.get("items", [])
    ]
    answers = list(version.signatures.select_related("participant"))
    answered = {a.participant_id for a in answers}
    may_answer = (
        viewer.party
        and version.state == Version.State.SIGNING
        and viewer.place.pk not in answered
        and viewer.place.pk in {p["id"] for p in document.get("parties", [])}
    )
    editing = viewer.facilitates and version.state == Version.State.DRAFT
    return {
        "case": case,
        "viewer": viewer,
        "version": version,
        "document": document,
        "document_text": str(version.document) if frozen else "",
        "rows": rows,
        "items": list(version.items.all()) if editing else [],
        "answers": [
            {
                "answer": a,
                "name": names.get(a.participant_id, ""),
                "role": case.program.word_for(a.participant.role),
            }
            for a in answers
        ],
        "check": selectors.version_check(version),
        "may_answer": may_answer,
        "sign_form": sign_form or (forms.SignForm() if may_answer else None),
        "editing": editing,
        "terms_form": (terms_form or forms.TermsForm(initial={"terms": str(version.terms)}))
        if editing
        else None,
        "item_form": (item_form or forms.ItemForm(owners=_owners(case))) if editing else None,
    }


@require_GET
@_one_key_read
def version(request, reference, number):
    viewer = access.access_agreement_viewer(request.user, reference)
    version = access.access_version(viewer, number)
    return render(request, "agreements/version.html", _version_context(viewer, version))


@require_POST
@_one_key_read
def version_sign(request, reference, number):
    viewer = access.access_party(request.user, reference)
    version = access.access_version(viewer, number)
    form = forms.SignForm(request.POST)
    if form.is_valid():
        try:
            services.version_sign(
                actor=request.user,
                place=viewer.place,
                version=version,
                typed_name=form.cleaned_data["typed_name"],
                key_id=form.cleaned_data["key_id"],
                signature=form.cleaned_data["signature"],
            )
        except DomainError as exc:
            _error_into(form, exc)
        else:
            messages.success(request, _("Thank you. Your signature is recorded."))
            return redirect("agreements:version", reference=reference, number=number)
    context = _version_context(viewer, version, sign_form=form)
    return render(request, "agreements/version.html", context, status=400)


@require_POST
def version_decline(request, reference, number):
    viewer = access.access_party(request.user, reference)
    version = access.access_version(viewer, number)
    try:
        services.version_decline(actor=request.user, place=viewer.place, version=version)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "You chose not to sign. That is all right. "
                "Your facilitator will talk with you about what could change."
            ),
        )
    return redirect("agreements:version", reference=reference, number=number)


# --- exports ----------------------------------------------------------------------------------------------


@require_GET
@_one_key_read
def version_pdf(request, reference, number):
    viewer = access.access_agreement_viewer(request.user, reference)
    version = access.access_version(viewer, number)
    response = HttpResponse(exports.agreement_pdf(version), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{exports.pdf_filename(version)}"'
    return response


@require_GET
@_one_key_read
def calendar(request, reference):
    viewer = access.access_agreement_viewer(request.user, reference)
    if not (viewer.staff or viewer.party):
        raise access.Http404
    agreement = access.access_agreement(viewer)
    check_ins = list(CheckIn.objects.filter(agreement=agreement)) if viewer.staff else []
    body = exports.agreement_ics(
        agreement,
        items=selectors.items_in_force(agreement),
        check_ins=check_ins,
        program_tz=viewer.case.program.time_zone,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.ics_filename(agreement)}"'
    return response


# --- carrying it out ----------------------------------------------------------------------------------


def _item_of(commitment) -> Item | None:
    return next(
        (i for i in selectors.items_in_force(commitment.agreement) if i.uid == commitment.item_uid), None
    )


def _sees_evidence(viewer, item) -> bool:
    return viewer.facilitates or (viewer.party and item.owner_id == viewer.place.pk)


@require_GET
@_one_key_read
def item(request, reference, uid):
    viewer = access.access_agreement_viewer(request.user, reference)
    commitment = access.access_commitment(viewer, uid)
    found = _item_of(commitment)
    if found is None:
        raise access.Http404
    state = commitment.state
    if viewer.harmed and found.owner_id != viewer.place.pk:
        # The person harmed sees an item of the other side only as their status board shows it: not at
        # all with "never" or "only at the end", and otherwise only whether it is done and checked.
        if selectors.board_for(viewer, commitment.agreement)["shows"] != "verified":
            raise access.Http404
        if state != Commitment.State.VERIFIED:
            state = "not_yet"
    mine = viewer.party and found.owner_id == viewer.place.pk
    # The owner's evidence goes into their conversation with their facilitators, made when first needed.
    support = None
    if mine:
        support = dialogue_services.conversation_open(
            case=viewer.case, kind=Conversation.Kind.SUPPORT, party=viewer.place
        )
    ledger = (
        commitments.ledger_of(commitment, found)
        if found.kind == "restitution" and (viewer.staff or mine)
        else None
    )
    context = {
        "case": viewer.case,
        "viewer": viewer,
        "commitment": commitment,
        "state": state,
        "item": found,
        "owner_name": _name(viewer.case, found.owner),
        "mine": mine,
        "sees_evidence": _sees_evidence(viewer, found),
        "evidence_count": commitment.evidence.count(),
        "support": support,
        "ledger": ledger,
        "payments": list(commitment.payments.all()) if ledger else [],
        "ask_form": forms.AskMoreForm() if viewer.facilitates else None,
        "payment_form": forms.PaymentForm() if viewer.facilitates and found.kind == "restitution" else None,
    }
    return render(request, "agreements/item.html", context)


@require_POST
def item_evidence(request, reference, uid):
    """The owner marks the item done; the body is the evidence envelope, sealed in their browser."""
    viewer = access.access_party(request.user, reference)
    commitment = access.access_commitment(viewer, uid)
    try:
        envelope = json.loads(request.body or b"")
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any envelope
        return JsonResponse({"error": _("The evidence could not be read. Please try again.")}, status=400)
    if not isinstance(envelope, dict):
        return JsonResponse({"error": _("The evidence could not be read. Please try again.")}, status=400)
    try:
        evidence = commitments.commitment_submit(
            actor=request.user, place=viewer.place, commitment=commitment, envelope=envelope
        )
    except DomainError as exc:
        return JsonResponse({"error": exc.message, "code": getattr(exc, "code", "")}, status=exc.status)
    # Where the item stands now: a retry of evidence already sent does not change it.
    return JsonResponse({"ok": True, "id": evidence.message.message_id, "state": evidence.commitment.state})


@require_GET
def item_evidence_frames(request, reference, uid):
    """The evidence messages as frames, for the owner's and the facilitators' browsers to open."""
    viewer = access.access_agreement_viewer(request.user, reference)
    commitment = access.access_commitment(viewer, uid)
    found = _item_of(commitment)
    if found is None or not _sees_evidence(viewer, found):
        raise access.Http404
    rows = Evidence.objects.filter(
        commitment=commitment, message__recipients__user=request.user
    ).select_related("message__conversation__case__program", "message__ref")
    frames = []
    by_conversation = {}
    for row in rows.order_by("submitted_at", "pk"):
        by_conversation.setdefault(row.message.conversation_id, (row.message.conversation, []))[1].append(
            row.message
        )
    for conversation, batch in by_conversation.values():
        frames.extend(dialogue_selectors.frames_for(batch, conversation))
    return JsonResponse({"frames": frames})


def _facilitator_commitment(request, reference, uid):
    viewer = access.access_facilitator(request.user, reference)
    return viewer, access.access_commitment(viewer, uid)


@require_POST
def item_verify(request, reference, uid):
    _viewer, commitment = _facilitator_commitment(request, reference, uid)
    try:
        commitments.commitment_verify(actor=request.user, commitment=commitment)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The item is marked done and checked."))
    return redirect("agreements:item", reference=reference, uid=uid)


@require_POST
def item_ask_more(request, reference, uid):
    _viewer, commitment = _facilitator_commitment(request, reference, uid)
    form = forms.AskMoreForm(request.POST)
    if form.is_valid():
        try:
            commitments.commitment_ask_more(
                actor=request.user, commitment=commitment, note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your note is saved for the person to read."))
    else:
        messages.error(request, _("Write what more is needed, in up to 2000 characters."))
    return redirect("agreements:item", reference=reference, uid=uid)


@require_POST
def item_payment(request, reference, uid):
    _viewer, commitment = _facilitator_commitment(request, reference, uid)
    form = forms.PaymentForm(request.POST)
    if form.is_valid():
        try:
            commitments.payment_record(
                actor=request.user,
                commitment=commitment,
                amount=form.cleaned_data["amount"],
                paid_on=form.cleaned_data["paid_on"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The payment is recorded."))
    else:
        messages.error(request, _("Give the amount and the day it was paid."))
    return redirect("agreements:item", reference=reference, uid=uid)


# --- follow-up and the end ------------------------------------------------------------------------------


@require_POST
def check_in_add(request, reference):
    viewer = access.access_facilitator(request.user, reference)
    agreement = access.access_agreement(viewer)
    form = forms.CheckInForm(request.POST, people=_owners(viewer.case))
    if form.is_valid():
        try:
            commitments.checkin_schedule(
                actor=request.user,
                agreement=agreement,
                kind=form.cleaned_data["kind"],
                with_participant=viewer.case.participants.get(pk=form.cleaned_data["with_participant"]),
                due_on=form.cleaned_data["due_on"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("It is in the follow-up plan."))
    else:
        messages.error(request, _("Choose the kind, the person and a day."))
    return _home(reference)


@require_POST
def check_in_done(request, reference, check_in_id):
    viewer = access.access_facilitator(request.user, reference)
    agreement = access.access_agreement(viewer)
    check_in = CheckIn.objects.filter(agreement=agreement, pk=check_in_id).first()
    if check_in is None:
        raise access.Http404
    form = forms.CheckInDoneForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_("The notes can be at most 2000 characters."))
        commitments.checkin_done(actor=request.user, check_in=check_in, notes=form.cleaned_data["notes"])
    except DomainError as exc:
        messages.error(request, exc.message)
    return _home(reference)


@require_POST
def close(request, reference):
    viewer = access.access_facilitator(request.user, reference)
    agreement = access.access_agreement(viewer)
    form = forms.OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how the agreement ended."))
        return _home(reference)
    try:
        commitments.agreement_close(
            actor=request.user, agreement=agreement, outcome=form.cleaned_data["outcome"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _home(reference)
    messages.success(request, _("The case is closed with its outcome."))
    return redirect("cases:detail", reference=reference)
