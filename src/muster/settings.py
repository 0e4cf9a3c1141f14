"""Django settings for Muster. Everything an operator sets comes from environment variables."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from muster.conf import env_bool, env_int, secret_from_env_or_file, var_dir

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = var_dir()

SECRET_KEY = secret_from_env_or_file("MUSTER_SECRET_KEY", "secret.key", 48)
# Key for personal data encrypted at rest (ID numbers, phones). Keep it out of database backups.
FIELD_ENCRYPTION_KEY = secret_from_env_or_file("MUSTER_FIELD_KEY", "field.key", 32)
# Key that signs backup manifests (HMAC-SHA256); empty: a sub-key of the field key signs them.
MUSTER_BACKUP_KEY = os.environ.get("MUSTER_BACKUP_KEY", "")

DEBUG = env_bool("MUSTER_DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("MUSTER_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("MUSTER_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "treebeard",
    "ninja",  # serves the API docs page assets locally (no CDN)
    "django_tasks",
    "django_tasks_db",
    "muster.audit",
    "muster.orgs",
    "muster.mobilize",
    "muster.volunteers",
    "muster.roster",
    "muster.notify",
    "muster.points",
    "muster.honors",
    "muster.partylife",
    "muster.care",
    "muster.outreach",
    "muster.reports",
    "muster.accounts",
    "muster.tabular",
    "muster.web",
    "muster.api",
    "muster.worker",
    "muster.ops",
    "muster.exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "muster.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "muster.i18n.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "muster.audit.middleware.AuditContextMiddleware",
]

ROOT_URLCONF = "muster.urls"
WSGI_APPLICATION = "muster.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "muster.web.context.navigation",
                "muster.notify.context.notifications",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'muster.sqlite3'}"),
        conn_max_age=int(os.environ.get("MUSTER_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The rollup's covering bucket indexes (INCLUDE) exist on PostgreSQL only; on SQLite the unique index
# serves the same reads (muster.reports.models.Bucket).
SILENCED_SYSTEM_CHECKS = ["models.W040"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

# Every password check goes through the throttled backend (the login page, the Django admin's login).
AUTHENTICATION_BACKENDS = ["muster.accounts.backends.ThrottledModelBackend"]
# Login throttling (muster.accounts.services): after this many failures for one user name from one
# address (10x for one address over all names, 20x for one name over all addresses, those two only for
# addresses the name has not logged in from) each further attempt waits twice as long as the last, 1 s
# up to MUSTER_LOGIN_MAX_DELAY_SECONDS; failures are forgotten after the window or on a good password.
MUSTER_LOGIN_MAX_FAILURES = int(os.environ.get("MUSTER_LOGIN_MAX_FAILURES", "5"))
MUSTER_LOGIN_MAX_DELAY_SECONDS = int(os.environ.get("MUSTER_LOGIN_MAX_DELAY_SECONDS", "900"))
MUSTER_LOGIN_WINDOW_SECONDS = int(os.environ.get("MUSTER_LOGIN_WINDOW_SECONDS", "86400"))
# Reverse proxies (comma-separated addresses or networks) whose X-Forwarded-For is believed; the client
# is the right-most address in it that is not one of them. Empty: the socket's address, always.
MUSTER_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("MUSTER_TRUSTED_PROXIES", "").split(",") if p.strip()
]
for _proxy in MUSTER_TRUSTED_PROXIES:  # a mistyped entry stops the start, not the first login
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _e:
        raise ImproperlyConfigured(f"MUSTER_TRUSTED_PROXIES: {_e}") from _e

LANGUAGE_CODE = os.environ.get("MUSTER_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("MUSTER_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

# Uploads: the imports (staff register, ledgers, …) refuse files over this size (bytes); default 20 MB.
MUSTER_IMPORT_MAX_BYTES = int(os.environ.get("MUSTER_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
# A sheet's extent is checked before it is read: rows, columns, and cells of the grid (rows x columns).
MUSTER_IMPORT_MAX_ROWS = int(os.environ.get("MUSTER_IMPORT_MAX_ROWS", "200000"))
MUSTER_IMPORT_MAX_COLUMNS = int(os.environ.get("MUSTER_IMPORT_MAX_COLUMNS", "200"))
MUSTER_IMPORT_MAX_CELLS = int(os.environ.get("MUSTER_IMPORT_MAX_CELLS", "10000000"))
# An .xlsx is parsed in a child process with this much memory (MB) and CPU time (seconds) at most.
MUSTER_IMPORT_MEMORY_MB = int(os.environ.get("MUSTER_IMPORT_MEMORY_MB", "2048"))
MUSTER_IMPORT_CPU_SECONDS = int(os.environ.get("MUSTER_IMPORT_CPU_SECONDS", "120"))
# A file that passed its check is kept (sealed) for "confirm import"; one user keeps at most this many bytes.
MUSTER_IMPORT_HOLD_MAX_BYTES = int(
    os.environ.get("MUSTER_IMPORT_HOLD_MAX_BYTES", str(3 * MUSTER_IMPORT_MAX_BYTES))
)
# Mobilization: a gap shorter than this between two shifts of one person is warned about (minutes).
MUSTER_MIN_REST_MINUTES = int(os.environ.get("MUSTER_MIN_REST_MINUTES", "480"))
# Check-in: accepted from this many minutes before a shift's start to this many after its end (a leader's
# fix with a reason may set any time). Approvals flag entries outside that window of their shift or batch,
# shorter than SHORT, longer than the shift plus LONG_EXTRA, or (without a shift) longer than LONG.
MUSTER_CHECKIN_EARLY_MINUTES = env_int("MUSTER_CHECKIN_EARLY_MINUTES", 60, minimum=0)
MUSTER_CHECKIN_LATE_MINUTES = env_int("MUSTER_CHECKIN_LATE_MINUTES", 120, minimum=0)
MUSTER_ENTRY_SHORT_MINUTES = env_int("MUSTER_ENTRY_SHORT_MINUTES", 15, minimum=0)
MUSTER_ENTRY_LONG_EXTRA_MINUTES = env_int("MUSTER_ENTRY_LONG_EXTRA_MINUTES", 120, minimum=0)
MUSTER_ENTRY_LONG_MINUTES = env_int("MUSTER_ENTRY_LONG_MINUTES", 720, minimum=0)
# Background work: Django's tasks API on the database queue, run by `muster worker` processes (several
# may run). A worker beats every HEARTBEAT seconds; one silent for STALE seconds is taken for dead and its
# tasks are queued again or failed visibly (muster.worker.recovery). /healthz answers 503 when no worker
# has beaten within HEALTHZ_WORKER_MAX_AGE seconds (0: the workers do not count for the status).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}  # []: any queue name
MUSTER_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("MUSTER_WORKER_HEARTBEAT_SECONDS", "10"))
MUSTER_WORKER_STALE_SECONDS = float(os.environ.get("MUSTER_WORKER_STALE_SECONDS", "60"))
MUSTER_HEALTHZ_WORKER_MAX_AGE = int(os.environ.get("MUSTER_HEALTHZ_WORKER_MAX_AGE", "0"))
# The notification channels that run (see muster.notify.services): in-app, e-mail, team group bots.
MUSTER_NOTIFY_CHANNELS = ["inapp", "email", "bot"]
# E-mail through Django's SMTP backend. Without MUSTER_EMAIL_HOST no e-mail is queued (the channel is off).
EMAIL_BACKEND = os.environ.get("MUSTER_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("MUSTER_EMAIL_HOST", "")
EMAIL_PORT = env_int("MUSTER_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = os.environ.get("MUSTER_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("MUSTER_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("MUSTER_EMAIL_USE_TLS", False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_bool("MUSTER_EMAIL_USE_SSL", False)  # implicit TLS, usually port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set MUSTER_EMAIL_USE_TLS or MUSTER_EMAIL_USE_SSL, not both.")
EMAIL_TIMEOUT = env_int("MUSTER_EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = os.environ.get("MUSTER_DEFAULT_FROM_EMAIL", "Muster <muster@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address people reach Muster at (https://muster.example.org): links in e-mails and bot messages.
MUSTER_BASE_URL = os.environ.get("MUSTER_BASE_URL", "").rstrip("/")
# Delivery: attempts per message, the first retry's wait (doubling after each failure), the digest's hour,
# and whether signed webhooks may post to private network addresses (off: no requests into the intranet).
MUSTER_NOTIFY_MAX_ATTEMPTS = env_int("MUSTER_NOTIFY_MAX_ATTEMPTS", 5, minimum=1)
MUSTER_NOTIFY_BACKOFF_SECONDS = env_int("MUSTER_NOTIFY_BACKOFF_SECONDS", 60, minimum=1)
MUSTER_NOTIFY_DIGEST_HOUR = env_int("MUSTER_NOTIFY_DIGEST_HOUR", 8)
# A "截至…" snapshot or Excel 台账 of a subtree with more units than this is made by `muster worker`.
MUSTER_REPORTS_BACKGROUND_UNITS = env_int("MUSTER_REPORTS_BACKGROUND_UNITS", 200, minimum=0)
if MUSTER_NOTIFY_DIGEST_HOUR > 23:
    raise ImproperlyConfigured("MUSTER_NOTIFY_DIGEST_HOUR must be an hour from 0 to 23.")
MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = env_bool("MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS", False)
# Reports: units down to this depth (1 = the root) keep hour buckets besides day buckets, so a rollup of
# a unit above that depth as of a cutoff in the middle of a day reads the facts of one hour, not of a day.
# Changing it needs `muster report --rebuild`.
MUSTER_ROLLUP_HOUR_DEPTH = int(os.environ.get("MUSTER_ROLLUP_HOUR_DEPTH", "3"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security headers (CSRF is on through the middleware above).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("MUSTER_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("MUSTER_SSL_REDIRECT", False)
# HSTS: browsers keep to HTTPS for this many seconds (0 = no header; set it once HTTPS works everywhere).
SECURE_HSTS_SECONDS = env_int("MUSTER_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("MUSTER_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("MUSTER_HSTS_PRELOAD", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("MUSTER_BEHIND_PROXY") else None
SESSION_COOKIE_AGE = 8 * 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MUSTER_LOG_LEVEL", "WARNING")},
}
