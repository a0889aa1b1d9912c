"""Conversation pages and the small JSON endpoints their script uses: parse, access, one service call."""

import json

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mend.cases.access import access_case, access_own_taking_part
from mend.core import envelope, throttle
from mend.core.envelope import MESSAGE_KINDS
from mend.core.errors import DomainError
from mend.dialogue import rules, selectors, services
from mend.dialogue.access import access_attachment, access_case_conversation
from mend.dialogue.models import Conversation

KINDS = MESSAGE_KINDS  # one list of kinds: envelope v2's
MAX_UPLOAD = envelope.MAX_FILE_BYTES + 16  # read no more than the largest file Mend keeps, and one byte


@require_GET
def conversation_list(request, reference):
    case = access_case(request.user, reference)
    conversations = services.conversations_open_for(case=case, user=request.user)
    rows = [
        {"conversation": c, "title": selectors.conversation_title(c, request.user)} for c in conversations
    ]
    queue = (
        selectors.pending_relays(case)
        if any(c.kind == Conversation.Kind.TEAM for c in conversations)
        else None
    )
    return render(request, "dialogue/list.html", {"case": case, "rows": rows, "queue": queue})


def _composer_kind(conversation: Conversation, place) -> str:
    if conversation.kind == Conversation.Kind.RELAY and not place.is_facilitating:
        return "for_relay"
    return "message"


def _relay_targets(conversation: Conversation, place) -> list[dict]:
    """Where a facilitator can pass on what this party wrote: the other side's exchanges."""
    if conversation.kind != Conversation.Kind.RELAY or not place.is_facilitating:
        return []
    author = conversation.party
    targets = []
    for other in rules.parties(conversation.case):
        if other.role != author.role:
            target = services.conversation_open(
                case=conversation.case, kind=Conversation.Kind.RELAY, party=other
            )
            targets.append(
                {
                    "id": target.public_id,
                    "name": f"{conversation.case.program.word_for(other.role)} {other.pseudonym}",
                }
            )
    return targets


@require_GET
def conversation(request, reference, public_id):
    case = access_case(request.user, reference)
    conversation = access_case_conversation(request.user, case, public_id)
    place = rules.place_of(conversation, request.user)
    kind = _composer_kind(conversation, place)
    guide = place.role == "responsible_party" and conversation.kind in (
        Conversation.Kind.RELAY,
        Conversation.Kind.DIRECT,
    )
    context = {
        "case": case,
        "conversation": conversation,
        "title": selectors.conversation_title(conversation, request.user),
        "place": place,
        "kind": kind,
        "guide": guide,
        "state": selectors.writing_state(conversation, request.user, kind),
        "members": selectors.members(conversation),
        "targets": json.dumps(_relay_targets(conversation, place)),
        "shows_receipts": services.receipts_shown(request.user, conversation),
    }
    return render(request, "dialogue/conversation.html", context)


@require_GET
def members(request, reference, public_id):
    case = access_case(request.user, reference)
    conversation = access_case_conversation(request.user, case, public_id)
    kind = request.GET.get("kind", "message")
    if kind not in KINDS:
        return JsonResponse(
            {"error": _("kind must be one of: %(kinds)s.") % {"kinds": ", ".join(KINDS)}}, status=400
        )
    return JsonResponse(
        {
            "members": selectors.members(conversation),
            **selectors.writing_state(conversation, request.user, kind, request.GET.get("ref") or None),
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
    try:
        message, created = services.message_post(
            actor=request.user, conversation=conversation, envelope=envelope
        )
    except DomainError as error:
        response = JsonResponse(
            {"error": error.message, "code": getattr(error, "code", "conflict")}, status=error.status
        )
        if isinstance(error, services.SendingTooFast):
            response["Retry-After"] = str(error.retry_after)
        return response
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
    try:
        attachment = services.attachment_store(
            actor=request.user,
            conversation=conversation,
            file_id=request.headers.get("X-File-Id", ""),
            ciphertext=request.read(MAX_UPLOAD + 1),
        )
    except DomainError as error:
        return JsonResponse({"error": error.message}, status=error.status)
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
