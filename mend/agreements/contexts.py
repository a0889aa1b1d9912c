"""The agreement pages' contexts: every read a page needs, put together for its template."""

import json

from mend.agreements import commitments, forms, selectors, services
from mend.agreements.access import Viewer, sees_evidence
from mend.agreements.models import CheckIn, Evidence, Item, Version
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES
from mend.dialogue import selectors as dialogue_selectors


def name_in_case(case, place) -> str:
    return place.pseudonym or case.program.word_for(place.role)


def owners(case) -> list[tuple[int, str]]:
    """Who may carry an item or take a check-in: the parties and facilitators still in the case."""
    places = case.participants.filter(removed_at__isnull=True, role__in=(*PARTY_ROLES, *FACILITATING_ROLES))
    return [
        (p.pk, f"{name_in_case(case, p)} ({case.program.word_for(p.role)})") for p in places.order_by("pk")
    ]


def participant_of(case, participant_id: int):
    return case.participants.get(pk=participant_id)


def _waiting_for(viewer: Viewer, versions: list[Version]) -> Version | None:
    """The version a party has still to answer, if any."""
    if not viewer.party:
        return None
    waiting = next((v for v in versions if v.state == Version.State.SIGNING), None)
    if waiting and waiting.signatures.filter(participant=viewer.place).exists():
        return None
    return waiting


def home_context(viewer: Viewer) -> dict:
    case = viewer.case
    agreement = selectors.agreement_of(case)
    versions = list(agreement.versions.order_by("-number")) if agreement else []
    if not viewer.staff:
        versions = [v for v in versions if v.state != Version.State.DRAFT]
    check_ins = (
        list(agreement.check_ins.select_related("with_participant")) if agreement and viewer.staff else []
    )
    open_end = viewer.facilitates and agreement and not agreement.outcome
    return {
        "case": case,
        "viewer": viewer,
        "agreement": agreement,
        "versions": versions if (viewer.staff or viewer.party) else [],
        "waiting": _waiting_for(viewer, versions),
        "board": selectors.board_for(viewer, agreement),
        "check_ins": check_ins,
        "check_in_form": forms.CheckInForm(people=owners(case)) if viewer.facilitates else None,
        "outcome_form": forms.OutcomeForm() if open_end else None,
        "can_draft": viewer.facilitates and case.stage in services.DRAFTING_STAGES,
    }


def _document_of(version: Version) -> dict:
    if not version.document_sha256:
        return services.build_document(version)
    return json.loads(str(version.document)) if version.document else {"items": [], "terms": ""}


def _may_answer(viewer: Viewer, version: Version, document: dict, answered: set[int]) -> bool:
    return bool(
        viewer.party
        and version.state == Version.State.SIGNING
        and viewer.place.pk not in answered
        and viewer.place.pk in {p["id"] for p in document.get("parties", [])}
    )


def _rows(document: dict, names: dict) -> list[dict]:
    kinds = dict(Item._meta.get_field("kind").choices)
    return [
        {**item, "owner_name": names.get(item["owner"], ""), "kind_label": kinds.get(item["kind"], "")}
        for item in document.get("items", [])
    ]


def _answers(case, version: Version, names: dict) -> list[dict]:
    return [
        {
            "answer": a,
            "name": names.get(a.participant_id, ""),
            "role": case.program.word_for(a.participant.role),
        }
        for a in version.signatures.select_related("participant")
    ]


def _editing_forms(viewer: Viewer, version: Version, terms_form, item_form) -> dict:
    editing = viewer.facilitates and version.state == Version.State.DRAFT
    if not editing:
        return {"editing": False, "items": [], "terms_form": None, "item_form": None}
    return {
        "editing": True,
        "items": list(version.items.all()),
        "terms_form": terms_form or forms.TermsForm(initial={"terms": str(version.terms)}),
        "item_form": item_form or forms.ItemForm(owners=owners(viewer.case)),
    }


def version_context(
    viewer: Viewer, version: Version, *, terms_form=None, item_form=None, sign_form=None
) -> dict:
    case = viewer.case
    document = _document_of(version)
    names = {p.pk: name_in_case(case, p) for p in case.participants.all()}
    answers = _answers(case, version, names)
    may_answer = _may_answer(viewer, version, document, {a["answer"].participant_id for a in answers})
    return {
        "case": case,
        "viewer": viewer,
        "version": version,
        "document": document,
        "document_text": str(version.document) if version.document_sha256 else "",
        "rows": _rows(document, names),
        "answers": answers,
        "check": selectors.version_check(version),
        "may_answer": may_answer,
        "sign_form": sign_form or (forms.SignForm() if may_answer else None),
        **_editing_forms(viewer, version, terms_form, item_form),
    }


def item_context(viewer: Viewer, commitment, found: Item, state: str, support) -> dict:
    """`support` is the owner's conversation with their facilitators (None for anyone else)."""
    mine = viewer.party and found.owner_id == viewer.place.pk
    restitution = found.kind == "restitution"
    ledger = commitments.ledger_of(commitment, found) if restitution and (viewer.staff or mine) else None
    return {
        "case": viewer.case,
        "viewer": viewer,
        "commitment": commitment,
        "state": state,
        "item": found,
        "owner_name": name_in_case(viewer.case, found.owner),
        "mine": mine,
        "sees_evidence": sees_evidence(viewer, found),
        "evidence_count": commitment.evidence.count(),
        "support": support,
        "ledger": ledger,
        "payments": list(commitment.payments.all()) if ledger else [],
        "ask_form": forms.AskMoreForm() if viewer.facilitates else None,
        "payment_form": forms.PaymentForm() if viewer.facilitates and restitution else None,
    }


def evidence_frames(commitment, user) -> list[dict]:
    """The item's evidence messages this person may open, as frames grouped by conversation."""
    rows = Evidence.objects.filter(commitment=commitment, message__recipients__user=user).select_related(
        "message__conversation__case__program", "message__ref"
    )
    by_conversation = {}
    for row in rows.order_by("submitted_at", "pk"):
        by_conversation.setdefault(row.message.conversation_id, (row.message.conversation, []))[1].append(
            row.message
        )
    frames = []
    for conversation, batch in by_conversation.values():
        frames.extend(dialogue_selectors.frames_for(batch, conversation))
    return frames


def calendar_check_ins(viewer: Viewer, agreement) -> list[CheckIn]:
    """The follow-up plan's check-ins go into staff calendars only."""
    return list(CheckIn.objects.filter(agreement=agreement)) if viewer.staff else []
