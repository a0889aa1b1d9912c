"""Mend's one settings file: every value comes from the environment through mend.env."""

import dj_database_url
from csp.constants import NONE, SELF

from mend import env as env_module
from mend.formats.en import formats as english_formats

ENV = env_module.read()
BASE_DIR = env_module.BASE_DIR

SECRET_KEY = ENV.secret_key
DEBUG = ENV.debug
ALLOWED_HOSTS = ENV.allowed_hosts
MEND_DEMO = ENV.demo
# Mounts the benchmark's bare baselines (mend.bench); refused unless the server is local (mend.env).
MEND_BENCH = ENV.bench
MEND_QUICK_EXIT_URL = ENV.quick_exit_url
MEND_INVITATION_DAYS = ENV.invitation_days
MEND_EMBEDDED_WORKER = ENV.embedded_worker
# STUN and TURN servers for the video rooms (mend.env._ice_servers); none are needed on one network.
MEND_ICE_SERVERS = ENV.ice_servers

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "channels",
    "csp",
    "statici18n",
    "mend.core",
    "mend.audit",
    "mend.accounts",
    "mend.keystore",
    "mend.rights",
    "mend.cases",
    "mend.consent",
    "mend.assessments",
    "mend.readiness",
    "mend.circles",
    "mend.meetings",
    "mend.dialogue",
    "mend.agreements",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mend.core.middleware.StaticFilesMiddleware",  # WhiteNoise, quiet under ASGI
    "mend.core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the session time-outs, which leave a message on the sign-in page when they sign someone out.
    "django.contrib.messages.middleware.MessageMiddleware",
    "mend.core.middleware.SessionTimeoutMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "mend.accounts.middleware.StaffSecondFactorMiddleware",
    "mend.core.middleware.ViewerTimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mend.urls"
ASGI_APPLICATION = "mend.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "mend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "mend.core.context_processors.mend",
                "mend.accounts.context_processors.site_name",
            ],
        },
    },
]


def _database(url: str) -> dict:
    """Connections are pooled, never persistent: Django closes them after each request and each
    database_sync_to_async call under ASGI, and the pool keeps them open for the next one."""
    db = dj_database_url.parse(url, conn_max_age=0)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE takes the write lock at BEGIN, so the audit chain never forks; WAL lets reads go on.
        db["ENGINE"] = "mend.core.sqlite"
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    else:
        # Django's pool (psycopg_pool): a request takes a connection and gives it back when it ends.
        db["OPTIONS"] = {**db.get("OPTIONS", {}), "pool": {"min_size": 1, "max_size": ENV.db_pool_size}}
    return db


if ENV.database_url.startswith("sqlite:"):
    ENV.var_dir.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": _database(ENV.database_url)}
if ENV.keystore_database_url:
    # The case data keys can live in a database of their own, so that a backup of the main one alone
    # cannot be read (mend.keystore, docs/deploy.md).
    DATABASES["keystore"] = _database(ENV.keystore_database_url)
DATABASE_ROUTERS = ["mend.keystore.routers.KeystoreRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if ENV.redis_url:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": ENV.redis_url}
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 ends a socket read after 5 s by default, as long as channels_redis's own wait for a
            # message: without this, every websocket quiet for 5 s would die (django/channels_redis#422).
            "CONFIG": {"hosts": [{"address": ENV.redis_url, "socket_timeout": None}]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

PASSWORD_HASHERS = [
    # Argon2, sealed with the accounts key of the key store (mend.accounts.sealing); plain hashes from
    # before are checked and sealed at the next sign-in.
    "mend.accounts.sealing.SealedPasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Keys, read once at start (mend.env): the audit checkpoint signing key, and the master key that wraps each
# case's data key (encryption at rest). Neither is ever written to the database or a log.
MEND_AUDIT_KEY = ENV.audit_key
MEND_MASTER_KEY = ENV.master_key
# Public, made once per install: part of the sign-in salt (mend.accounts.keys, docs/crypto.md).
MEND_INSTALL_ID = ENV.install_id
# Sessions end after this long without a request, and this long after signing in, whatever happens
# (mend.core.middleware.SessionTimeoutMiddleware; docs/hardening.md).
MEND_SESSION_IDLE_MINUTES = ENV.session_idle_minutes
MEND_SESSION_MAX_HOURS = ENV.session_max_hours

SESSION_ENGINE = "django.contrib.sessions.backends.db"
# The stored session outlives no sign-in: the middleware ends it earlier, this bounds what is kept.
SESSION_COOKIE_AGE = MEND_SESSION_MAX_HOURS * 60 * 60
# A shared computer: closing the browser ends the session, even without the quick exit.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# Lax, not Strict: under Strict a person following a link to Mend from their mail would land signed out.
# Cross-site posts carry no cookie under either, and every post needs the CSRF token as well.
SESSION_COOKIE_SAMESITE = "Lax"
# Secure whenever Mend is served over HTTPS; plain HTTP is for a local, embedded run only.
SESSION_COOKIE_SECURE = ENV.https
CSRF_COOKIE_SECURE = ENV.https
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "mend.core.csrf.csrf_failure"
SECURE_SSL_REDIRECT = ENV.https
# Sent on every HTTPS response (SecurityMiddleware adds it to secure requests only), whether TLS ends at
# a proxy (MEND_HTTPS=1) or elsewhere. Preloading commits a whole domain: an operator opts in.
SECURE_HSTS_SECONDS = 63072000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = ENV.hsts_preload
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if ENV.https else None
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with every form post, which
# Django's CSRF check rightly refuses. Other sites receive no referrer under either (docs/hardening.md).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Checks `mend check --deploy` may skip, each with its reason (tests/core/test_deploy_check.py).
SILENCED_SYSTEM_CHECKS = []
if not SECURE_HSTS_PRELOAD:
    # W021 asks for HSTS preloading, which binds every subdomain of the registrable domain for months and
    # is the domain owner's decision, not Mend's: MEND_HSTS_PRELOAD=1 opts in (docs/hardening.md).
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Rate limits and lock-out (mend.core.throttle), counted with django-ratelimit in the default cache:
# Redis when scaled, so every server process shares the counts; in process when embedded (one process).
RATELIMIT_USE_CACHE = "default"
RATELIMIT_CACHE_PREFIX = "mend:rl:"
# The client's address: X-Forwarded-For is believed only from these proxies (MEND_TRUSTED_PROXIES).
RATELIMIT_IP_META_KEY = "mend.core.throttle.client_address"
MEND_TRUSTED_PROXIES = ENV.trusted_proxies
# Failed tries per address, per name from one address and per invitation (keys: every fetch, per person).
# A name past its count is paused for that address for MEND_LOCKOUT_MINUTES, never for its owner elsewhere;
# anything else past its count is answered 429 until its window ends. What each door counts:
# docs/hardening.md.
MEND_RATE_LIMITS = {
    "sign_in.address": "30/15m",
    "sign_in.account": "5/15m",
    "recover.address": "20/h",
    "recover.account": "5/h",
    "join.address": "20/h",
    "join.invitation": "20/h",
    "keys.account": "30/15m",
    # What one person sends, through the websocket and HTTP alike (docs/hardening.md).
    "message.person": "60/m",
    "upload.person": "20/10m",
}
MEND_LOCKOUT_MINUTES = 15
if ENV.bench:  # the benchmark sends as fast as it can from one person: counted, never refused
    MEND_RATE_LIMITS["message.person"] = "1000000/m"
# Files uploaded and not (yet) sent with a message: at most this many per person at a time, and each is
# deleted after MEND_UNSENT_FILE_HOURS (mend.dialogue.tasks).
MEND_UNSENT_FILES_MAX = 10
MEND_UNSENT_FILE_HOURS = 24

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LANGUAGE_CODE = "en"
# Each language in its own name, as the switcher offers it. docs/languages.md says how to add one.
LANGUAGES = [("en", "English"), ("es", "Español"), ("fr", "Français"), ("ar", "العربية")]
USE_I18N = True
FORMAT_MODULE_PATH = ["mend.formats"]  # one set of date formats per language (mend/formats/en/formats.py)
# A language without a module of its own (one being added, or the tests' pseudo-locale) falls back to these,
# never to Django's "N j, Y, P", which writes "noon" and "midnight" in English.
DATE_FORMAT = SHORT_DATE_FORMAT = english_formats.DATE_FORMAT
SHORT_DATETIME_FORMAT = english_formats.SHORT_DATETIME_FORMAT
DATETIME_FORMAT = english_formats.DATETIME_FORMAT
TIME_FORMAT = english_formats.TIME_FORMAT
USE_TZ = True
TIME_ZONE = "UTC"
LOCALE_PATHS = [BASE_DIR / "mend" / "locale"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "mend" / "static"]
STATIC_ROOT = ENV.var_dir / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
# The browser modules' translations: Django's JavaScript catalogue of each language, written as a static file
# (mend/static/jsi18n/<lang>/djangojs.js) by `make install`, so that the CSP needs no inline script.
STATICI18N_ROOT = BASE_DIR / "mend" / "static"
STATICI18N_OUTPUT_DIR = "jsi18n"
WHITENOISE_AUTOREFRESH = DEBUG

OTP_TOTP_ISSUER = "Mend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_tokens": {"()": "mend.core.logfilters.RedactTokens"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]}
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    # Request lines can carry invitation tokens in their paths: access logs are off, and the handler
    # redacts any /join/<token>/ that an error report still names.
    "loggers": {
        "django.request": {"level": "ERROR"},
        "uvicorn.access": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        # WeasyPrint (the agreement PDF) says each step it takes at INFO: only its warnings are kept.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Email goes out only through an SMTP server the program sets (MEND_SMTP_URL); without one, nothing is
# sent and the in-app notices are the only channel. Emails are neutral: never a case detail in them.
DEFAULT_FROM_EMAIL = ENV.email_from
if ENV.smtp_url:
    from urllib.parse import unquote, urlsplit

    _smtp = urlsplit(ENV.smtp_url)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp.hostname or "localhost"
    EMAIL_PORT = _smtp.port or (465 if _smtp.scheme == "smtps" else 587)
    EMAIL_HOST_USER = unquote(_smtp.username or "")
    EMAIL_HOST_PASSWORD = unquote(_smtp.password or "")
    EMAIL_USE_SSL = _smtp.scheme == "smtps"
    EMAIL_USE_TLS = _smtp.scheme == "smtp" and EMAIL_PORT != 25
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
