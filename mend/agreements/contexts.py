"""The agreement pages' contexts: every read a page needs, put together for its template."""

import json

from django.utils.translation import gettext as _

from mend.agreements import commitments, forms, names, selectors, services
from mend.agreements import document as doc
from mend.agreements.access import Viewer, sees_evidence
from mend.agreements.models import CheckIn, Evidence, Item, Version
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Role
from mend.dialogue import selectors as dialogue_selectors
from mend.readiness import rules
from mend.readiness.snapshot import consent_snapshot


def name_in_case(case, place) -> str:
    return place.pseudonym or case.program.word_for(place.role)


def owners(case) -> list[tuple[int, str]]:
    """Who may carry an item or take a check-in: the parties and facilitators still in the case."""
    places = case.participants.filter(removed_at__isnull=True, role__in=(*PARTY_ROLES, *FACILITATING_ROLES))
    return [
        (p.pk, f"{name_in_case(case, p)} ({case.program.word_for(p.role)})") for p in places.order_by("pk")
    ]


def owed_choices(case) -> list[tuple[str, str]]:
    """Whom an item can be owed to: every person harmed, or one of the people harmed on their path."""
    snap = consent_snapshot(case)
    word = case.program.word_for(Role.HARMED_PARTY)
    harmed = [p for p in rules.parties(snap) if p.role == Role.HARMED_PARTY]
    return [("", _("Every %(role)s") % {"role": word})] + [(str(p.pk), name_in_case(case, p)) for p in harmed]


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
    if selectors.away(viewer):  # nothing new while they are away: only what they were asked to sign
        versions = [v for v in versions if viewer.place.pk in doc.party_ids(v)]
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
        "board": selectors.board_for(viewer, agreement, names.names_for(viewer) if agreement else None),
        "check_ins": check_ins,
        "check_in_form": forms.CheckInForm(people=owners(case)) if viewer.facilitates else None,
        "outcome_form": forms.OutcomeForm() if open_end else None,
        "can_draft": viewer.facilitates and case.stage in services.DRAFTING_STAGES,
    }


def _document_of(version: Version) -> tuple[dict, dict[str, int]]:
    """The version's document, and its references back to participant ids."""
    if not version.document_sha256:
        return services.document_with_ids(version)
    document = json.loads(str(version.document)) if version.document else {"items": [], "terms": ""}
    return document, doc.ids_by_ref(version)


def _may_answer(viewer: Viewer, version: Version, answered: set[int]) -> bool:
    return bool(
        viewer.party
        and version.state == Version.State.SIGNING
        and viewer.place.pk not in answered
        and viewer.place.pk in doc.party_ids(version)
        and rules.on_path(consent_snapshot(viewer.case), viewer.place)
    )


def person_of(value, ids: dict[str, int]) -> int | None:
    """A person the document names: by reference (format 2) or by participant id (format 1)."""
    return value if isinstance(value, int) else ids.get(value)


def _rows(document: dict, ids: dict[str, int], who: dict[int, str]) -> list[dict]:
    """The items, with the owner and the person owed named as this viewer may see them (never the
    document's references, which are the same for everyone)."""
    kinds = dict(Item._meta.get_field("kind").choices)
    rows = []
    for item in document.get("items", []):
        owed = person_of(item.get("owed_to"), ids) if item.get("owed_to") is not None else None
        rows.append(
            {
                **item,
                "owner_name": who.get(person_of(item["owner"], ids), ""),
                "owed_name": who.get(owed, "") if owed is not None else "",
                "kind_label": kinds.get(item["kind"], ""),
            }
        )
    return rows


def _answers(viewer: Viewer, version: Version, who: dict, seen: set[int] | None) -> list[dict]:
    """The answers so far; the name a person typed only where the viewer may see that person."""
    case = viewer.case
    return [
        {
            "answer": a,
            "name": who.get(a.participant_id, ""),
            "role": case.program.word_for(a.participant.role),
            "typed": str(a.typed_name) if seen is None or a.participant_id in seen else "",
        }
        for a in version.signatures.select_related("participant").order_by("at", "pk")
    ]


def _left_out(viewer: Viewer, version: Version, who: dict[int, str]) -> list[str]:
    """For staff: the parties this version names who are away from the process (on a break, stopped or
    excluded), so not bound by it; an amendment includes them when they are back."""
    named = doc.party_ids(version)
    if not viewer.staff or not named:
        return []
    snap = consent_snapshot(viewer.case)
    return [who.get(p.pk, "") for p in rules.left_out(snap) if p.pk in named]


def _editing_forms(viewer: Viewer, version: Version, terms_form, item_form) -> dict:
    editing = viewer.facilitates and version.state == Version.State.DRAFT
    if not editing:
        return {"editing": False, "items": [], "terms_form": None, "item_form": None}
    return {
        "editing": True,
        "items": list(version.items.all()),
        "terms_form": terms_form or forms.TermsForm(initial={"terms": str(version.terms)}),
        "item_form": item_form or forms.ItemForm(owners=owners(viewer.case), owed=owed_choices(viewer.case)),
    }


def version_context(
    viewer: Viewer, version: Version, *, terms_form=None, item_form=None, sign_form=None
) -> dict:
    case = viewer.case
    document, ids = _document_of(version)
    who, seen = names.names_and_visible(viewer)
    answers = _answers(viewer, version, who, seen)
    may_answer = _may_answer(viewer, version, {a["answer"].participant_id for a in answers})
    return {
        "case": case,
        "viewer": viewer,
        "version": version,
        "document": document,
        "document_text": str(version.document) if version.document_sha256 else "",
        "rows": _rows(document, ids, who),
        "left_out": _left_out(viewer, version, who),
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
        "owner_name": names.names_for(viewer).get(found.owner_id, ""),
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


def calendar_items(viewer: Viewer, agreement) -> list[Item]:
    """The due dates a person may take away: staff and the people responsible all of them; a person harmed
    those owed to them (or to everyone harmed) and their own; someone away from the process their own."""
    items = selectors.items_in_force(agreement)
    if viewer.staff:
        return items
    me = viewer.place.pk
    if selectors.away(viewer):
        return [i for i in items if i.owner_id == me]
    if viewer.harmed:
        return [i for i in items if i.owner_id == me or selectors.owed_to_viewer(viewer, i)]
    return items


def calendar_check_ins(viewer: Viewer, agreement) -> list[CheckIn]:
    """The follow-up plan's check-ins go into staff calendars only."""
    return list(CheckIn.objects.filter(agreement=agreement)) if viewer.staff else []
