"""Django settings for Muster. Everything an operator sets comes from environment variables."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from muster.conf import env_bool, secret_from_env_or_file, var_dir

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = var_dir()

SECRET_KEY = secret_from_env_or_file("MUSTER_SECRET_KEY", "secret.key", 48)
# Key for personal data encrypted at rest (ID numbers, phones). Keep it out of database backups.
FIELD_ENCRYPTION_KEY = secret_from_env_or_file("MUSTER_FIELD_KEY", "field.key", 32)

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
    "muster.audit",
    "muster.orgs",
    "muster.mobilize",
    "muster.roster",
    "muster.notify",
    "muster.points",
    "muster.partylife",
    "muster.reports",
    "muster.accounts",
    "muster.tabular",
    "muster.web",
    "muster.api",
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

# Login throttling: this many failures for one user name (or one address) within the window lock it.
MUSTER_LOGIN_MAX_FAILURES = int(os.environ.get("MUSTER_LOGIN_MAX_FAILURES", "5"))
MUSTER_LOGIN_WINDOW_SECONDS = int(os.environ.get("MUSTER_LOGIN_WINDOW_SECONDS", "900"))

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

# Uploads: the roster import refuses files over this size (bytes); default 20 MB.
MUSTER_IMPORT_MAX_BYTES = int(os.environ.get("MUSTER_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
# Mobilization: a gap shorter than this between two shifts of one person is warned about (minutes).
MUSTER_MIN_REST_MINUTES = int(os.environ.get("MUSTER_MIN_REST_MINUTES", "480"))
# Rostering (issue 5): solve in the request thread instead of the background worker (tests), and the
# notification channels that run (see muster.notify.services).
MUSTER_ROSTER_SYNC = env_bool("MUSTER_ROSTER_SYNC", False)
MUSTER_NOTIFY_CHANNELS = ["inapp"]
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
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("MUSTER_BEHIND_PROXY") else None
SESSION_COOKIE_AGE = 8 * 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MUSTER_LOG_LEVEL", "WARNING")},
}
