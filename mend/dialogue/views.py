"""Conversation pages and the small JSON endpoints their script uses: parse, access, one service call."""

import json

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mend.cases.access import access_case, access_own_taking_part
from mend.core import edges, envelope, throttle
from mend.core.envelope import MESSAGE_KINDS
from mend.dialogue import contexts, selectors, services
from mend.dialogue.access import (
    access_attachment,
    access_case_conversation,
    access_conversation_and_places,
)

KINDS = MESSAGE_KINDS  # one list of kinds: envelope v2's
MAX_UPLOAD = envelope.MAX_FILE_BYTES + 16  # read no more than the largest file Mend keeps, and one byte


@require_GET
def conversation_list(request, reference):
    case = access_case(request.user, reference)
    return render(request, "dialogue/list.html", contexts.conversation_list(case, request.user))


@require_GET
def conversation(request, reference, public_id):
    case = access_case(request.user, reference)
    conversation = access_case_conversation(request.user, case, public_id)
    context = contexts.conversation_page(case, conversation, request.user)
    return render(request, "dialogue/conversation.html", context)


@require_GET
def members(request, reference, public_id):
    case = access_case(request.user, reference)
    # The case's places as the access check read them, passed on: read once for the whole answer.
    conversation, places = access_conversation_and_places(request.user, public_id)
    if conversation.case_id != case.pk:
        raise Http404
    kind = request.GET.get("kind", "message")
    if kind not in KINDS:
        return JsonResponse(
            {"error": _("kind must be one of: %(kinds)s.") % {"kinds": ", ".join(KINDS)}}, status=400
        )
    return JsonResponse(
        {
            "members": selectors.members(conversation, places),
            **selectors.writing_state(
                conversation, request.user, kind, request.GET.get("ref") or None, places
            ),
        }
    )


@require_POST
def send(request, reference, public_id):
    """The same acceptance as the websocket's, for a facilitator passing a message on to another
    conversation, and for clients without a websocket."""
    case = access_case(request.user, reference)
    conversation = access_case_conversation(request.user, case, public_id)
    try:
        envelope = json.loads(request.body or b"null")
    except (ValueError, RecursionError):  # RecursionError: nesting too deep for the parser
        return JsonResponse({"error": _("Send the envelope as JSON."), "code": "form"}, status=400)
    outcome = edges.attempt(
        lambda: services.message_post(actor=request.user, conversation=conversation, envelope=envelope)
    )
    if outcome.error is not None:
        response = edges.json_refusal(outcome.error, code="conflict")
        if isinstance(outcome.error, services.SendingTooFast):
            response["Retry-After"] = str(outcome.error.retry_after)
        return response
    message, created = outcome.value
    return JsonResponse(
        {"id": message.message_id, "seq": message.seq, "duplicate": not created},
        status=201 if created else 200,
    )


@require_POST
def upload(request, reference, public_id):
    case = access_case(request.user, reference)
    conversation = access_case_conversation(request.user, case, public_id)
    # Counted before the body is read: every upload costs the server, whether or not it is kept.
    wait = throttle.take_for_person("upload.person", request.user.pk)
    if wait:
        return throttle.too_many(
            wait, JsonResponse({"error": throttle.sending_too_fast(wait, "upload.person"), "code": "rate"})
        )
    outcome = edges.attempt(
        lambda: services.attachment_store(
            actor=request.user,
            conversation=conversation,
            file_id=request.headers.get("X-File-Id", ""),
            ciphertext=request.read(MAX_UPLOAD + 1),
        )
    )
    if outcome.error is not None:
        return edges.json_refusal(outcome.error)
    attachment = outcome.value
    return JsonResponse({"id": attachment.file_id, "size": attachment.size}, status=201)


@require_GET
def download(request, reference, file_id):
    case = access_case(request.user, reference)
    attachment = access_attachment(request.user, case, file_id)
    # Ciphertext, and never anything a browser would show or run: saved, not opened, and never sniffed.
    response = HttpResponse(bytes(attachment.ciphertext), content_type="application/octet-stream")
    response["Content-Disposition"] = "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def read_receipts(request, reference):
    case = access_case(request.user, reference)
    place = access_own_taking_part(request.user, case)
    shown = request.POST.get("shown") == "1"
    services.read_receipts_set(actor=request.user, place=place, shown=shown)
    if shown:
        messages.success(request, _("Others can now see when you have read their messages."))
    else:
        messages.success(request, _("Others will no longer see when you have read their messages."))
    back = str(request.POST.get("back", ""))
    if back.startswith(f"/cases/{case.reference}/messages/") and "//" not in back:
        return redirect(back)
    return redirect("dialogue:list", reference=case.reference)
