"""Reads of consent: which scopes a person holds now, and the text they would be agreeing to."""

from mend.consent.models import Consent, ConsentText, HarmedPartyChoices, Mode


def current_scopes(participant) -> set[str]:
    """The scopes one person holds now, read afresh (a whole case's: mend.readiness.snapshot)."""
    return set(
        Consent.objects.filter(participant=participant, withdrawn_at__isnull=True).values_list(
            "scope", flat=True
        )
    )


def scopes_and_stopped(participant) -> tuple[set[str], bool]:
    """The scopes one person holds now, and whether they withdrew from taking part (consented once, not
    now), in one query: what their own page needs to say where they stand."""
    current, took_part = set(), False
    for scope, withdrawn_at in Consent.objects.filter(participant=participant).values_list(
        "scope", "withdrawn_at"
    ):
        took_part = took_part or scope == "take_part"
        if withdrawn_at is None:
            current.add(scope)
    return current, took_part and "take_part" not in current


def current_text(program, scope: str) -> ConsentText | None:
    """The wording of one scope that a person agrees to now: its newest version."""
    return ConsentText.objects.filter(program=program, scope=scope).order_by("-version").first()


def current_texts(program) -> dict[str, ConsentText]:
    """The newest version of each scope's text for the program."""
    texts: dict[str, ConsentText] = {}
    for text in ConsentText.objects.filter(program=program).order_by("scope", "version"):
        texts[text.scope] = text
    return texts


def choices_of(participant) -> HarmedPartyChoices:
    """The person harmed's choices, or the defaults (nothing decided, nobody else attends, no updates)."""
    found = HarmedPartyChoices.objects.filter(participant=participant).first()
    return found or HarmedPartyChoices(participant=participant, mode=Mode.UNDECIDED)


def withdrawn_ids(participants) -> set[int]:
    """Of these people, those who withdrew from taking part, or whom staff marked as not in the process, and
    who have not come back: nothing new reaches them."""
    ids = [p.pk for p in participants]
    excluded = {p.pk for p in participants if p.excluded_at is not None}
    ever = set(
        Consent.objects.filter(participant__in=ids, scope="take_part").values_list(
            "participant_id", flat=True
        )
    )
    current = set(
        Consent.objects.filter(participant__in=ids, scope="take_part", withdrawn_at__isnull=True).values_list(
            "participant_id", flat=True
        )
    )
    return (ever - current) | excluded
