"""Every change to people, programs, memberships, second factors and API tokens happens here."""

import re
from collections.abc import Callable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from mend import audit
from mend.accounts.keys import credentials_from_secret
from mend.accounts.models import DEFAULT_ROLE_WORDS, ApiToken, Membership, Program, User
from mend.audit.codes import AuditCode
from mend.core import i18n, validators
from mend.core.errors import Conflict, DomainError
from mend.core.ids import token, token_digest

# Words Mend never shows for a person, in each interface language (issue 17: none on screen in any).
NEVER_ON_SCREEN = {
    *("victim", "offender", "perpetrator", "abuser"),
    *("víctima", "victima", "agresor", "agresora", "ofensor", "ofensora", "delincuente", "victimario"),
    *("victime", "agresseur", "délinquant", "délinquante", "auteur", "coupable"),
    *("ضحية", "الضحية", "الجاني", "جاني", "المعتدي", "معتدي", "المجرم"),
}


def never_on_screen(text: str) -> set[str]:
    """The words of `text` Mend never shows for a person, whole word by whole word ("la víctima" too)."""
    return NEVER_ON_SCREEN & set(re.findall(r"\w+", text.lower()))


# What a new program starts with, app by app (consent: the default consent texts). Accounts sits below them
# in the layers (docs/layers.md), so each registers `setup(actor=, program=)` in its AppConfig.ready().
_program_setups: list[Callable[..., None]] = []


def register_program_setup(setup: Callable[..., None]) -> None:
    if setup not in _program_setups:
        _program_setups.append(setup)


def _clean_name(value: str, what: str, max_length: int) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise DomainError(f"Please enter a {what}.", field=what)
    if len(value) > max_length:
        raise DomainError(f"The {what} can be at most {max_length} characters.", field=what)
    return value


@transaction.atomic
def program_create(
    *,
    actor: User | None,
    name: str,
    slug: str,
    default_language: str = "en",
    time_zone: str = "UTC",
    jurisdictions: list[str],
    role_words: dict | None = None,
    retention_days: int = 365 * 7,
) -> Program:
    words = dict(role_words or {})
    unknown = set(words) - set(DEFAULT_ROLE_WORDS)
    if unknown:
        raise DomainError(
            _("These are not roles Mend knows: %(roles)s.") % {"roles": ", ".join(sorted(unknown))}
        )
    if retention_days < 30:
        raise DomainError(_("Keep case records for at least 30 days."))
    program = Program.objects.create(
        name=_clean_name(name, "program name", 120),
        slug=slug,
        default_language=validators.language(default_language),
        time_zone=validators.time_zone(time_zone),
        jurisdictions=validators.jurisdictions(jurisdictions),
        role_words={default_language: words} if words else {},
        retention_days=retention_days,
    )
    audit.record(actor=actor, code=AuditCode.PROGRAM_CREATED, target=program, program=program)
    for setup in _program_setups:
        setup(actor=actor, program=program)
    return program


@transaction.atomic
def staff_create(
    *,
    actor: User | None,
    email: str,
    display_name: str,
    password: str,
    program: Program,
    role: str,
    time_zone: str = "UTC",
    is_demo: bool = False,
) -> User:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError("Please enter an email address like name@example.org.", field="email") from None
    if role not in Membership.Role.values:
        raise DomainError(f"Choose one of these roles: {', '.join(Membership.Role.values)}.", field="role")
    user = User(
        username=email,
        kind=User.Kind.STAFF,
        display_name=_clean_name(display_name, "name", 80),
        time_zone=validators.time_zone(time_zone),
        is_demo=is_demo,
    )
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field="password") from None
    # Made on the command line, so the derived sign-in key is computed here, as the sign-in page would.

    user.set_password(credentials_from_secret(email, password)[0])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict("Someone with that email address already has an account.", field="email") from None
    membership = Membership.objects.create(user=user, program=program, role=role)
    audit.record(
        actor=actor,
        code=AuditCode.MEMBERSHIP_CREATED,
        target=membership,
        program=program,
        data={"role": role},
    )
    return user


def check_totp_code(code: str) -> str:
    code = "".join((code or "").split())
    if not code.isdigit() or len(code) != 6:
        raise DomainError("Enter the 6-digit code your authenticator app shows.", field="code")
    return code


def check_totp_code_or_blank(code: str) -> str:
    """The code if it has the right form, else an empty string that matches nothing."""
    try:
        return check_totp_code(code)
    except DomainError:
        return ""


WRONG_CODE = "That code did not match. Check the time on your phone and try the newest code."


@transaction.atomic
def totp_device_enrol(*, actor: User, key: str, code: str) -> TOTPDevice:
    """Keeps the authenticator the person scanned, once they prove it works with a current code."""
    code = check_totp_code(code)
    if TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
        raise Conflict("You already have an authenticator app set up.")
    device = TOTPDevice(user=actor, name="authenticator app", key=key, confirmed=True)
    if not device.verify_token(code):
        raise DomainError(WRONG_CODE, field="code")
    device.save()
    audit.record(actor=actor, code=AuditCode.ACCOUNT_SECOND_FACTOR_ENROLLED, target=actor)
    return device


@transaction.atomic
def api_token_create(*, actor: User, label: str) -> tuple[ApiToken, str]:
    if not actor.is_staff_member:
        raise DomainError("Only staff can make API tokens.")
    raw = "mend_" + token()
    api_token = ApiToken.objects.create(
        user=actor, label=_clean_name(label, "label", 80), digest=token_digest(raw), prefix=raw[5:11]
    )
    audit.record(actor=actor, code=AuditCode.API_TOKEN_CREATED, target=api_token)
    return api_token, raw


@transaction.atomic
def api_token_revoke(*, actor: User, api_token: ApiToken) -> ApiToken:
    api_token = ApiToken.objects.select_for_update().get(pk=api_token.pk)
    if api_token.revoked_at is None:
        api_token.revoked_at = timezone.now()
        api_token.save(update_fields=["revoked_at"])
        audit.record(actor=actor, code=AuditCode.API_TOKEN_REVOKED, target=api_token)
    return api_token


@transaction.atomic
def program_role_words_update(
    *, actor: User, program: Program, words: dict[str, str], language: str | None = None
) -> Program:
    """A program's own words for the roles in one language, shown on every page in that language; an empty
    word falls back to Mend's own word, translated."""
    language = i18n.chosen(language or program.default_language)
    cleaned = {}
    for role, word in words.items():
        if role not in DEFAULT_ROLE_WORDS:
            raise DomainError(_("“%(role)s” is not a role Mend knows.") % {"role": role})
        word = " ".join((word or "").split())
        if len(word) > 40:
            raise DomainError(_("Each word for a role can be at most 40 characters."), field=role)
        if never_on_screen(word):
            raise DomainError(
                _(
                    "Mend never shows that word on screen. "
                    "Try words like “person harmed” or “person responsible”."
                ),
                field=role,
            )
        if word:
            cleaned[role] = word
    program = Program.objects.select_for_update().get(pk=program.pk)
    program.role_words = {**program.role_words, language: cleaned}
    program.save(update_fields=["role_words"])
    audit.record(actor=actor, code=AuditCode.PROGRAM_ROLE_WORDS_CHANGED, target=program, program=program)
    return program


@transaction.atomic
def account_lock_record(sender=None, *, user: User, scope: str, **kwargs) -> None:
    """The audit event for a name paused for one address (throttle.name_paused): who was targeted and at
    which door, nothing they typed and not the address."""
    audit.record(actor=None, code=AuditCode.ACCOUNT_LOCKED, target=user, data={"scope": scope})


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    """The language a person reads Mend in, chosen by them (the switcher at the foot of every page)."""
    code = i18n.chosen(language)
    if user.language != code:
        user.language = code
        user.save(update_fields=["language"])
    return user


@transaction.atomic
def user_time_zone_set(*, user: User, time_zone: str) -> User:
    """The time zone a person reads dates in, chosen by them (their settings page). Their places in cases
    follow it through mend.cases.services.person_time_zone_set, which calls this."""
    name = validators.time_zone((time_zone or "").strip())
    if user.time_zone != name:
        user.time_zone = name
        user.save(update_fields=["time_zone"])
    return user
