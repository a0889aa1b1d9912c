"""Reads of agreements: the version in force, its items, where each commitment stands."""

import json
from dataclasses import dataclass, field

from django.utils import timezone

from mend.accounts.models import KeyBundle
from mend.agreements import document as doc
from mend.agreements.models import Agreement, Commitment, Item, Signature, Version
from mend.agreements.services import build_document
from mend.consent.selectors import choices_of
from mend.readiness import rules
from mend.readiness.snapshot import consent_snapshot


def agreement_of(case) -> Agreement | None:
    return Agreement.objects.filter(case=case).first()


def version_in_force(agreement: Agreement | None) -> Version | None:
    """The latest version every party signed; amendments waiting for signatures do not count yet."""
    if agreement is None:
        return None
    return agreement.versions.filter(state=Version.State.SIGNED).order_by("-number").first()


def items_of(version: Version | None) -> list[Item]:
    if version is None:
        return []
    return list(version.items.select_related("owner", "owed_to").order_by("position", "pk"))


def items_in_force(agreement: Agreement | None) -> list[Item]:
    return items_of(version_in_force(agreement))


def commitments_by_uid(agreement: Agreement | None) -> dict[str, Commitment]:
    if agreement is None:
        return {}
    return {c.item_uid: c for c in Commitment.objects.filter(agreement=agreement)}


# --- checking a version ---------------------------------------------------------------------------------


@dataclass
class VersionCheck:
    """Whether a frozen version is still exactly what was signed: its stored document against its hash and
    its items, and each signature against the signer's key."""

    checked: bool = False
    document_changed: bool = False
    bad_signatures: list[int] = field(default_factory=list)  # participant ids

    @property
    def intact(self) -> bool:
        return self.checked and not self.document_changed and not self.bad_signatures


def version_check(version: Version) -> VersionCheck:
    if not version.document_sha256:
        return VersionCheck()
    result = VersionCheck(checked=True)
    text = str(version.document)
    try:
        stored = json.loads(text)
        rebuilt = build_document(version)
        result.document_changed = (
            doc.sha256_of(text) != version.document_sha256
            or stored.get("items") != rebuilt["items"]
            or stored.get("terms") != rebuilt["terms"]
            or stored.get("version") != version.number
            or stored.get("case") != version.case.reference
        )
    except (ValueError, TypeError, AttributeError):
        result.document_changed = True
    signatures = list(
        version.signatures.filter(decision=Signature.Decision.SIGNED).select_related("participant")
    )
    bundles = {b.key_id: b for b in KeyBundle.objects.filter(key_id__in=[s.key_id for s in signatures])}
    for signature in signatures:
        bundle = bundles.get(signature.key_id)
        if (
            bundle is None
            or bundle.user_id != signature.participant.user_id
            or not doc.signature_valid(
                sign_public=bundle.sign_public,
                signature=signature.signature,
                document_text=text,
                typed_name=str(signature.typed_name),
            )
        ):
            result.bad_signatures.append(signature.participant_id)
    return result


# --- the status board -----------------------------------------------------------------------------------


def away(viewer) -> bool:
    """A party off their path (on a break, stopped or excluded): their pages show nothing new while they
    are away, only their own part."""
    return bool(viewer.party and not rules.on_path(consent_snapshot(viewer.case), viewer.place))


def owed_to_viewer(viewer, item: Item) -> bool:
    """Whether a person harmed hears of this item: owed to them, or to every person harmed."""
    return item.owed_to_id is None or item.owed_to_id == viewer.place.pk


def board_for(viewer, agreement: Agreement | None, names: dict[int, str] | None = None) -> dict:
    """The status board, limited to what the viewer's role may see:

    - staff who run the case: every item, its state, owner, due date, and whether it is overdue;
    - the person responsible: every item and its state (they carry most of them);
    - the person harmed: only as they chose to hear of progress: nothing with "never", only whether the
      agreement is complete with "only at the end", which items are done and checked otherwise;
    - anyone else taking part: whether there is an agreement in force, and whether it is complete.

    Items the viewer carries themselves are always theirs to see, with where they stand (`own`, when the
    rest of the board does not show them). With several people harmed, each sees and counts only the items
    owed to them (or to everyone harmed). `names` (mend.agreements.names.names_for) names the owner and the
    person owed on each row as this viewer may see them."""

    version = version_in_force(agreement)
    board = {
        "version": version,
        "rows": [],
        "own": [],
        "shows": "none",
        "done": 0,
        "total": 0,
        "complete": False,
    }
    if version is None:
        return board
    items = items_of(version)
    if viewer.harmed:
        items = [i for i in items if owed_to_viewer(viewer, i) or i.owner_id == viewer.place.pk]
    names = names or {}
    states = commitments_by_uid(agreement)
    board["total"] = len(items)
    board["done"] = sum(
        1 for i in items if i.uid in states and states[i.uid].state == Commitment.State.VERIFIED
    )
    board["complete"] = agreement.completed_at is not None or (bool(items) and board["done"] == len(items))
    if away(viewer):
        board["shows"] = "away"  # only their own items, below
        board["total"] = board["done"] = 0
    elif viewer.staff or (viewer.party and not viewer.harmed):
        board["shows"] = "all"
    elif viewer.harmed:
        choice = choices_of(viewer.place).progress_updates
        board["shows"] = {"never": "none", "at_end": "end"}.get(choice, "verified")
        board["choice"] = choice
    else:
        board["shows"] = "end"
    listed = board["shows"] in ("all", "verified")
    own = viewer.place.pk if viewer.place is not None and not viewer.staff else None
    today = timezone.localdate()
    for item in items:
        mine = item.owner_id == own
        if not listed and not mine:
            continue
        commitment = states.get(item.uid)
        state = commitment.state if commitment else Commitment.State.OPEN
        if board["shows"] == "verified" and not mine and state != Commitment.State.VERIFIED:
            state = "not_yet"  # how the other side's items are going is not the person harmed's to see
        (board["rows"] if listed else board["own"]).append(
            {
                "item": item,
                "commitment": commitment,
                "state": state,
                "mine": mine,
                "overdue": state != Commitment.State.VERIFIED and item.due_on < today,
                "owner_name": names.get(item.owner_id, ""),
                "owed_name": names.get(item.owed_to_id, "") if item.owed_to_id else "",
            }
        )
    return board
