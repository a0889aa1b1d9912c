"""Forms for signing in, the second factor, joining a case, one's settings and API tokens: they parse,
services decide."""

import functools

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mend.accounts.credentials import normalise_phrase
from mend.accounts.keys import check_auth_key
from mend.accounts.models import DEFAULT_ROLE_WORDS
from mend.accounts.site_name import MAX_LENGTH as SITE_NAME_MAX_LENGTH
from mend.core import i18n
from mend.core.errors import DomainError
from mend.core.time_zones import time_zone_choices
from mend.core.validators import language_choices

# Kept for the forms that still import it from here (mend/cases/forms.py); new code calls time_zone_choices.
TIME_ZONE_CHOICES = time_zone_choices


NEEDS_JAVASCRIPT = _(
    "Signing in needs JavaScript turned on: your browser turns your passphrase into a key, so that the "
    "passphrase itself never leaves this device."
)


class SignInForm(forms.Form):
    """What the sign-in page sends: the identifier and the key derived from the passphrase in the browser.
    `legacy_secret` comes once, for an account made before that scheme (docs/crypto.md)."""

    identifier = forms.CharField(label=_("Email or sign-in name"), max_length=254)
    auth_key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=43,
        error_messages={"required": NEEDS_JAVASCRIPT, "max_length": NEEDS_JAVASCRIPT},
    )
    legacy_secret = forms.CharField(required=False, max_length=256, widget=forms.HiddenInput)
    # Once, for an account whose key is derived with the salt every install shared before (docs/crypto.md).
    old_auth_key = forms.CharField(required=False, max_length=43, widget=forms.HiddenInput)

    def clean_auth_key(self):
        try:
            return check_auth_key(self.cleaned_data["auth_key"])
        except DomainError:
            raise forms.ValidationError(NEEDS_JAVASCRIPT) from None

    def clean_old_auth_key(self):
        value = self.cleaned_data.get("old_auth_key") or ""
        try:
            return check_auth_key(value) if value else ""
        except DomainError:
            raise forms.ValidationError(NEEDS_JAVASCRIPT) from None

    def credentials(self) -> tuple[str, str, str, str]:
        identifier = self.cleaned_data["identifier"].strip().lower()
        legacy = self.cleaned_data.get("legacy_secret") or ""
        if legacy and "@" not in identifier:
            legacy = normalise_phrase(legacy)
        return identifier, self.cleaned_data["auth_key"], legacy, self.cleaned_data.get("old_auth_key") or ""


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class JoinForm(forms.Form):
    """The choices a person makes on joining; the keys their browser made come alongside (`JoinKeysForm`)."""

    pseudonym = forms.CharField(
        label=_("The name others in the case will see"),
        max_length=40,
        help_text=_("Pick any name. It does not need to be your real name."),
    )
    preferred_language = forms.ChoiceField(
        label=_("The language you would like to use"),
        choices=lambda: [("", "")] + language_choices(),
        required=False,
        help_text=_("Your facilitator can arrange an interpreter."),
    )
    time_zone = forms.ChoiceField(label=_("Your time zone"), choices=time_zone_choices, initial="UTC")
    accessibility_needs = forms.CharField(
        label=_("Anything that would make taking part easier for you (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contact_method = forms.CharField(
        label=_("A way to tell you about new messages (optional)"),
        required=False,
        max_length=200,
        help_text=_("For example an email address. We will never put case details in a notification."),
    )

    def __init__(self, *args, likely: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out, the likely zone is the one the page suggests (the program's).
        suggested = [zone for zone in [self.initial.get("time_zone")] if zone]
        self.fields["time_zone"].choices = functools.partial(
            time_zone_choices, likely=likely if likely is not None else suggested
        )


class _LanguageSelect(forms.Select):
    """Each language named in itself, marked with its own `lang` so that a screen reader says it rightly."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        option["attrs"]["lang"] = value
        return option


class SettingsForm(forms.Form):
    """A person's own settings: time zone and language for everyone; for someone taking part in a case,
    also how they hear of new messages and whether others see that they have read them."""

    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        help_text=_(
            "Mend shows dates and times in this time zone. The likely ones come first; in the list, typing "
            "the first letters of a city takes you to it."
        ),
    )
    language = forms.ChoiceField(
        label=_("The language you read Mend in"), choices=settings.LANGUAGES, widget=_LanguageSelect
    )
    contact_method = forms.CharField(
        label=_("A way to tell you about new messages (optional)"),
        required=False,
        max_length=200,
        help_text=_("For example an email address. We will never put case details in a notification."),
    )
    read_receipts = forms.BooleanField(
        label=_("Let others see when I have read their messages"),
        required=False,
        help_text=_("When this is off, others do not see when you have read their messages."),
    )

    def __init__(self, *args, likely: list[str], taking_part: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = functools.partial(time_zone_choices, likely=likely)
        if not taking_part:
            del self.fields["contact_method"], self.fields["read_receipts"]

    def clean_language(self):
        try:
            return i18n.chosen(self.cleaned_data["language"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


class ApiTokenForm(forms.Form):
    label = forms.CharField(label=_("What is this token for?"), max_length=80)


class RoleWordsForm(forms.Form):
    """The words of one language, one field per role; left empty, Mend's own word is used."""

    # Left out, the words are the program's default language's.
    language = forms.ChoiceField(
        label=_("Language of these words"), choices=settings.LANGUAGES, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = self["language"].value() or settings.LANGUAGE_CODE
        for role, default in DEFAULT_ROLE_WORDS.items():
            with translation.override(i18n.supported(language) or settings.LANGUAGE_CODE):
                in_language = gettext(default)
            self.fields[role] = forms.CharField(
                label=gettext(default).capitalize(),
                required=False,
                max_length=40,
                help_text=_("Left empty, Mend says “%(word)s”.") % {"word": in_language},
            )


# Languages whose sentences put an article before a role word: Mend's own words all start with a feminine
# noun ("persona", "personne"), so the sentences around them say "la"; a program's own words must read
# well after it.
ROLE_WORD_NOTES = {
    "es": _(
        "In Spanish, Mend puts these words after “la” or “una”, as in “la persona afectada”. "
        "Words that start with “persona” read well for everyone."
    ),
    "fr": _(
        "In French, Mend puts these words after “la” or “une”, as in “la personne touchée”. "
        "Words that start with “personne” read well for everyone."
    ),
}


class SiteNameForm(forms.Form):
    """The name the program's pages and emails go by instead of "Mend" (mend.accounts.site_name checks it)."""

    site_name = forms.CharField(
        label=_("Site name"),
        required=False,
        # Only the browser's limit here: mend.accounts.site_name checks the length, and says so.
        widget=forms.TextInput(attrs={"maxlength": SITE_NAME_MAX_LENGTH}),
        help_text=_(
            "Shown in the browser tab, at the top of every page and in emails, instead of “Mend”. "
            "A plain name, like “Northside Wellbeing”, does not tell others what it is. "
            "Left empty, it is “Mend”."
        ),
    )


class _KeysField(forms.JSONField):
    """JSON whose nesting too deep for the parser is refused like any other malformed JSON, not a 500."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class JoinKeysForm(forms.Form):
    """What the join page's script adds: the sign-in name it was given, the derived sign-in key, and the
    keys it made, as JSON. Without JavaScript these are missing, and the person is told why."""

    sign_in_name = forms.CharField(max_length=200, error_messages={"required": NEEDS_JAVASCRIPT})
    auth_key = forms.CharField(
        max_length=43, error_messages={"required": NEEDS_JAVASCRIPT, "max_length": NEEDS_JAVASCRIPT}
    )
    keys = _KeysField(error_messages={"required": NEEDS_JAVASCRIPT, "invalid": NEEDS_JAVASCRIPT})

    KEY_FIELDS = frozenset({"enc_public", "sign_public", "wrapped", "recovery_wrapped", "recovery_auth"})

    def clean_keys(self):
        # The parts themselves are checked by accounts.keys; here only that these are the parts.
        keys = self.cleaned_data["keys"]
        if not isinstance(keys, dict) or set(keys) != self.KEY_FIELDS:
            raise forms.ValidationError(
                _("The keys are not in the form Mend's page makes. Reload the page and try again.")
            )
        return keys
