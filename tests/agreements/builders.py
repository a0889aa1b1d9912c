"""Building agreements in tests through the services, as the pages would: drafted, opened, signed."""

from datetime import timedelta

from django.utils import timezone

from mend.accounts.models import KeyBundle
from mend.agreements import document, services
from mend.agreements.models import Commitment, Version
from mend.cases import services as case_services
from mend.core import envelope as env
from tests.builders import prepare_for_encounter
from tests.dialogue.helpers import give_keys

TERMS = "We agree to repair what can be repaired, at a pace that is safe for Wren."


def at_encounter(cast) -> None:
    prepare_for_encounter(cast, mode="indirect")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")


def drafted(cast, *, items: int = 2) -> Version:
    version = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    services.version_terms_save(actor=cast.facilitator, version=version, terms=TERMS)
    kinds = [
        ("learning", "Finish a consent education course.", {"programme": "Consent and respect, 6 weeks"}),
        (
            "restitution",
            "Pay back the cost of the new phone.",
            {"amount": "250", "currency": "NZD", "schedule": "Four payments, monthly"},
        ),
        (
            "digital_repair",
            "Delete every copy of the photos.",
            {"what": "Photos on the laptop and the cloud account"},
        ),
        ("apology", "Write a letter of apology.", {"channel": "Through the facilitator"}),
    ]
    for n in range(items):
        kind, description, details = kinds[n % len(kinds)]
        services.item_save(
            actor=cast.facilitator,
            version=version,
            kind=kind,
            description=description,
            owner=cast.responsible,
            due_on=timezone.localdate() + timedelta(days=30 * (n + 1)),
            verification="The facilitator sees a receipt or a certificate.",
            details=details,
        )
    return version


def sign_as(place, version: Version, keys, typed_name: str | None = None):
    version.refresh_from_db()
    typed_name = typed_name or place.pseudonym
    signature = env.b64u(keys.sign.sign(document.signed_bytes(str(version.document), typed_name)))
    key_id = KeyBundle.objects.get(user=place.user, replaced_at__isnull=True).key_id
    return services.version_sign(
        actor=place.user,
        place=place,
        version=version,
        typed_name=typed_name,
        key_id=key_id,
        signature=signature,
    )


def keys_for(cast) -> dict:
    return {
        "harmed": give_keys(cast.harmed.user),
        "responsible": give_keys(cast.responsible.user),
        "facilitator": give_keys(cast.facilitator),
    }


def signed(cast, *, items: int = 2, keys: dict | None = None) -> Version:
    """An agreement in force: drafted, opened, and signed by both parties."""
    keys = keys or keys_for(cast)
    version = drafted(cast, items=items)
    services.version_open(actor=cast.facilitator, version=version)
    sign_as(cast.harmed, version, keys["harmed"])
    sign_as(cast.responsible, version, keys["responsible"])
    version.refresh_from_db()
    return version


def commitment(version: Version, n: int = 0) -> Commitment:
    uid = list(version.items.order_by("position").values_list("uid", flat=True))[n]
    return Commitment.objects.get(agreement=version.agreement, item_uid=uid)
