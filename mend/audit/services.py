"""The one way to write an audit event (inside the caller's transaction, extending the chain), and the
signed checkpoints and verification that make a rewritten chain show."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from mend.audit import chain, codes, signing
from mend.audit.models import AuditEvent, ChainHead, Checkpoint


class ChainBroken(Exception):
    """The chain no longer verifies; the message names the first broken link."""


_SCALARS = (str, int, bool, type(None))


def _check_payload(payload: dict) -> dict:
    # Payloads hold codes and ids only; free text could carry what a person wrote.
    for key, value in payload.items():
        if isinstance(value, list):
            ok = all(isinstance(v, _SCALARS) and not (isinstance(v, str) and len(v) > 64) for v in value)
        else:
            ok = isinstance(value, _SCALARS) and not (isinstance(value, str) and len(value) > 64)
        if not ok:
            raise ValueError(f"audit payload field {key!r} must be a short code or id")
    return payload


def record(
    *, actor, code: codes.AuditCode | str, target, case=None, program=None, data: dict | None = None
) -> AuditEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the change it records")
    code = codes.registered(code).value  # UnregisteredCode (a ValueError) for a code nobody registered
    payload = _check_payload(dict(data or {}))
    head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
    at = timezone.now()
    seq = head.seq + 1
    # A model may keep the name its events were first recorded under (AUDIT_TARGET), so that one thing's
    # history does not split across two names when its class is renamed.
    target_type = getattr(target, "AUDIT_TARGET", target._meta.model_name)
    target_id = str(target.pk)
    actor_id = actor.pk if actor is not None else None
    body = chain.event_body(
        seq=seq,
        at=at,
        code=code,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        payload=payload,
    )
    event_hash = chain.link_hash(head.hash, body)
    event = AuditEvent.objects.create(
        seq=seq,
        at=at,
        code=code,
        actor_id=actor_id,
        program=program or getattr(case, "program", None),
        case=case,
        target_type=target_type,
        target_id=target_id,
        payload=payload,
        prev_hash=head.hash,
        hash=event_hash,
    )
    head.seq, head.hash = seq, event_hash
    head.save(update_fields=["seq", "hash"])
    return event


def _checkpoint_problem(checkpoint: Checkpoint, public_key: str) -> str | None:
    if checkpoint.public_key != public_key:
        return f"the checkpoint at event {checkpoint.seq} is not signed with this server's audit key"
    if not signing.signature_valid(checkpoint.statement(), checkpoint.signature):
        return f"the checkpoint at event {checkpoint.seq} has a signature that does not verify"
    return None


@transaction.atomic
def checkpoint_create() -> Checkpoint | None:
    """Signs the chain's head when events were added since the latest checkpoint; None when none were.

    It first verifies the events since that checkpoint, so that it never signs a rewritten chain, and
    raises ChainBroken if they do not. Not audited: an event for it would extend the chain it signs."""
    head = ChainHead.objects.filter(pk=1).first()
    latest = Checkpoint.objects.order_by("-seq").first()
    if head is None or head.seq == 0 or (latest is not None and latest.seq >= head.seq):
        return None
    public_key = signing.server_public_key()
    start_seq, start_hash = 0, chain.GENESIS
    if latest is not None:
        problem = _checkpoint_problem(latest, public_key)
        if problem:
            raise ChainBroken(problem)
        start_seq, start_hash = latest.seq, latest.hash
    events = AuditEvent.objects.filter(seq__gt=start_seq, seq__lte=head.seq).order_by("seq")
    ok, message = chain.verify(events.iterator(chunk_size=2000), start_seq=start_seq, start_hash=start_hash)
    last = AuditEvent.objects.filter(seq=head.seq).first()
    if ok and (last is None or last.hash != head.hash):
        ok, message = False, f"the chain ends before its recorded head (event {head.seq})"
    if not ok:
        raise ChainBroken(message)
    at = timezone.now()
    body = signing.statement(seq=head.seq, hash=head.hash, at=signing.at_text(at), public_key=public_key)
    try:
        with transaction.atomic():
            return Checkpoint.objects.create(
                seq=head.seq, hash=head.hash, at=at, public_key=public_key, signature=signing.sign(body)
            )
    except IntegrityError:
        # Another worker signed the same head a moment ago.
        return None


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-seq").first()


def chain_verify(*, witness: str | None = None) -> tuple[bool, str]:
    """Checks every checkpoint's signature, walks the whole chain against the links and the checkpoints,
    then, given one, a checkpoint kept elsewhere. Returns (ok, what was found); ValueError for a witness
    that is not a checkpoint."""
    witness_body = witness_signature = None
    if witness is not None:
        witness_body, witness_signature = signing.parse(witness)
    public_key = signing.server_public_key()
    checkpoints = list(Checkpoint.objects.order_by("seq"))
    for checkpoint in checkpoints:
        problem = _checkpoint_problem(checkpoint, public_key)
        if problem:
            return False, problem
    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    ok, message = chain.verify(events, checkpoints={c.seq: c.hash for c in checkpoints})
    if not ok:
        return False, message
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None:
        last = AuditEvent.objects.order_by("-seq").first()
        if last is None or last.seq != head.seq or last.hash != head.hash:
            return False, f"the chain ends before its recorded head (event {head.seq})"
    message += f"; {len(checkpoints)} signed checkpoints match"
    if witness_body is None:
        return True, message
    seq = witness_body["seq"]
    if not signing.signature_valid(witness_body, witness_signature):
        return False, f"the witness checkpoint at event {seq} has a signature that does not verify"
    event = AuditEvent.objects.filter(seq=seq).first()
    if event is None:
        return (
            False,
            f"the witness checkpoint at event {seq} is beyond the end of the chain: events were deleted",
        )
    if event.hash != witness_body["hash"]:
        return False, (
            f"the witness checkpoint at event {seq} no longer matches the chain: the chain was rewritten "
            f"at or before event {seq}"
        )
    message += f"; the witness at event {seq} matches"
    if witness_body["public_key"] != public_key:
        message += " (it was signed with another key than this server's current one)"
    return True, message
