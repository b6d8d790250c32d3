"""Control Center settings: one module, driven by environment variables.

Development defaults need no services: SQLite, kombu's filesystem broker, the console e-mail
backend, localstripe. Production sets DEBUG=0 and real values (see README's table).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
TESTING = env_bool("TESTING", False)

_DEV_SECRET = "django-insecure-dev-only-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET if DEBUG or TESTING else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Who the customer deals with, and where: the name e-mails greet with and sign off as, and the
# base URL every link in every e-mail is built from (allauth's and ours). `make run` sets
# SITE_URL to the address it serves; the django.contrib.sites row follows both
# (portal/site.py, after every migrate). BASE_URL is accepted as another name for SITE_URL.
SITE_NAME = os.environ.get("SITE_NAME", "Control Center")
SITE_URL = (
    os.environ.get("SITE_URL") or os.environ.get("BASE_URL") or "http://127.0.0.1:8000"
).rstrip("/")
# Where "contact support" leads: shown, as a link, on every page or e-mail that says so.
SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", "support@example.com")
SUPPORT_URL = os.environ.get("SUPPORT_URL", "")

INSTALLED_APPS = [
    "portal.admin_apps.PortalAdminConfig",  # django.contrib.admin, login through allauth
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_celery_beat",
    "portal",
    "billing",
    "trunking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.control_center",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests on SQLite use a file, not Django's shared in-memory database: with an in-memory
    # database the live server thread (browser tests, webhooks delivered by localstripe) shares
    # the test thread's one connection, and two threads on one connection race.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGIN_URL = "account_login"

# --- django-allauth: e-mail is the login, verified before use -----------------------------
SITE_ID = 1
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_SIGNUP_FORM_CLASS = "portal.forms.SignupForm"
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, spelled out so they are visible and testable.
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Control Center"
# Staff without TOTP are sent to set it up before the admin opens (portal/admin_site.py).
STAFF_REQUIRE_MFA = env_bool("STAFF_REQUIRE_MFA", not DEBUG)

# --- Caches, Celery --------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Without Redis, rate limits are counted per process (each gunicorn worker allows the full
# limit) and tasks go to a folder on one machine: production refuses that unless told to.
ALLOW_NO_REDIS = env_bool("ALLOW_NO_REDIS", False)
if not DEBUG and not TESTING and not REDIS_URL and not ALLOW_NO_REDIS:
    raise ImproperlyConfigured(
        "REDIS_URL must be set when DEBUG is off (the cache holds the rate limits and Redis is "
        "the Celery broker); set ALLOW_NO_REDIS=1 to run on the per-process cache and the "
        "filesystem broker anyway."
    )
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "cc"),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # Bounded waits: a request that enqueues after commit, or /healthz, never hangs on a Redis
    # that does not answer (see portal/enqueue.py).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    BROKER_DIR = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Publishing retries briefly, then gives up: the beat scans find work whose task was lost.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Task results: Redis when there is one (so `.get()` works across processes). Without Redis,
# an in-process memory store: results are visible only inside the worker's own process (enough
# for tests that run the worker in a thread; nothing in the portal waits on a result).
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL or "cache+memory://")
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one place the schedule is defined. Each job is idempotent: running it twice or late
# posts nothing twice. Later issues add their jobs here.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "portal-heartbeat": {
        "task": "portal.tasks.heartbeat",
        "schedule": crontab(minute="*/5"),
    },
    "billing-reservation-expire": {
        "task": "billing.tasks.reservation_expire",
        "schedule": crontab(minute="*"),
    },
    "billing-auto-recharge-scan": {
        "task": "billing.tasks.auto_recharge_scan",
        "schedule": crontab(minute="*/10"),
    },
    "billing-low-balance-scan": {
        "task": "billing.tasks.low_balance_scan",
        "schedule": crontab(minute="7,37"),
    },
    "billing-stripe-reconcile": {
        "task": "billing.tasks.stripe_reconcile",
        "schedule": crontab(hour="3", minute="15"),
    },
    "billing-cycle-scan": {
        "task": "billing.tasks.billing_cycle_scan",
        "schedule": crontab(minute="*/15"),
    },
    "billing-account-standing-scan": {
        "task": "billing.tasks.account_standing_scan",
        "schedule": crontab(minute="23"),
    },
    "billing-statement-email-scan": {
        "task": "billing.tasks.statement_email_scan",
        "schedule": crontab(minute="41"),
    },
    "billing-ledger-consistency": {
        "task": "billing.tasks.ledger_consistency_check",
        "schedule": crontab(hour="4", minute="5"),
    },
    "billing-call-partitions-create": {
        "task": "billing.tasks.call_partitions_create",
        "schedule": crontab(hour="2", minute="50"),
    },
    "billing-deposit-authentication-expire": {
        "task": "billing.tasks.deposit_authentication_expire_scan",
        "schedule": crontab(minute="52"),
    },
    "billing-port-drafts-expire": {
        "task": "billing.tasks.port_drafts_expire",
        "schedule": crontab(hour="4", minute="40"),
    },
}

# --- I18N, time ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_ACCOUNT_TIMEZONE = os.environ.get("DEFAULT_ACCOUNT_TIMEZONE", "America/New_York")

# --- Static files (WhiteNoise, no CDN) -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (port requests' bill copies): private, served only through views that check
# the account, never by the web server.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Control Center <billing@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
STAFF_ALERT_EMAILS = env_list("STAFF_ALERT_EMAILS")

# --- Stripe (localstripe in development and tests; real keys switch to real Stripe) ----------
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "sk_test_12345")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "pk_test_12345")
# No default outside development: the development secret is public, and an empty one
# refuses every webhook (400) until the real one is set.
STRIPE_WEBHOOK_SECRET = os.environ.get(
    "STRIPE_WEBHOOK_SECRET", "whsec_test" if DEBUG or TESTING else ""
)
# Empty means api.stripe.com; development points at localstripe.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:8420" if DEBUG else "")
# Every call to Stripe gives up after these many seconds to connect / to wait for an answer,
# retried this many times (a page must answer, and no worker may wait for minutes).
STRIPE_CONNECT_TIMEOUT = float(os.environ.get("STRIPE_CONNECT_TIMEOUT", "10"))
STRIPE_READ_TIMEOUT = float(os.environ.get("STRIPE_READ_TIMEOUT", "20"))
STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "1"))
STRIPE_JS_URL = os.environ.get(
    "STRIPE_JS_URL",
    f"{STRIPE_API_BASE}/js.stripe.com/v3/" if STRIPE_API_BASE else "https://js.stripe.com/v3/",
)

# Days an owner's e-mailed invitation link stays valid.
PORTAL_INVITATION_MAX_AGE_DAYS = int(os.environ.get("PORTAL_INVITATION_MAX_AGE_DAYS", "7"))

# --- Billing rules ---------------------------------------------------------------------------
BILLING_CURRENCY = "usd"
BILLING_MIN_DEPOSIT = Decimal(os.environ.get("BILLING_MIN_DEPOSIT", "5.00"))
BILLING_MAX_DEPOSIT = Decimal(os.environ.get("BILLING_MAX_DEPOSIT", "500.00"))
# Rating: numbers without a country code are read in this region; the longest call the
# authorize API allows; Asterisk dcontext → direction for `import_cdrs` (unknown contexts are
# rejected rows).
BILLING_DEFAULT_REGION = os.environ.get("BILLING_DEFAULT_REGION", "US")
BILLING_MAX_CALL_SECONDS = int(os.environ.get("BILLING_MAX_CALL_SECONDS", str(4 * 3600)))
BILLING_CDR_CONTEXTS = {
    "from-internal": "outbound",
    "from-trunk": "inbound",
    "from-pstn": "inbound",
    "from-did": "inbound",
}
# Auto-recharge limits per account (staff may set other caps per account in the admin).
BILLING_AUTO_RECHARGE_DAILY_CAP = Decimal(
    os.environ.get("BILLING_AUTO_RECHARGE_DAILY_CAP", "500.00")
)
BILLING_AUTO_RECHARGE_MONTHLY_CAP = Decimal(
    os.environ.get("BILLING_AUTO_RECHARGE_MONTHLY_CAP", "2000.00")
)
# Staff adjustments (USD, either sign): above CONFIRM_ABOVE the admin asks for an explicit
# confirmation; above MAX only a superuser may post one.
BILLING_ADJUSTMENT_CONFIRM_ABOVE = Decimal(
    os.environ.get("BILLING_ADJUSTMENT_CONFIRM_ABOVE", "500.00")
)
BILLING_ADJUSTMENT_MAX = Decimal(os.environ.get("BILLING_ADJUSTMENT_MAX", "5000.00"))
# At most this many auto-recharge attempts per account in any rolling window of this many hours,
# on top of the money caps.
BILLING_AUTO_RECHARGE_BURST_LIMIT = int(os.environ.get("BILLING_AUTO_RECHARGE_BURST_LIMIT", "3"))
BILLING_AUTO_RECHARGE_BURST_HOURS = int(os.environ.get("BILLING_AUTO_RECHARGE_BURST_HOURS", "24"))
# The daily reconciliation looks at Stripe payments of this many past days.
BILLING_RECONCILE_DAYS = int(os.environ.get("BILLING_RECONCILE_DAYS", "3"))
# Days a balance may stay below zero before the account's trunks are suspended.
BILLING_SUSPEND_AFTER_DAYS = int(os.environ.get("BILLING_SUSPEND_AFTER_DAYS", "7"))
# Call permissions (toll fraud): a new account's price ceiling (USD/min) and daily usage cap
# (USD per local day); customers may set the cap up to the staff maximum, staff above it. The
# velocity alarm holds paid calls after more than MAX_CALLS paid calls to one number, or more
# than MAX_SPEND of usage, within the rolling window.
BILLING_CALL_PRICE_CEILING = Decimal(os.environ.get("BILLING_CALL_PRICE_CEILING", "0.50"))
BILLING_CALL_DAILY_CAP = Decimal(os.environ.get("BILLING_CALL_DAILY_CAP", "50.00"))
BILLING_CALL_DAILY_CAP_MAX = Decimal(os.environ.get("BILLING_CALL_DAILY_CAP_MAX", "200.00"))
BILLING_VELOCITY_WINDOW_MINUTES = int(os.environ.get("BILLING_VELOCITY_WINDOW_MINUTES", "60"))
BILLING_VELOCITY_MAX_CALLS = int(os.environ.get("BILLING_VELOCITY_MAX_CALLS", "20"))
BILLING_VELOCITY_MAX_SPEND = Decimal(os.environ.get("BILLING_VELOCITY_MAX_SPEND", "25.00"))
# The issuer printed on statements, invoices and receipts (newlines separate address lines);
# invoice numbers run sequentially per provider name.
BILLING_PROVIDER_NAME = os.environ.get("BILLING_PROVIDER_NAME", "Control Center Communications")
BILLING_PROVIDER_ADDRESS = os.environ.get(
    "BILLING_PROVIDER_ADDRESS", "100 Main Street\nSuite 200\nSpringfield, IL 62701\nUSA"
).replace("\\n", "\n")

# --- Security --------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
