"""Reads of consent: which scopes a person holds now, and the text they would be agreeing to."""

from mend.consent.models import Consent, ConsentText, HarmedPartyChoices, Mode


def current_scopes(participant) -> set[str]:
    cached = getattr(participant, "_current_scopes", None)
    if cached is not None:
        return cached
    scopes = set(
        Consent.objects.filter(participant=participant, withdrawn_at__isnull=True).values_list(
            "scope", flat=True
        )
    )
    participant._current_scopes = scopes
    return scopes


def current_scopes_for(participants) -> dict[int, set[str]]:
    """One query for many people; also primes each participant's cache."""
    by_participant: dict[int, set[str]] = {p.pk: set() for p in participants}
    rows = Consent.objects.filter(participant__in=list(by_participant), withdrawn_at__isnull=True)
    for participant_id, scope in rows.values_list("participant_id", "scope"):
        by_participant[participant_id].add(scope)
    for p in participants:
        p._current_scopes = by_participant[p.pk]
    return by_participant


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
    if hasattr(participant, "_choices"):
        found = participant._choices
    else:
        found = HarmedPartyChoices.objects.filter(participant=participant).first()
    return found or HarmedPartyChoices(participant=participant, mode=Mode.UNDECIDED)


def withdrawn_ids(participants) -> set[int]:
    """Of these people, those who withdrew from taking part and have not come back."""
    ids = [p.pk for p in participants]
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
    return ever - current
