"""Every write of the dialogue: opening conversations, accepting envelopes, receipts and attachments."""

import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts import offboarding
from mend.accounts.models import KeyBundle, User
from mend.audit.codes import AuditCode
from mend.cases.models import FACILITATING_ROLES, Case, Participant, Role
from mend.core import envelope as env
from mend.core import throttle
from mend.core.errors import Conflict, DomainError
from mend.core.ids import reference_code
from mend.core.realtime import publish_after_commit
from mend.dialogue import rules
from mend.dialogue.models import Attachment, Conversation, Message, Recipient
from mend.dialogue.selectors import message_frame_text
from mend.readiness import rules as readiness
from mend.readiness.snapshot import places_of


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


@transaction.atomic
def conversation_open(
    *,
    case: Case,
    kind: str,
    party: Participant | None = None,
    counterpart: Participant | None = None,
) -> Conversation:
    """The conversation of this kind (and party) in the case, made the first time it is needed. A direct
    conversation is keyed by its person harmed (`party`, None for the group of the people harmed who agreed
    to be seen by each other) and its person responsible (`counterpart`, None likewise): see
    mend.dialogue.rules. Asked with neither, in a case with exactly one person on each side, it is theirs."""
    if kind in (Conversation.Kind.SUPPORT, Conversation.Kind.RELAY) and party is None:
        raise DomainError(_("Say whose conversation this is."))
    if kind != Conversation.Kind.DIRECT:
        counterpart = None
    elif party is None and counterpart is None:
        party, counterpart = _only_pair(case)
    key = {"case": case, "kind": kind, "party": party, "counterpart": counterpart}
    found = Conversation.objects.filter(**key).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Conversation.objects.create(**key, public_id=reference_code("D"))
    except IntegrityError:  # opened at the same moment by someone else
        return Conversation.objects.get(**key)


def _only_pair(case: Case, places: tuple | None = None) -> tuple[Participant | None, Participant | None]:
    """The one person harmed and the one person responsible with a place, when there is exactly one of each
    (their direct conversation, as the migration keyed the old shared one); otherwise the two groups."""
    people = [p for p in (places_of(case) if places is None else places) if p.user_id]
    harmed = [p for p in people if p.role == Role.HARMED_PARTY]
    responsible = [p for p in people if p.role == Role.RESPONSIBLE_PARTY]
    if len(harmed) == 1 and len(responsible) == 1:
        return harmed[0], responsible[0]
    return None, None


def current_bundles(users) -> dict[int, KeyBundle]:
    """Each person's current keys, public halves only (what sealing to them and checking them needs)."""
    ids = [u.pk for u in users]
    rows = KeyBundle.objects.filter(user__in=ids, replaced_at__isnull=True).only(
        "user_id", "key_id", "enc_public", "sign_public"
    )
    return {b.user_id: b for b in rows}


class Refused(DomainError):
    """An envelope the server will not store; `code` names the check, for clients that act on it."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def _refuse(message: str, code: str) -> Refused:
    return Refused(message, code)


def _check_files(conversation: Conversation, actor: User, file_ids: list[str]) -> list[Attachment]:
    files = list(
        Attachment.objects.select_for_update().filter(
            file_id__in=file_ids, conversation=conversation, uploader=actor, message__isnull=True
        )
    )
    if len(files) != len(set(file_ids)):
        raise _refuse(
            _("An attached file was not uploaded to this conversation, or is already sent."), "files"
        )
    return files


def _replay_clash() -> Conflict:
    return Conflict(
        _("A message with this id was already sent with other content. Send it as a new message.")
    )


class SendingTooFast(Refused):
    """Past what one person may send in a while (MEND_RATE_LIMITS), whichever door it came through."""

    status = 429

    def __init__(self, seconds: int):
        super().__init__(throttle.sending_too_fast(seconds), "rate")
        self.retry_after = seconds


class NotInConversation(Refused):
    """The sender has no place in the conversation, or no longer has one: a socket open on it closes."""

    def __init__(self):
        super().__init__(_("You are not in this conversation."), "member")


def _replay_of(message_id: str, stored: str, actor: User) -> Message | None:
    """The message already stored under this id if this is the same envelope again from the same sender;
    a different envelope under a used id is refused."""
    existing = next(iter(Message.objects.filter(message_id=message_id)[:1]), None)  # the id is unique
    if existing is None:
        return None
    if existing.envelope == stored and existing.sender_id == actor.pk:
        return existing
    raise _replay_clash()


def _locked(conversation: Conversation) -> Conversation:
    # The case row too: a change of stage (pause, close) locks it, so it cannot slip between the checks
    # below and the commit. The program and the party are read only if a message needs them (names in a
    # refusal, a relay), which most do not.
    return (
        Conversation.objects.select_for_update(of=("self", "case"))
        .select_related("case")
        .get(pk=conversation.pk)
    )


@transaction.atomic
def message_post(*, actor: User, conversation: Conversation, envelope: dict) -> tuple[Message, bool]:
    """Accepts one envelope after every check of docs/crypto.md; (message, False) for an identical replay.
    Nothing is acknowledged before this transaction commits.

    Only `conversation.pk` is used: the conversation, its case and the people in it are read afresh here,
    once, under the lock, and every check below uses that one reading."""
    conversation = _locked(conversation)
    places = places_of(conversation.case)  # who is where, read once for every check below
    # First, so that someone who has left is told so whatever they send, a replay included.
    sender = rules.place_of(conversation, actor, places)
    if sender is None:
        raise NotInConversation()
    try:
        env.check_form(envelope)
    except env.EnvelopeError as error:
        raise _refuse(str(error), "form") from None
    if envelope["conversation"] != conversation.public_id:
        raise _refuse(_("This envelope names another conversation."), "form")
    stored = env.canonical(envelope).decode()
    # Once is enough: a retry racing its first attempt waited on the lock above, and now finds what the
    # first one stored (the same id racing into another conversation fails the insert below instead).
    replay = _replay_of(envelope["id"], stored, actor)
    if replay is not None:
        return replay, False
    # Only accepted messages count (below), so a replay or a refused envelope uses up nothing.
    waiting = throttle.wait_for_person("message.person", actor.pk)
    if waiting:
        raise SendingTooFast(waiting)
    # Whom a new message goes to: the readers on their path (someone on a break, stopped or excluded
    # receives nothing further). The sender's keys come with the same read.
    recipients = rules.recipients(conversation, places)
    expected = current_bundles([p.user for p in recipients] + [actor])
    bundle = expected.get(actor.pk)
    if actor.pk not in {p.user_id for p in recipients}:
        del expected[actor.pk]  # left out for now: refused below (writing_missing), never a recipient
    if bundle is None or bundle.key_id != envelope["sender"]:
        raise _refuse(
            _(
                "This message was sealed with keys that are not your current keys. "
                "Reload the page and send again."
            ),
            "sender_key",
        )
    meta = envelope["meta"]
    ref = None
    if "ref" in meta and meta["kind"] not in ("relayed", "returned"):
        # Otherwise a party could mark a message waiting for review as returned, by naming it.
        raise _refuse(_("Only a relayed or returned message names another message in meta.ref."), "form")
    if "ref" in meta:
        ref = (
            Message.objects.select_for_update()
            .select_related("conversation")
            .filter(message_id=meta["ref"])
            .first()
        )
    missing = rules.writing_missing(conversation, sender, meta["kind"], ref, places)
    if missing:
        raise _refuse(rules.refusal_for(sender, missing), "not_now")
    # Every kind goes to exactly the conversation's readers: a party's message for the other side reaches
    # them only as a relayed copy in their own conversation.
    if meta["kind"] == "relayed" and conversation.party.user_id not in expected:
        # Passed on to someone without keys, it would leave the queue and still never reach them.
        raise _refuse(
            rules.refusal_for(
                sender, [_("the person receiving it to sign in once, so that their keys exist")]
            ),
            "not_now",
        )
    given = {entry["to"] for entry in envelope["keys"]}
    if given != {b.key_id for b in expected.values()}:
        raise _refuse(
            _("The people in this conversation or their keys have changed. Reload it and send again."),
            "recipients",
        )
    try:
        env.verify(envelope, env.unb64u(bundle.sign_public))
    except env.EnvelopeError as error:
        raise _refuse(str(error), "signature") from None
    file_ids = meta.get("files", [])
    files = _check_files(conversation, actor, file_ids) if file_ids else []
    conversation.last_seq += 1
    conversation.save(update_fields=["last_seq"])
    try:
        # No savepoint: on a clash the whole transaction is rolled back, and nothing runs in it after.
        message = Message.objects.create(
            conversation=conversation,
            seq=conversation.last_seq,
            message_id=envelope["id"],
            sender=actor,
            sender_key_id=bundle.key_id,
            kind=meta["kind"],
            ref=ref,
            relay_state="pending" if meta["kind"] == "for_relay" else "",
            approved=bool(meta.get("approved")),
            envelope=stored,
        )
    except IntegrityError:  # the same id sent at the same moment into another conversation
        raise _replay_clash() from None
    throttle.count_for_person("message.person", actor.pk)
    Recipient.objects.bulk_create(
        [Recipient(message=message, user_id=user_id, key_id=b.key_id) for user_id, b in expected.items()]
    )
    if files:
        Attachment.objects.filter(pk__in=[f.pk for f in files]).update(message=message)
    if ref is not None:
        ref.relay_state = "forwarded" if meta["kind"] == "relayed" else "returned"
        ref.save(update_fields=["relay_state"])
        publish_after_commit(
            group=conversation_group(ref.conversation_id),
            event={"type": "dialogue.state", "id": ref.message_id, "relay_state": ref.relay_state},
        )
        audit.record(
            actor=actor,
            code=AuditCode.DIALOGUE_RELAY_FORWARDED
            if meta["kind"] == "relayed"
            else AuditCode.DIALOGUE_RELAY_RETURNED,
            target=ref,
            case=conversation.case,
            program=conversation.case.program,
            data={"conversation": conversation.public_id},
        )
    publish_after_commit(
        group=conversation_group(conversation.pk),
        # The frame as text, made once here rather than by each receiving socket.
        event={
            "type": "dialogue.message",
            "recipients": list(expected),
            "seq": message.seq,
            "text": message_frame_text(
                message, sender_bundle=bundle, recipient_bundles=expected.values(), places=places
            ),
        },
    )
    return message, True


@transaction.atomic
def receipt_record(
    *, actor: User, message_id: str, kind: str, conversation: Conversation | None = None
) -> Recipient | None:
    """Marks a message delivered to, or read by, one recipient. Receipts of either kind are kept only when
    the person lets others see them; otherwise nothing is stored or told. A `conversation` given must have
    been read for this request (as access_conversation does): whether the person shows receipts is taken
    from it."""
    if kind not in ("delivered", "read"):
        raise DomainError(_("A receipt is either delivered or read."))
    rows = (
        # Only this row is locked: a receipt must not wait for, nor hold up, messages being sent.
        Recipient.objects.select_for_update(of=("self",))
        .select_related("message__conversation")
        .filter(message__message_id=message_id, user=actor)
    )
    if conversation is not None:
        # The caller's conversation is this one, and its access check found the person in it: whether they
        # show receipts comes with the row (their one active place in the case), not from reading everyone.
        shows = Participant.objects.filter(case_id=conversation.case_id, user=actor, removed_at__isnull=True)
        shows = shows.filter(Q(role__in=FACILITATING_ROLES) | Q(read_receipts=True))
        rows = rows.filter(message__conversation=conversation).annotate(shows=Exists(shows))
    row = rows.first()
    if row is None:
        raise DomainError(_("There is no such message for you."))
    # "Delivered" too: shown when a party opens the conversation, it would tell as much as "read".
    if not (row.shows if conversation is not None else receipts_shown(actor, row.message.conversation)):
        return None
    field = "delivered_at" if kind == "delivered" else "read_at"
    if getattr(row, field) is not None:
        return row
    now = timezone.now()
    row.delivered_at = row.delivered_at or now
    if kind == "read":
        row.read_at = now
    row.save(update_fields=["delivered_at", "read_at"])
    publish_after_commit(
        group=conversation_group(row.message.conversation_id),
        # Only the message's sender hears of it, as they would on reconnecting.
        event={
            "type": "dialogue.receipt",
            "id": message_id,
            "user": actor.pk,
            "kind": kind,
            "sender": row.message.sender_id,
        },
    )
    return row


def receipts_shown(user: User, conversation: Conversation, places: tuple | None = None) -> bool:
    place = rules.place_of(conversation, user, places)
    return place is not None and (place.is_facilitating or place.read_receipts)


@transaction.atomic
def read_receipts_set(*, actor: User, place: Participant, shown: bool) -> Participant:
    if place.user_id != actor.pk:
        raise DomainError(_("Only the person themselves can change who sees when they have read a message."))
    place = Participant.objects.select_for_update().get(pk=place.pk)
    if place.read_receipts != shown:
        place.read_receipts = shown
        place.save(update_fields=["read_receipts"])
        audit.record(
            actor=actor,
            code=AuditCode.DIALOGUE_READ_RECEIPTS_CHANGED,
            target=place,
            case=place.case,
            data={"shown": shown},
        )
    return place


@transaction.atomic
def attachment_store(
    *, actor: User, conversation: Conversation, file_id: str, ciphertext: bytes
) -> Attachment:
    """Keeps an encrypted file until the message that names it is sent: at most MEND_UNSENT_FILES_MAX
    files per person wait to be sent at a time, and a file never sent is deleted after
    MEND_UNSENT_FILE_HOURS (mend.dialogue.tasks)."""
    try:
        parsed = uuid.UUID(file_id)
        if str(parsed) != file_id or parsed.version != 4:  # the form meta.files accepts
            raise ValueError
    except (ValueError, TypeError, AttributeError):
        raise DomainError(_("The file id must be a random UUID in lower case."), field="file_id") from None
    if not ciphertext:
        raise DomainError(_("The file is empty."))
    if len(ciphertext) > env.MAX_FILE_BYTES + 16:
        raise DomainError(_("Files can be at most 10 MiB. Try a smaller picture or PDF."))
    if rules.place_of(conversation, actor) is None:
        raise DomainError(_("You are not in this conversation."))
    existing = Attachment.objects.filter(file_id=file_id).first()
    if existing is not None:
        if (
            existing.uploader_id == actor.pk
            and existing.conversation_id == conversation.pk
            and bytes(existing.ciphertext) == ciphertext
        ):
            return existing
        raise Conflict(_("A file with this id was already uploaded. Use a new id."))
    # The person's row first, so that two uploads at once cannot both take the last place.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    if unsent_files(actor) >= settings.MEND_UNSENT_FILES_MAX:
        raise TooManyUnsentFiles()
    return Attachment.objects.create(
        file_id=file_id,
        conversation=conversation,
        uploader=actor,
        ciphertext=ciphertext,
        size=len(ciphertext),
    )


class TooManyUnsentFiles(Conflict):
    def __init__(self):
        super().__init__(
            _(
                "You have %(count)d files waiting to be sent. Send them with a message first; files that "
                "are never sent are deleted after %(hours)d hours."
            )
            % {"count": settings.MEND_UNSENT_FILES_MAX, "hours": settings.MEND_UNSENT_FILE_HOURS}
        )


def unsent_files(user: User) -> int:
    """How many files this person uploaded that no message names yet."""
    return Attachment.objects.filter(uploader=user, message__isnull=True).count()


def conversations_open_for(*, case: Case, user: User, snap=None) -> list[Conversation]:
    """The conversations this person has in the case, opened the first time they look: a facilitator has
    the case team, one with each person, each party's exchange through the facilitator and every direct
    one; a party has their own with the facilitator, their exchange, and their direct ones once chosen (one
    with each unit of the other side, mend.dialogue.rules). Someone left out of the case for now still
    finds the direct conversations they had, and no new one."""
    Kind = Conversation.Kind
    # Who is where, their choices and their standing (`snap`: the caller's rules.people_snapshot, if any).
    snap = snap or rules.people_snapshot(case)
    places = [p for p in snap.places if p.user_id == user.pk]
    if not places:
        return []
    existing = {
        (c.kind, c.party_id, c.counterpart_id): c
        for c in Conversation.objects.filter(case=case).select_related(
            "case__program", "party", "counterpart"
        )
    }
    wanted: list[tuple[str, int | None, int | None]] = []
    units = rules.direct_units(snap)
    if any(p.is_facilitating for p in places):
        wanted.append((Kind.TEAM, None, None))
        for other in snap.places:
            if other.user_id and other.has_joined and not other.is_facilitating:
                wanted.append((Kind.SUPPORT, other.pk, None))
        wanted += [(Kind.RELAY, party.pk, None) for party in rules.parties(case, snap.places)]
        pair = _only_pair(case, snap.places)
        if pair[0] is not None:
            units = [(pair[0].pk, pair[1].pk), *[u for u in units if u != (pair[0].pk, pair[1].pk)]]
        wanted += [(Kind.DIRECT, h, r) for h, r in units]
        wanted += [key for key in existing if key[0] == Kind.DIRECT and key not in wanted]
    else:
        place = places[0]
        wanted.append((Kind.SUPPORT, place.pk, None))
        if place.role == Role.INTERPRETER and rules.interpreting(snap, place):
            # The conversations of the person they help, as that person has them (opening for that person
            # whatever is due to them, as their own visit would).
            helped = snap.place(place.supports_id).user
            theirs = conversations_open_for(case=case, user=helped, snap=snap)
            wanted += [(c.kind, c.party_id, c.counterpart_id) for c in theirs]
        if place in rules.parties(case, snap.places):
            wanted.append((Kind.RELAY, place.pk, None))
            mine = rules.direct_unit_key(snap, place)
            index = 0 if place.role == Role.HARMED_PARTY else 1
            direct = [(Kind.DIRECT, *unit) for unit in units if unit[index] == mine]
            if not readiness.on_path(snap, place):
                direct = [key for key in direct if key in existing]  # nothing new while left out
            wanted += direct
    result = []
    for kind, party_id, counterpart_id in wanted:
        found = existing.get((kind, party_id, counterpart_id))
        if found is None and kind == Kind.DIRECT:
            unopened = Conversation(case=case, kind=kind, party_id=party_id, counterpart_id=counterpart_id)
            if rules.side_away(unopened, snap):
                continue  # nothing new is opened around a person left out, whoever looks first
        if found is None:
            found = conversation_open(
                case=case, kind=kind, party=snap.place(party_id), counterpart=snap.place(counterpart_id)
            )
        result.append(found)
    # Listed only where the person is in it now (a direct conversation whose unit changed is not theirs).
    facilitating = any(p.is_facilitating for p in places)
    return [
        c
        for c in result
        if c.kind != Kind.DIRECT
        or facilitating
        or any(p.user_id == user.pk for p in rules.readers(c, snap=snap))
    ]


def interpreters_recheck(*, actor: User, case: Case) -> None:
    """After a change of consent or standing in a case (mend.cases.hooks.case_rechecked): every open socket
    of its interpreters checks again, once the change commits, whether it is still theirs, and closes if not
    (the person they help withdrew the interpreter consent, or stepped off their path)."""
    users = Participant.objects.filter(
        case=case, role=Role.INTERPRETER, removed_at__isnull=True, user__isnull=False
    ).values_list("user_id", flat=True)
    for user_id in users:
        offboarding.sockets_recheck(User(pk=user_id))


def interpreters_recheck_for(*, actor: User, place: Participant) -> None:
    """A party took a break (mend.consent.hooks.break_taken): their interpreter's sockets check again."""
    interpreters_recheck(actor=actor, case=place.case)
