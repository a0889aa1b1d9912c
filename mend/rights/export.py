"""A person's own information, for them to download (docs/data-rights.md). The server gives what it holds
about their place in the case, in plain words where it can read it, and their messages as the encrypted
envelopes it stores: their own browser opens those, so the download never passes the server in the clear.

Only what is the person's own is included: what they gave (their details, consent, choices, their
acknowledgment), what was written for them (their safety plan), and the messages sent to them or by them.
Facilitators' notes and assessments, and anything about the other people in the case, are not."""

from django.db.models import Prefetch, Q
from django.utils import timezone

from mend.assessments.models import SafetyPlan
from mend.cases.models import Participant
from mend.consent.models import HarmedPartyChoices
from mend.dialogue import rules, selectors
from mend.dialogue.models import Conversation, Message

FORMAT = "mend-my-information/v1"


def _when(value):
    return value.isoformat() if value else None


def _consents(place: Participant) -> list[dict]:
    return [
        {
            "scope": consent.scope,
            "what": consent.get_scope_display(),
            "text": consent.text.text,
            "text_version": consent.text.version,
            "given_at": _when(consent.given_at),
            "withdrawn_at": _when(consent.withdrawn_at),
        }
        for consent in place.consents.select_related("text").order_by("given_at", "pk")
    ]


def _choices(place: Participant) -> dict | None:
    found = HarmedPartyChoices.objects.filter(participant=place).first()
    if found is None:
        return None
    return {
        "contact": found.get_mode_display(),
        "supporters_may_attend": found.supporters_may_attend,
        "community_may_attend": found.community_may_attend,
        "progress_updates": found.get_progress_updates_display(),
        "progress_every_weeks": found.progress_every_weeks,
        "updated_at": _when(found.updated_at),
    }


def _acknowledgments(place: Participant) -> list[dict]:
    return [
        {
            "text": ack.text,
            "submitted_at": _when(ack.submitted_at),
            "read_by_facilitator_at": _when(ack.confirmed_at),
        }
        for ack in place.acknowledgments.order_by("submitted_at", "pk")
    ]


def _safety_plan(place: Participant) -> dict | None:
    plan = SafetyPlan.objects.filter(participant=place).first()
    if plan is None:
        return None
    return {
        "risks": plan.risks,
        "measures": plan.measures,
        "emergency_contacts": plan.emergency_contacts,
        "updated_at": _when(plan.updated_at),
    }


def _conversations(place: Participant) -> list[dict]:
    """Every conversation the person is in now, with every message they can read there (sent to them,
    which includes what they sent), oldest first, still encrypted."""
    user = place.user
    mine = Message.objects.filter(recipients__user=user).select_related("ref").order_by("seq")
    # A person taking part is only ever in their own support and relay conversations and the direct one.
    conversations = (
        Conversation.objects.filter(case_id=place.case_id)
        .filter(Q(party=place) | Q(kind=Conversation.Kind.DIRECT))
        .select_related("case__program", "party")
        .prefetch_related(Prefetch("messages", queryset=mine, to_attr="readable"))
        .order_by("pk")
    )
    result = []
    for conversation in conversations:
        if rules.place_of(conversation, user) is None:
            continue
        result.append(
            {
                "id": conversation.public_id,
                "title": selectors.conversation_title(conversation, user),
                "messages": selectors.frames_for(conversation.readable, conversation),
            }
        )
    return result


def participant_data_export(place: Participant) -> dict:
    case = place.case
    program = case.program
    return {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "case": {"reference": case.reference, "program": program.name},
        "you": {
            "name_in_case": place.pseudonym,
            "role": program.word_for(place.role),
            "invited_at": _when(place.invited_at),
            "joined_at": _when(place.joined_at),
            "preferred_language": place.preferred_language,
            "time_zone": place.time_zone,
            "contact_method": place.contact_method,
            "accessibility_needs": place.accessibility_needs,
            "read_receipts": place.read_receipts,
        },
        "consent": _consents(place),
        "choices": _choices(place),
        "acknowledgments": _acknowledgments(place),
        "safety_plan": _safety_plan(place),
        "conversations": _conversations(place),
    }
