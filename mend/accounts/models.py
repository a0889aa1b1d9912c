"""People, programs (the tenants), memberships with their roles, and personal API tokens."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from mend.accounts.sealing import SealedBundleField
from mend.core.envelope import safety_code_of, unb64u

# Mend's own words for the roles, translated where shown; a program may choose its own, per language.
DEFAULT_ROLE_WORDS = {
    "harmed_party": gettext_noop("person harmed"),
    "responsible_party": gettext_noop("person responsible"),
    "facilitator": gettext_noop("facilitator"),
    "co_facilitator": gettext_noop("co-facilitator"),
    "supporter": gettext_noop("supporter"),
    "community_member": gettext_noop("community member"),
    "interpreter": gettext_noop("interpreter"),
}


class UserManager(BaseUserManager):
    def create_user(self, username, password=None, **fields):
        user = self.model(username=username, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """A staff member (signs in by email) or a case participant (signs in by a generated name)."""

    class Kind(models.TextChoices):
        STAFF = "staff", _("staff")
        PARTICIPANT = "participant", _("participant")

    # Longer than Django's 128: the Argon2 hash is stored sealed with the accounts key (sealing.py).
    password = models.CharField(_("password"), max_length=256)
    username = models.CharField(max_length=254, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    display_name = models.CharField(max_length=80)
    time_zone = models.CharField(max_length=64, default="UTC")
    language = models.CharField(max_length=12, default="en")
    is_active = models.BooleanField(default=True)
    is_demo = models.BooleanField(default=False)
    # "install": the stored hash is of the key the browser derives with this install's sign-in salt
    # (docs/crypto.md); "derived": with the salt every install shared before; "legacy": of the password
    # itself. The last two convert at the next sign-in.
    auth_scheme = models.CharField(max_length=8, default="install")
    date_joined = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "username"
    objects = UserManager()

    def __str__(self):
        return self.display_name

    @property
    def is_staff_member(self) -> bool:
        return self.kind == self.Kind.STAFF


class Program(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    default_language = models.CharField(max_length=12, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")
    jurisdictions = models.JSONField(default=list)
    role_words = models.JSONField(default=dict)  # {language: {role: word}}: the program's own words
    retention_days = models.PositiveIntegerField(default=365 * 7)
    # For meetings larger than Mend's own video (six people): the program's self-hosted Jitsi, if any.
    jitsi_url = models.URLField(blank=True)
    # The name shown in tab titles, the page header and emails instead of "Mend", so that a shared phone or
    # a watched inbox need not say what this is (issue 18); blank: "Mend". Set through
    # mend.accounts.site_name, which checks it. Empty in the database too, so that code from before the
    # column (a rolling deploy, or a data migration written then) still adds programs.
    site_name = models.CharField(max_length=60, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name

    def word_for(self, role: str) -> str:
        """The word for `role` in the language being shown: the program's own, else Mend's, translated."""
        language = translation.get_language() or settings.LANGUAGE_CODE
        own = self.words_in(language).get(role)
        return own or (gettext(DEFAULT_ROLE_WORDS[role]) if role in DEFAULT_ROLE_WORDS else role)

    def words_in(self, language: str) -> dict[str, str]:
        return dict(self.role_words.get(language) or {})


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("admin")
        COORDINATOR = "coordinator", _("coordinator")
        FACILITATOR = "facilitator", _("facilitator")
        VOLUNTEER = "volunteer", _("volunteer")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "program"], name="one_membership_per_program")]

    def __str__(self):
        return f"{self.user} in {self.program} ({self.role})"

    @property
    def sees_all_cases(self) -> bool:
        return self.role in {self.Role.ADMIN, self.Role.COORDINATOR}


class ApiToken(models.Model):
    """A staff member's personal API token; only its SHA-256 is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    label = models.CharField(max_length=80)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.label} ({self.prefix}…)"


class Invitation(models.Model):
    """A one-time link that lets one person take up their place in a case."""

    participant = models.ForeignKey("cases.Participant", on_delete=models.CASCADE, related_name="invitations")
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"invitation {self.pk}"

    def state(self, now) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "open"


class KeyBundle(models.Model):
    """A person's public keys and their private keys wrapped in the browser (docs/crypto.md). The server
    cannot unwrap them. A replaced bundle stays, so that old messages still name a known key."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="key_bundles")
    key_id = models.CharField(max_length=22, unique=True)
    enc_public = models.CharField(max_length=43)
    sign_public = models.CharField(max_length=43)
    # Both sealed at rest with the accounts key (sealing.py): a copy of the database alone holds nothing
    # a passphrase guess can be tested against.
    wrapped = SealedBundleField()
    recovery_wrapped = SealedBundleField()
    # The sign-in salt the passphrase's wrapping key was derived with: 2 with this install's id, 1 the salt
    # every install shared before. The browser wraps a version 1 bundle again at the next sign-in.
    wrapped_salt = models.PositiveSmallIntegerField(default=2)
    recovery_verifier = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(replaced_at__isnull=True), name="one_current_key_bundle"
            )
        ]

    def __str__(self):
        return f"keys {self.key_id}"

    @property
    def safety_code(self) -> str:
        return safety_code_of(unb64u(self.enc_public), unb64u(self.sign_public))
