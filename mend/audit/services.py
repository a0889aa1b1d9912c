"""The one way to write an audit event: inside the caller's transaction, extending the chain."""

from django.db import transaction
from django.utils import timezone

from mend.audit import chain
from mend.audit.models import AuditEvent, ChainHead

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


def record(*, actor, code: str, target, case=None, program=None, data: dict | None = None) -> AuditEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the change it records")
    assert "." in code, "audit codes are namespaced, like case.stage_changed"
    payload = _check_payload(dict(data or {}))
    head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
    at = timezone.now()
    seq = head.seq + 1
    target_type = target._meta.model_name
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
