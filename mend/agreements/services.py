"""Writing an agreement and signing it: one action each, atomic and audited (docs/agreements.md)."""

import secrets
from datetime import date
from decimal import Decimal, InvalidOperation

import pycountry
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import KeyBundle, User
from mend.agreements import document as doc
from mend.agreements.models import Agreement, Commitment, Item, ItemKind, Signature, Version
from mend.audit.codes import AuditCode
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Case, Participant, Role
from mend.core import validators
from mend.core.errors import Conflict, DomainError
from mend.readiness import rules
from mend.readiness.snapshot import consent_snapshot

DRAFTING_STAGES = ("encounter", "agreement", "follow_up")
MAX_TEXT = 2000
MAX_ITEMS = 40


def _text(value, field: str, what: str, *, max_length: int = MAX_TEXT, required: bool = False) -> str:
    """Free text, with the error on the form's field and in plain words."""
    try:
        return validators.text(str(value or ""), what, max_length=max_length, required=required)
    except DomainError as error:
        raise DomainError(error.message, field=field) from None


def _facilitating(actor: User, case: Case) -> None:
    if not case.participants.filter(
        user=actor, role__in=FACILITATING_ROLES, removed_at__isnull=True
    ).exists():
        raise DomainError(_("Only a facilitator of this case can change its agreement."))


def signing_parties(case: Case) -> list[Participant]:
    """Who signs: every party (harmed and responsible) who joined and is on their path now. A person on a
    break, stopped or excluded is left out of what is signed while they are away; when they come back, an
    amendment includes them (mend.readiness.rules.parties)."""
    return [p for p in rules.parties(consent_snapshot(case)) if p.user_id]


def _draft_of(version: Version) -> Version:
    version = Version.objects.select_for_update().select_related("case__program").get(pk=version.pk)
    if version.state != Version.State.DRAFT:
        raise Conflict(_("This version is no longer a draft, so it cannot be changed. Start an amendment."))
    if version.case.data_deleted_at is not None:
        raise Conflict(_("This case's information was deleted, so nothing more can be added."))
    return version


@transaction.atomic
def agreement_draft(*, actor: User, case: Case) -> Version:
    """The draft to work on: the open draft if there is one; otherwise the first version, or an amendment
    that starts as a copy of the latest version, with the same item ids."""
    _facilitating(actor, case)
    case = Case.objects.select_for_update().select_related("program").get(pk=case.pk)
    if case.stage not in DRAFTING_STAGES:
        raise Conflict(_("An agreement is written after the parties have met or exchanged messages."))
    agreement, created = Agreement.objects.get_or_create(case=case, defaults={"created_by": actor})
    latest = agreement.versions.order_by("-number").first()
    if latest is not None and latest.state == Version.State.DRAFT:
        return latest
    if latest is not None and latest.state == Version.State.SIGNING:
        raise Conflict(_("A version is waiting for signatures. Withdraw it first to change it."))
    version = Version.objects.create(
        case=case,
        agreement=agreement,
        number=(latest.number + 1) if latest else 1,
        terms=latest.terms if latest else "",
        created_by=actor,
    )
    if latest is not None:
        for item in latest.items.all():
            Item.objects.create(
                case=case,
                version=version,
                uid=item.uid,
                position=item.position,
                kind=item.kind,
                description=str(item.description),
                details=dict(item.details or {}),
                owner_id=item.owner_id,
                owed_to_id=item.owed_to_id,
                due_on=item.due_on,
                verification=str(item.verification),
            )
    audit.record(
        actor=actor,
        code=AuditCode.AGREEMENT_DRAFTED,
        target=version,
        case=case,
        data={"version": version.number, "amends": latest.number if latest else None},
    )
    return version


@transaction.atomic
def version_terms_save(*, actor: User, version: Version, terms: str) -> Version:
    _facilitating(actor, version.case)
    version = _draft_of(version)
    version.terms = _text(terms, "terms", _("shared terms"))
    version.save(update_fields=["terms"])
    return version


def _money(value, field: str) -> str:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(_("Write the amount as a number, like 250 or 99.50."), field=field) from None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1000000000"):
        raise DomainError(_("The amount must be more than 0 and less than 1,000,000,000."), field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError(_("Use at most two decimal places for the amount."), field=field)
    return str(amount.quantize(Decimal("0.01")))


def clean_details(kind: str, details: dict) -> dict:
    """The fields each kind of item carries, checked; anything else is dropped."""
    details = details or {}

    def text(name: str, what: str, *, required: bool = False) -> str:
        return _text(details.get(name, ""), name, what, max_length=500, required=required)

    if kind == ItemKind.RESTITUTION:
        currency = str(details.get("currency", "")).strip().upper()
        if not pycountry.currencies.get(alpha_3=currency):
            raise DomainError(
                _("Choose a currency by its three-letter code, like NZD or EUR."), field="currency"
            )
        return {
            "amount": _money(details.get("amount", ""), "amount"),
            "currency": currency,
            "schedule": text("schedule", _("payment schedule"), required=True),
        }
    if kind == ItemKind.SERVICE:
        try:
            hours = int(str(details.get("hours", "")).strip())
        except ValueError:
            raise DomainError(_("Write the hours as a whole number, like 20."), field="hours") from None
        if not 1 <= hours <= 2000:
            raise DomainError(_("The hours must be from 1 to 2000."), field="hours")
        return {"hours": hours, "where": text("where", _("place where the service happens"))}
    if kind in (ItemKind.LEARNING, ItemKind.COUNSELLING):
        return {"programme": text("programme", _("course or programme"), required=True)}
    if kind == ItemKind.APOLOGY:
        return {"channel": text("channel", _("way the letter is passed on"))}
    if kind == ItemKind.BEHAVIOUR:
        return {"spaces": text("spaces", _("spaces or kinds of contact"))}
    if kind == ItemKind.DIGITAL_REPAIR:
        return {
            "what": text("what", _("list of what is taken down, deleted, returned or fixed"), required=True)
        }
    return {}


@transaction.atomic
def item_save(
    *,
    actor: User,
    version: Version,
    kind: str,
    description: str,
    owner: Participant,
    due_on: date,
    verification: str,
    details: dict | None = None,
    uid: str | None = None,
    owed_to: Participant | None = None,
) -> Item:
    """Adds an item to a draft, or changes one (`uid`). `owed_to` is the person harmed it is owed to;
    None: every person harmed."""
    _facilitating(actor, version.case)
    version = _draft_of(version)
    if kind not in ItemKind.values:
        raise DomainError(_("Choose what kind of item this is."), field="kind")
    description = _text(description, "description", _("description"), required=True)
    verification = _text(verification, "verification", _("way of checking it"), required=True)
    cleaned = clean_details(kind, details or {})
    if (
        owner.case_id != version.case_id
        or owner.removed_at is not None
        or owner.role
        not in (
            *PARTY_ROLES,
            *FACILITATING_ROLES,
        )
    ):
        raise DomainError(_("Choose who will do this from the people in the case."), field="owner")
    if owed_to is not None and (
        owed_to.case_id != version.case_id
        or owed_to.removed_at is not None
        or owed_to.role != Role.HARMED_PARTY
    ):
        word = version.case.program.word_for(Role.HARMED_PARTY)
        raise DomainError(
            _("Choose whom this is for from the %(people)s in the case, or everyone.") % {"people": word},
            field="owed_to",
        )
    if not isinstance(due_on, date):
        raise DomainError(_("Give a due date, like 2027-03-31."), field="due_on")
    if due_on < timezone.localdate():
        raise DomainError(_("The due date is in the past. Choose today or a later day."), field="due_on")
    fields = {
        "kind": kind,
        "description": description,
        "details": cleaned,
        "owner": owner,
        "owed_to": owed_to,
        "due_on": due_on,
        "verification": verification,
    }
    if uid:
        item = version.items.filter(uid=uid).first()
        if item is None:
            raise DomainError(_("That item is not in this draft."), field="uid")
        for name, value in fields.items():
            setattr(item, name, value)
        item.save()
        return item
    count = version.items.count()
    if count >= MAX_ITEMS:
        raise DomainError(_("An agreement can hold at most %(n)d items.") % {"n": MAX_ITEMS})
    return Item.objects.create(
        case=version.case, version=version, uid=secrets.token_hex(6), position=count + 1, **fields
    )


@transaction.atomic
def item_remove(*, actor: User, version: Version, uid: str) -> None:
    _facilitating(actor, version.case)
    version = _draft_of(version)
    deleted, _rows = version.items.filter(uid=uid).delete()
    if not deleted:
        raise DomainError(_("That item is not in this draft."), field="uid")
    for position, item in enumerate(version.items.order_by("position", "pk"), start=1):
        if item.position != position:
            Item.objects.filter(pk=item.pk).update(position=position)


def build_document(version: Version) -> dict:
    """The version's document: as frozen (its parties and references) once it was opened for signing, else
    as it would be frozen now, with new references."""
    return document_with_ids(version)[0]


def document_with_ids(version: Version) -> tuple[dict, dict[str, int]]:
    """build_document, and its references back to participant ids (for staff and the pages' names)."""
    items = list(version.items.select_related("owner", "owed_to").order_by("position", "pk"))
    frozen = doc.parties_of(version)
    if frozen:
        by_id = {p.pk: p for p in Participant.objects.filter(pk__in=[f["id"] for f in frozen])}
        parties = [by_id[f["id"]] for f in frozen if f["id"] in by_id]
        if doc.frozen(version).get("v") == doc.FORMAT_1:
            return doc.document_v1_of(version, items, parties), {}
    else:
        parties = signing_parties(version.case)
    people = [*parties, *(i.owner for i in items), *(i.owed_to for i in items)]
    refs = doc.refs_for(version, people)
    return doc.document_of(version, items, parties, refs), {ref: int(pk) for pk, ref in refs.items()}


@transaction.atomic
def version_open(*, actor: User, version: Version) -> Version:
    """The draft is ready: its words are frozen as the document every party signs."""
    _facilitating(actor, version.case)
    version = _draft_of(version)
    if not version.items.exists():
        raise DomainError(_("Add at least one item before asking the parties to sign."))
    parties = signing_parties(version.case)
    roles = {p.role for p in parties}
    if not set(PARTY_ROLES) <= roles:
        raise Conflict(_("Both sides need to be in the case before they can sign."))
    items = list(version.items.select_related("owner", "owed_to").order_by("position", "pk"))
    version.refs = {}
    refs = doc.refs_for(version, [*parties, *(i.owner for i in items), *(i.owed_to for i in items)])
    text = doc.canonical_text(doc.document_of(version, items, parties, refs))
    version.refs = refs
    version.document = text
    version.document_sha256 = doc.sha256_of(text)
    version.state = Version.State.SIGNING
    version.opened_at = timezone.now()
    version.save(update_fields=["document", "document_sha256", "refs", "state", "opened_at"])
    audit.record(
        actor=actor,
        code=AuditCode.AGREEMENT_OPENED,
        target=version,
        case=version.case,
        data={"version": version.number, "sha256": version.document_sha256},
    )
    return version


@transaction.atomic
def version_withdraw(*, actor: User, version: Version) -> Version:
    """Back to a draft before everyone has signed, for a change; the answers given so far are cleared."""
    _facilitating(actor, version.case)
    version = Version.objects.select_for_update().select_related("case").get(pk=version.pk)
    if version.case.data_deleted_at is not None:
        raise Conflict(_("This case's information was deleted, so nothing more can be added."))
    if version.state not in (Version.State.SIGNING, Version.State.DECLINED):
        raise Conflict(_("Only a version waiting for signatures can go back to a draft."))
    version.signatures.all().delete()
    version.state = Version.State.DRAFT
    version.document = ""
    version.document_sha256 = ""
    version.refs = {}
    version.opened_at = None
    version.save(update_fields=["state", "document", "document_sha256", "refs", "opened_at"])
    audit.record(
        actor=actor,
        code=AuditCode.AGREEMENT_WITHDRAWN,
        target=version,
        case=version.case,
        data={"version": version.number},
    )
    return version


def _answering(actor: User, place: Participant, version: Version) -> Version:
    if place.user_id != actor.pk or place.role not in PARTY_ROLES or place.removed_at is not None:
        raise DomainError(_("Only the people the agreement is between can sign it."))
    version = Version.objects.select_for_update().select_related("case").get(pk=version.pk)
    if version.case_id != place.case_id or version.state != Version.State.SIGNING:
        raise Conflict(_("This version is not waiting for signatures."))
    if place.pk not in doc.party_ids(version):
        raise Conflict(_("This version was written before you joined. Ask your facilitator for a new one."))
    if not rules.on_path(consent_snapshot(version.case), place):
        raise Conflict(
            _(
                "You are away from the process for now, so there is nothing to sign. "
                "Your facilitator can help."
            )
        )
    if version.signatures.filter(participant=place).exists():
        raise Conflict(_("You have already answered for this version. Nothing more is needed."))
    return version


@transaction.atomic
def version_sign(
    *, actor: User, place: Participant, version: Version, typed_name: str, key_id: str, signature: str
) -> Signature:
    """A party signs: their typed name and an Ed25519 signature over the version's document, made in their
    browser with their own key. When the last party signs, the version is signed and cannot change."""
    version = _answering(actor, place, version)
    typed_name = _text(typed_name, "typed_name", _("name you sign with"), required=True, max_length=120)
    bundle = KeyBundle.objects.filter(user=actor, key_id=str(key_id), replaced_at__isnull=True).first()
    if bundle is None:
        raise DomainError(_("Your keys on this device are not your current ones. Sign out and in again."))
    if not doc.signature_valid(
        sign_public=bundle.sign_public,
        signature=str(signature),
        document_text=str(version.document),
        typed_name=typed_name,
    ):
        raise DomainError(_("The signature does not match this version. Reload the page and sign again."))
    answer = Signature.objects.create(
        case=version.case,
        version=version,
        participant=place,
        decision=Signature.Decision.SIGNED,
        typed_name=typed_name,
        key_id=bundle.key_id,
        signature=str(signature),
        at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code=AuditCode.AGREEMENT_SIGNED,
        target=version,
        case=version.case,
        data={"version": version.number, "role": place.role},
    )
    _in_force_when_signed(actor=actor, version=version)
    return answer


def _in_force_when_signed(*, actor: User, version: Version) -> bool:
    """The version comes into force once every party it names who is on their path has signed, with at
    least one person on each side among them. A person on a break, stopped or excluded is left out of it
    and not bound by it; an amendment includes them when they come back. Nobody is bound by what they did
    not sign: while an item is owned by a person left out, the version waits for staff to amend it."""
    named = doc.party_ids(version)
    bound = {p.pk: p for p in rules.parties(consent_snapshot(version.case)) if p.pk in named}
    if not set(PARTY_ROLES) <= {p.role for p in bound.values()}:
        return False
    if version.items.filter(owner_id__in=named - set(bound)).exists():
        return False
    signed = set(
        version.signatures.filter(decision=Signature.Decision.SIGNED).values_list("participant_id", flat=True)
    )
    if not set(bound) <= signed:
        return False
    _version_in_force(actor=actor, version=version, left_out=len(named - set(bound)))
    return True


@transaction.atomic
def signing_recheck(*, actor: User, place: Participant) -> Version | None:
    """A person left their path (stopped, a break, excluded) while a version naming them waits for
    signatures: it is checked again, and comes into force when everyone else has signed. Registered on
    mend.consent.hooks from AgreementsConfig.ready(); returns the version put in force, if any."""
    version = (
        Version.objects.select_for_update()
        .select_related("case__program", "agreement")
        .filter(case_id=place.case_id, state=Version.State.SIGNING)
        .first()
    )
    if version is None or place.pk not in doc.party_ids(version):
        return None
    return version if _in_force_when_signed(actor=actor, version=version) else None


def _version_in_force(*, actor: User, version: Version, left_out: int = 0) -> None:
    now = timezone.now()
    Version.objects.filter(agreement=version.agreement, state=Version.State.SIGNED).update(
        state=Version.State.SUPERSEDED
    )
    version.state = Version.State.SIGNED
    version.signed_at = now
    version.save(update_fields=["state", "signed_at"])
    known = set(Commitment.objects.filter(agreement=version.agreement).values_list("item_uid", flat=True))
    Commitment.objects.bulk_create(
        [
            Commitment(case=version.case, agreement_id=version.agreement_id, item_uid=uid)
            for uid in version.items.values_list("uid", flat=True)
            if uid not in known
        ]
    )
    audit.record(
        actor=actor,
        code=AuditCode.AGREEMENT_IN_FORCE,
        target=version,
        case=version.case,
        data={"version": version.number, "left_out": left_out},
    )


@transaction.atomic
def version_decline(*, actor: User, place: Participant, version: Version) -> Signature:
    """A party chooses not to sign. That is recorded, without a reason asked and without blame; the
    facilitator can talk it through and offer a changed version."""
    version = _answering(actor, place, version)
    answer = Signature.objects.create(
        case=version.case,
        version=version,
        participant=place,
        decision=Signature.Decision.DECLINED,
        at=timezone.now(),
    )
    version.state = Version.State.DECLINED
    version.save(update_fields=["state"])
    audit.record(
        actor=actor,
        code=AuditCode.AGREEMENT_DECLINED,
        target=version,
        case=version.case,
        data={"version": version.number, "role": place.role},
    )
    return answer
