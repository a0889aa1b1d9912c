"""Invariant 8, traceable, against an attacker who can write the database: signed checkpoints catch a chain
whose hashes were recomputed after an edit, and a checkpoint kept elsewhere (a witness) catches even a
chain re-signed with a stolen key."""

import base64
import json
import os
from datetime import timedelta
from io import StringIO

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.management import CommandError, call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mend.audit import chain, services
from mend.audit.models import AuditEvent, ChainHead, Checkpoint
from mend.audit.tasks import audit_checkpoint
from mend.cases import services as case_services


@pytest.fixture(autouse=True)
def _audit_key(settings):
    settings.MEND_AUDIT_KEY = os.urandom(32)
    return settings.MEND_AUDIT_KEY


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _run(*args) -> str:
    out = StringIO()
    call_command("audit", *args, stdout=out)
    return out.getvalue()


def _recompute_from(seq: int) -> None:
    """What an attacker with write access does after an edit: rehash every later link and the head."""
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else chain.GENESIS
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        body = chain.event_body(
            seq=event.seq,
            at=event.at,
            code=event.code,
            actor_id=event.actor_id,
            target_type=event.target_type,
            target_id=event.target_id,
            payload=event.payload,
        )
        event.prev_hash, event.hash = prev, chain.link_hash(prev, body)
        event.save(update_fields=["prev_hash", "hash"])
        prev = event.hash
    last = AuditEvent.objects.order_by("-seq").first()
    ChainHead.objects.filter(pk=1).update(seq=last.seq, hash=last.hash)


def _links_whole() -> bool:
    ok, _ = chain.verify(AuditEvent.objects.order_by("seq"))
    return ok


def _more_events(cast) -> None:
    case_services.case_transition(actor=cast.coordinator, case=cast.case, action="accept_referral")


def test_it_signs_a_checkpoint_with_the_key_from_settings(cast, _audit_key):
    checkpoint = services.checkpoint_create()
    last = AuditEvent.objects.order_by("-seq").first()
    assert (checkpoint.seq, checkpoint.hash) == (last.seq, last.hash)
    public = Ed25519PrivateKey.from_private_bytes(_audit_key).public_key()
    assert _unb64(checkpoint.public_key) == public.public_bytes_raw()
    checkpoint.refresh_from_db()
    signed = {
        "format": "mend.audit.checkpoint/1",
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "at": checkpoint.at.isoformat(timespec="microseconds"),
        "public_key": checkpoint.public_key,
    }
    public.verify(_unb64(checkpoint.signature), rfc8785.dumps(signed))
    with pytest.raises(InvalidSignature):
        public.verify(_unb64(checkpoint.signature), rfc8785.dumps({**signed, "seq": checkpoint.seq - 1}))


def test_it_verifies_an_untouched_chain_with_its_checkpoints(cast):
    services.checkpoint_create()
    _more_events(cast)
    services.checkpoint_create()
    assert "chain intact; 2 signed checkpoints match" in _run("verify")


def test_inv_traceable_an_edited_event_before_a_checkpoint_is_detected_despite_recomputed_hashes(cast):
    checkpoint = services.checkpoint_create()
    _more_events(cast)
    event = AuditEvent.objects.order_by("seq")[3]
    AuditEvent.objects.filter(pk=event.pk).update(payload={"role": "facilitator", "edited": True})
    _recompute_from(event.seq)
    assert _links_whole()
    with pytest.raises(CommandError, match=f"signed checkpoint at event {checkpoint.seq} no longer matches"):
        _run("verify")


def test_inv_traceable_a_deleted_event_before_a_checkpoint_is_detected_despite_recomputed_hashes(cast):
    checkpoint = services.checkpoint_create()
    _more_events(cast)
    gone = AuditEvent.objects.order_by("seq")[2]
    gone.delete()
    for event in AuditEvent.objects.filter(seq__gt=gone.seq).order_by("seq"):
        AuditEvent.objects.filter(pk=event.pk).update(seq=event.seq - 1)
    _recompute_from(gone.seq)
    assert _links_whole()
    with pytest.raises(CommandError, match=f"signed checkpoint at event {checkpoint.seq} no longer matches"):
        _run("verify")


def test_inv_traceable_deleted_events_up_to_a_checkpoint_are_detected(cast):
    checkpoint = services.checkpoint_create()
    AuditEvent.objects.filter(seq__gte=checkpoint.seq - 1).delete()
    _recompute_from(2)
    assert _links_whole()
    with pytest.raises(CommandError, match=f"checkpoint at event {checkpoint.seq} is beyond the end"):
        _run("verify")


def test_inv_traceable_reordered_events_before_a_checkpoint_are_detected_despite_recomputed_hashes(cast):
    checkpoint = services.checkpoint_create()
    first, second = AuditEvent.objects.order_by("seq")[1:3]
    with transaction.atomic():
        AuditEvent.objects.filter(pk=first.pk).update(seq=-1)
        AuditEvent.objects.filter(pk=second.pk).update(seq=first.seq)
        AuditEvent.objects.filter(pk=first.pk).update(seq=second.seq)
    _recompute_from(first.seq)
    assert _links_whole()
    with pytest.raises(CommandError, match=f"signed checkpoint at event {checkpoint.seq} no longer matches"):
        _run("verify")


def test_inv_traceable_a_checkpoint_moved_to_a_rewritten_chain_fails_its_signature(cast):
    checkpoint = services.checkpoint_create()
    event = AuditEvent.objects.order_by("seq")[3]
    AuditEvent.objects.filter(pk=event.pk).update(payload={"role": "facilitator", "edited": True})
    _recompute_from(event.seq)
    Checkpoint.objects.filter(pk=checkpoint.pk).update(hash=ChainHead.objects.get(pk=1).hash)
    with pytest.raises(
        CommandError, match=f"checkpoint at event {checkpoint.seq} has a signature that does not"
    ):
        _run("verify")


def test_it_detects_a_tampered_checkpoint_signature(cast):
    checkpoint = services.checkpoint_create()
    raw = bytearray(_unb64(checkpoint.signature))
    raw[0] ^= 1
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    Checkpoint.objects.filter(pk=checkpoint.pk).update(signature=forged)
    with pytest.raises(
        CommandError, match=f"checkpoint at event {checkpoint.seq} has a signature that does not"
    ):
        _run("verify")


def test_it_detects_a_checkpoint_signed_with_another_key(cast, settings):
    services.checkpoint_create()
    settings.MEND_AUDIT_KEY = os.urandom(32)
    with pytest.raises(CommandError, match="is not signed with this server's audit key"):
        _run("verify")


def test_it_prints_a_checkpoint_that_parses_and_verifies(cast, _audit_key):
    with pytest.raises(CommandError, match="No checkpoint yet"):
        _run("checkpoint")
    printed = json.loads(_run("checkpoint", "--new"))
    signature = _unb64(printed.pop("signature"))
    public = Ed25519PublicKey.from_public_bytes(_unb64(printed["public_key"]))
    public.verify(signature, rfc8785.dumps(printed))
    assert (
        public.public_bytes_raw()
        == Ed25519PrivateKey.from_private_bytes(_audit_key).public_key().public_bytes_raw()
    )
    last = AuditEvent.objects.order_by("-seq").first()
    assert (printed["seq"], printed["hash"]) == (last.seq, last.hash)
    assert json.loads(_run("checkpoint"))["seq"] == last.seq


def test_it_signs_a_new_checkpoint_only_when_events_were_added(cast):
    first = json.loads(_run("checkpoint", "--new"))
    assert json.loads(_run("checkpoint", "--new")) == first
    _more_events(cast)
    assert json.loads(_run("checkpoint", "--new"))["seq"] > first["seq"]
    assert Checkpoint.objects.count() == 2


def test_it_refuses_to_sign_a_broken_chain(cast):
    services.checkpoint_create()
    _more_events(cast)
    event = AuditEvent.objects.order_by("-seq").first()
    AuditEvent.objects.filter(pk=event.pk).update(payload={"edited": True})
    with pytest.raises(
        CommandError, match=f"No checkpoint signed, the audit chain is broken: event {event.seq} "
    ):
        _run("checkpoint", "--new")
    assert Checkpoint.objects.count() == 1


def test_it_verifies_against_a_matching_witness(cast, tmp_path):
    witness = tmp_path / "witness.json"
    witness.write_text(_run("checkpoint", "--new"))
    _more_events(cast)
    seq = json.loads(witness.read_text())["seq"]
    assert f"the witness at event {seq} matches" in _run("verify", "--witness", str(witness))


def test_inv_traceable_a_witness_catches_a_chain_rewritten_and_re_signed_with_the_stolen_key(cast, tmp_path):
    witness = tmp_path / "witness.json"
    witness.write_text(_run("checkpoint", "--new"))
    # The attacker holds the database and the audit key: edit, recompute, re-sign.
    event = AuditEvent.objects.order_by("seq")[3]
    AuditEvent.objects.filter(pk=event.pk).update(payload={"role": "facilitator", "edited": True})
    _recompute_from(event.seq)
    Checkpoint.objects.all().delete()
    services.checkpoint_create()
    assert "chain intact" in _run("verify")
    seq = json.loads(witness.read_text())["seq"]
    with pytest.raises(CommandError, match=f"witness checkpoint at event {seq} no longer matches the chain"):
        _run("verify", "--witness", str(witness))


def test_it_rejects_an_edited_witness(cast, tmp_path):
    printed = json.loads(_run("checkpoint", "--new"))
    printed["hash"] = AuditEvent.objects.get(seq=printed["seq"] - 1).hash
    witness = tmp_path / "witness.json"
    witness.write_text(json.dumps(printed))
    with pytest.raises(CommandError, match="witness checkpoint .* has a signature that does not verify"):
        _run("verify", "--witness", str(witness))


def test_it_explains_a_witness_file_that_is_not_a_checkpoint(cast, tmp_path):
    witness = tmp_path / "witness.json"
    witness.write_text('{"seq": 3}')
    with pytest.raises(CommandError, match="not a Mend checkpoint"):
        _run("verify", "--witness", str(witness))
    with pytest.raises(CommandError, match="cannot be read"):
        _run("verify", "--witness", str(tmp_path / "absent.json"))


def _waiting_jobs():
    return DBTaskResult.objects.filter(task_path=audit_checkpoint.module_path, status="READY")


def test_it_checkpoints_periodically_only_when_new_events_exist(cast):
    _waiting_jobs().delete()
    head = ChainHead.objects.get(pk=1)
    assert audit_checkpoint.call() == head.seq
    assert audit_checkpoint.call() is None
    assert Checkpoint.objects.count() == 1
    _more_events(cast)
    assert audit_checkpoint.call() == ChainHead.objects.get(pk=1).seq
    assert Checkpoint.objects.count() == 2
    waiting = _waiting_jobs().get()
    assert waiting.run_after > timezone.now() + timedelta(minutes=59)


def test_it_books_the_next_run_even_when_the_chain_is_broken(cast):
    _waiting_jobs().delete()
    event = AuditEvent.objects.order_by("seq")[3]
    AuditEvent.objects.filter(pk=event.pk).update(payload={"edited": True})
    with pytest.raises(services.ChainBroken, match=f"event {event.seq} "):
        audit_checkpoint.call()
    assert _waiting_jobs().count() == 1 and not Checkpoint.objects.exists()


def test_it_books_the_checkpoint_job_when_migrating(db):
    _waiting_jobs().delete()
    emit_post_migrate_signal(0, False, "default")
    emit_post_migrate_signal(0, False, "default")
    assert _waiting_jobs().count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_checkpoint_job_in_the_worker(cast):
    _waiting_jobs().delete()
    result = audit_checkpoint.enqueue()
    call_command("worker", batch=True, verbosity=0)
    result.refresh()
    assert result.status == "SUCCESSFUL" and result.return_value == ChainHead.objects.get(pk=1).seq
    assert _waiting_jobs().get().run_after > timezone.now()
