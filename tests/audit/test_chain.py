"""Invariant 8, traceable: every change is in the chain, and `mend audit verify` finds any tampering."""

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from mend import audit
from mend.audit.models import AuditEvent
from mend.cases import services


def _verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


def test_inv_traceable_an_untouched_chain_verifies(cast):
    assert "chain intact" in _verify()


def test_inv_traceable_stage_changes_are_in_the_chain(cast):
    services.case_transition(actor=cast.coordinator, case=cast.case, action="accept_referral")
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.code == "case.stage_changed"
    assert event.payload == {"action": "accept_referral", "from": "referral", "to": "intake"}
    assert event.actor == cast.coordinator and event.case == cast.case


def test_inv_traceable_an_edited_event_is_detected(cast):
    event = AuditEvent.objects.order_by("seq")[3]
    AuditEvent.objects.filter(pk=event.pk).update(payload={"role": "facilitator", "edited": True})
    with pytest.raises(CommandError, match=f"event {event.seq} "):
        _verify()


def test_inv_traceable_a_deleted_event_is_detected(cast):
    event = AuditEvent.objects.order_by("seq")[2]
    AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(CommandError, match=f"event {event.seq} is missing"):
        _verify()


def test_inv_traceable_a_deleted_last_event_is_detected(cast):
    AuditEvent.objects.order_by("-seq").first().delete()
    with pytest.raises(CommandError, match="ends before its recorded head"):
        _verify()


def test_inv_traceable_reordered_events_are_detected(cast):
    first, second = AuditEvent.objects.order_by("seq")[1:3]
    with transaction.atomic():
        AuditEvent.objects.filter(pk=first.pk).update(seq=-1)
        AuditEvent.objects.filter(pk=second.pk).update(seq=first.seq)
        AuditEvent.objects.filter(pk=first.pk).update(seq=second.seq)
    with pytest.raises(CommandError, match=f"event {first.seq} "):
        _verify()


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_record_outside_a_transaction(cast):
    with pytest.raises(RuntimeError):
        audit.record(actor=None, code="case.viewed", target=cast.case)


def test_it_refuses_free_text_in_a_payload(cast):
    with pytest.raises(ValueError, match="short code or id"), transaction.atomic():
        audit.record(actor=None, code="case.created", target=cast.case, data={"note": "x" * 200})
