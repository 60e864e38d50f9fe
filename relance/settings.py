"""Django settings, all overridable from the environment.

Embedded default: a SQLite file under ./var with WAL, nothing else to start. Production sets
DATABASE_URL (PostgreSQL) and, later, CELERY_BROKER_URL.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from csp.constants import NONCE

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("RELANCE_VAR_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Use SECRET_KEY, else a key kept in var/ so sessions survive restarts of an embedded setup."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("RELANCE_DEBUG", False)
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "anymail",
    "ninja",  # serves Swagger UI from its own static files, no CDN
    "csp",  # Content-Security-Policy (CONTENT_SECURITY_POLICY below)
    "axes",  # login throttling (see AXES_* below)
    "relance.apps.RelanceConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "relance.limits.RequestSizeMiddleware",  # before anything reads a body (the CSRF check)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "relance.web.sessions.SlidingExpiryMiddleware",
    "relance.api.guards.JsonErrorsMiddleware",
    "relance.api.guards.StorableTextMiddleware",
    "relance.api.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes documents: turns a lockout into its page
]

ROOT_URLCONF = "relance.urls"
WSGI_APPLICATION = "relance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "web" / "templates", BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "relance.web.context.staff",
            ],
            "libraries": {"labels": "relance.web.templatetags.labels"},
        },
    },
]

_sqlite_default = f"sqlite:///{VAR_DIR / 'relance.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or _sqlite_default, conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while an import or a cycle writes; IMMEDIATE transactions take
    # the write lock up front so concurrent writers queue instead of failing half-way.
    # Django turns foreign keys on for every SQLite connection.
    DATABASES["default"]["OPTIONS"] = {
        # A page cache of 64 MiB rather than 2: a cycle inserts into indexes of hundreds of
        # thousands of rows, which thrashed the default cache (a quarter of the writing time).
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
MIGRATION_MODULES = {"relance": "relance.models.migrations"}

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]

# Login throttling (django-axes): RELANCE_LOGIN_FAILURES wrong passwords for one account from one
# address lock that pair out for RELANCE_LOGIN_COOLOFF_MINUTES (each new try during the lock starts
# it again). Keyed on the pair, not on the account alone (anyone could then lock anyone out) nor on
# the address alone (an office behind one NAT address would lock itself out). An admin unlocks with
# `relance user unlock USERNAME`, the Team page or the admin's Access attempts.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("RELANCE_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("RELANCE_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a few typos before the right password are forgotten
AXES_LOCKOUT_CALLABLE = "relance.web.login_throttling.locked_out"
AXES_CLIENT_IP_CALLABLE = "relance.client.address"  # the same for every limit relance keeps
# Behind N reverse proxies that each append to X-Forwarded-For, the client's address is the Nth
# from the right; 0 (the default) uses the connection's address, as the header can be forged.
RELANCE_TRUSTED_PROXIES = int(os.environ.get("RELANCE_TRUSTED_PROXIES", "0"))

# Sessions end after RELANCE_SESSION_IDLE_HOURS without a request (relance.web.sessions slides the
# expiry forward, writing the session at most every few minutes), and when the password changes
# (Django checks a hash of it on every request). Cookies: HttpOnly, SameSite=Lax, and Secure when
# RELANCE_HTTPS is on (off by default, for the embedded http://localhost setup).
SESSION_COOKIE_AGE = int(float(os.environ.get("RELANCE_SESSION_IDLE_HOURS", "8")) * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_bool("RELANCE_HTTPS", False)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [  # the staff app's CSS and vendored htmx, the portal's CSS
    BASE_DIR / "web" / "static",
    BASE_DIR / "portal" / "static",
]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it, even when empty
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "start"
LOGOUT_REDIRECT_URL = "login"

# Security headers. The staff app and the portal load nothing from elsewhere and run no inline
# code or style (tests/web/test_security_headers.py scans the templates); the portal's brand
# colour is a style block allowed by the nonce of its response alone. One per-view addition: the
# portal's statement lets its pay button's form go on to the company's payment provider
# (form-action). The API docs (ninja's Swagger UI) and the admin need no relaxation: both work
# under this policy (tests/e2e/test_content_security_policy.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
# Browser features no page of relance uses, refused to every origin.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    )
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Delivery: one transport per channel (dotted path to a class with `send(Delivery) -> Sent`,
# relance.domain.delivery).
RELANCE_OUTBOX_DIR = Path(os.environ.get("RELANCE_OUTBOX_DIR", VAR_DIR / "outbox"))
RELANCE_CHANNELS = {
    channel: os.environ.get(
        f"RELANCE_{channel.upper()}_CHANNEL", "relance.channels.file.FileChannel"
    )
    for channel in ("email", "sms", "letter")
}
RELANCE_CHANNELS["email"] = os.environ.get(
    "RELANCE_EMAIL_CHANNEL", "relance.channels.email.EmailChannel"
)
RELANCE_CHANNELS["letter"] = os.environ.get(
    "RELANCE_LETTER_CHANNEL", "relance.channels.letter.LetterChannel"
)
# Print runs handed to a provider (`relance letters submit`): a class with submit(pdf, batch).
RELANCE_PRINT_PROVIDER = os.environ.get(
    "RELANCE_PRINT_PROVIDER", "relance.services.dunning.print_runs.DirectoryProvider"
)
RELANCE_PRINT_DIR = Path(os.environ.get("RELANCE_PRINT_DIR", VAR_DIR / "print"))
RELANCE_MAX_DELIVERY_ATTEMPTS = 5

# Email (relance.channels.email): SMTP with RELANCE_SMTP_URL (smtp://user:password@host:587 with
# STARTTLS, smtps://… for TLS), any Django/anymail backend with EMAIL_BACKEND (its settings in
# ANYMAIL, as JSON in RELANCE_ANYMAIL), else one .eml file per message under <outbox>/email.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "relance@localhost")
# Stripe Checkout for the portal's online payments (companies with payment_provider "stripe"):
# the secret key creates sessions, the webhook secret checks the events at /payments/stripe/.
RELANCE_STRIPE_SECRET_KEY = os.environ.get("RELANCE_STRIPE_SECRET_KEY", "")
RELANCE_STRIPE_WEBHOOK_SECRET = os.environ.get("RELANCE_STRIPE_WEBHOOK_SECRET", "")
RELANCE_STRIPE_API = os.environ.get("RELANCE_STRIPE_API", "https://api.stripe.com")
# Where the staff app is reached from outside: the links in sales reps' emails start with it.
RELANCE_BASE_URL = os.environ.get("RELANCE_BASE_URL", "http://localhost:8000")
# Outgoing webhooks only reach public addresses; comma-separated host names and/or addresses or
# CIDR networks let on-premise receivers in, e.g. "receiver.internal,10.0.0.0/8,127.0.0.1".
RELANCE_WEBHOOK_ALLOW = os.environ.get("RELANCE_WEBHOOK_ALLOW", "")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
if smtp_url := os.environ.get("RELANCE_SMTP_URL"):
    _smtp = urlsplit(smtp_url)
    EMAIL_BACKEND = "relance.channels.email.SmtpBackend"
    EMAIL_HOST = _smtp.hostname or "localhost"
    EMAIL_PORT = _smtp.port or (465 if _smtp.scheme == "smtps" else 25)
    EMAIL_HOST_USER = unquote(_smtp.username or "")
    EMAIL_HOST_PASSWORD = unquote(_smtp.password or "")
    EMAIL_USE_SSL = _smtp.scheme == "smtps"
    EMAIL_USE_TLS = _smtp.scheme == "smtp" and EMAIL_PORT == 587
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "relance.channels.email.EmlDirectoryBackend")
# Request size limits by path, from Content-Length, before the body is read (relance.limits):
# staff pages, the admin and webhooks; the portal (a 5 MB proof and its form); the REST API
# (comfortably above a full batch of 1,000 rows).
RELANCE_MAX_REQUEST_BYTES = int(os.environ.get("RELANCE_MAX_REQUEST_MB", "10")) * 2**20
RELANCE_MAX_PORTAL_REQUEST_BYTES = int(os.environ.get("RELANCE_MAX_PORTAL_REQUEST_MB", "6")) * 2**20
RELANCE_MAX_API_REQUEST_BYTES = int(os.environ.get("RELANCE_MAX_API_REQUEST_MB", "20")) * 2**20
DATA_UPLOAD_MAX_MEMORY_SIZE = RELANCE_MAX_API_REQUEST_BYTES  # a body that is not a file upload
FILE_UPLOAD_MAX_MEMORY_SIZE = 2621440  # an upload above 2.5 MB goes to a temporary file
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # the longest staff form is far shorter
DATA_UPLOAD_MAX_NUMBER_FILES = 10  # one proof on the portal; a logo or a PDF in the admin
ANYMAIL = json.loads(os.environ.get("RELANCE_ANYMAIL", "{}"))
# The ESPs' bounce webhooks (/anymail/<esp>/tracking/) are refused (403) unless authenticated:
# this "user:password" as HTTP basic auth in the URL given to the ESP, or the ESP's signing key.
if os.environ.get("RELANCE_ANYMAIL_WEBHOOK_SECRET"):
    ANYMAIL.setdefault("WEBHOOK_SECRET", os.environ["RELANCE_ANYMAIL_WEBHOOK_SECRET"])
# A generated one-page summary for attached invoices without an imported PDF (slow: ~0.2 s each).
RELANCE_INVOICE_SUMMARIES = os.environ.get("RELANCE_INVOICE_SUMMARIES", "").lower() in (
    "1",
    "true",
    "yes",
)

# Celery: workers on Redis in production; without a broker every task runs in this process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
# The portal's rate limits count in the cache: per process in embedded mode, shared by every
# process through Redis when RELANCE_CACHE_URL (e.g. redis://127.0.0.1:6379/1) is set.
if os.environ.get("RELANCE_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["RELANCE_CACHE_URL"],
        }
    }
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-batch leaves the batch to another worker
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A batch takes seconds: a task of a killed worker is handed to another after ten minutes.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_BEAT_SCHEDULE = {
    "daily-dunning-tick": {"task": "relance.tasks.cycle.tick", "schedule": 15 * 60},
    "deliver-outbox": {"task": "relance.tasks.cycle.deliver_outbox", "schedule": 60},
}
RELANCE_CLAIM_LEASE_SECONDS = 600
# Ledger files uploaded in the staff app (services/ledger/import_jobs): kept here, outside the
# media, for RELANCE_IMPORT_KEEP_DAYS; at most RELANCE_IMPORT_MAX_MB each; a running import that
# gave no sign of life for RELANCE_IMPORT_LEASE_SECONDS was killed and is marked failed.
RELANCE_IMPORT_DIR = Path(os.environ.get("RELANCE_IMPORT_DIR", VAR_DIR / "imports"))
RELANCE_IMPORT_MAX_BYTES = int(float(os.environ.get("RELANCE_IMPORT_MAX_MB", "200")) * 2**20)
RELANCE_IMPORT_KEEP_DAYS = int(os.environ.get("RELANCE_IMPORT_KEEP_DAYS", "30"))
RELANCE_IMPORT_LEASE_SECONDS = int(os.environ.get("RELANCE_IMPORT_LEASE_SECONDS", "60"))
# Undo restores the former values of at most this many rows an import changed.
RELANCE_IMPORT_UNDO_MAX_ROWS = int(os.environ.get("RELANCE_IMPORT_UNDO_MAX_ROWS", "10000"))


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):  # the cores this process may run on, not the machine's
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# Worker processes of the embedded cycle (services/dunning/workers); 1 runs it all in one process.
RELANCE_CYCLE_WORKERS = max(1, int(os.environ.get("RELANCE_CYCLE_WORKERS") or _cores()))
# Where a cycle's batches run (services/dunning/run): here, or one Celery task per batch.
RELANCE_CYCLE_EXECUTOR = (
    "relance.tasks.dispatch.OverCelery"
    if CELERY_BROKER_URL
    else "relance.services.dunning.run.InProcess"
)

# Where import jobs run: a thread of the web process, or a Celery task when a broker is set.
RELANCE_IMPORT_EXECUTOR = (
    "relance.tasks.dispatch.ImportOverCelery"
    if CELERY_BROKER_URL
    else "relance.services.ledger.import_jobs.InThread"
)
# Who tells an import job which customers it moves to another dunning plan (called with the
# company and the kind; services/ledger/import_watch.py says why a setting).
RELANCE_IMPORT_PLAN_CHANGES = "relance.services.dunning.plan_changes.PlanChanges"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# SMS provider of relance.channels.sms.SmsChannel: "file" writes <outbox dir>/sms/*.json, "twilio"
# calls a Twilio-style REST API (RELANCE_TWILIO_BASE_URL points it at a compatible provider).
RELANCE_SMS = {
    "backend": os.environ.get("RELANCE_SMS_BACKEND", "file"),
    "account_sid": os.environ.get("RELANCE_TWILIO_ACCOUNT_SID", ""),
    "auth_token": os.environ.get("RELANCE_TWILIO_AUTH_TOKEN", ""),
    "from": os.environ.get("RELANCE_SMS_FROM", ""),
    "messaging_service_sid": os.environ.get("RELANCE_TWILIO_MESSAGING_SERVICE_SID", ""),
    "base_url": os.environ.get("RELANCE_TWILIO_BASE_URL", "https://api.twilio.com"),
}
RELANCE_CHANNELS["sms"] = os.environ.get("RELANCE_SMS_CHANNEL", "relance.channels.sms.SmsChannel")

# The go-live projection (services/dunning/golive_jobs): computed in the request below this many
# customers, else in the background (a thread, or a Celery task when a broker is set) and kept;
# a computation silent for RELANCE_GOLIVE_LEASE_SECONDS is started again.
RELANCE_GOLIVE_INLINE_CUSTOMERS = int(os.environ.get("RELANCE_GOLIVE_INLINE_CUSTOMERS", "5000"))
RELANCE_GOLIVE_LEASE_SECONDS = int(os.environ.get("RELANCE_GOLIVE_LEASE_SECONDS", "600"))
RELANCE_GOLIVE_EXECUTOR = (
    "relance.tasks.dispatch.GoLiveOverCelery"
    if CELERY_BROKER_URL
    else "relance.services.dunning.golive_jobs.InThread"
)
