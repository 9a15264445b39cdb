"""Django settings, read from ``SVIDOK_*`` environment variables with safe defaults.

- ``SVIDOK_HOME``: the instance folder (default ``./svidok-data``).
- ``SVIDOK_DATABASE_URL``: ``postgresql://…`` for PostgreSQL; default SQLite in the home.
- ``SVIDOK_SECRET_KEY``: else kept in ``<home>/secret_key`` (made by ``svidok init``).
- ``SVIDOK_DEBUG``: ``1`` to enable debug pages. Never on by default.
- ``SVIDOK_ALLOWED_HOSTS``: comma-separated, default ``127.0.0.1,localhost``.
- ``SVIDOK_TLS``: ``1`` when served over HTTPS (secure cookies, HSTS).
- ``SVIDOK_UPLOAD_MAX_BYTES``: the largest upload accepted (default 20 GB).
- ``SVIDOK_MAP_TILES``: a tile URL template for maps when online (default: none, offline).
- ``SVIDOK_PUBLIC_DECIMALS``: decimal places of coordinates in public exports (default 2).
- ``SVIDOK_PERCEPTUAL_HASHES``: ``0`` ingests without near-duplicate hashes (they are
  on by default; off, new items are not found as near-duplicates).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from svidok.instance import InstancePaths, resolve_home


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SVIDOK_HOME = resolve_home()
SVIDOK_PATHS = InstancePaths(SVIDOK_HOME)
BASE_DIR = Path(__file__).resolve().parent

DEBUG = _flag("SVIDOK_DEBUG")

if os.environ.get("SVIDOK_SECRET_KEY"):
    SECRET_KEY = os.environ["SVIDOK_SECRET_KEY"]
elif SVIDOK_PATHS.secret_key.exists():
    SECRET_KEY = SVIDOK_PATHS.secret_key.read_text(encoding="ascii").strip()
else:
    # Before `svidok init` there is no key file; a throwaway key is safe because
    # nothing signed with it (sessions) outlives the process.
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("SVIDOK_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",
    "svidok.apps.evidence",
    "svidok.apps.accounts",
    "svidok.apps.custody",
    "svidok.apps.text",
    "svidok.apps.incidents",
    "svidok.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "svidok.web.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "svidok.web.middleware.ContentSecurityPolicyMiddleware",
    "svidok.api.middleware.ApiErrorShapeMiddleware",
    # Last, as django-axes requires: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock out a username from an address after 5 failures, for 15 minutes. Locking by the
# pair, not the username alone, keeps an attacker from locking real users out everywhere.
AXES_FAILURE_LIMIT = int(os.environ.get("SVIDOK_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "svidok.urls"
WSGI_APPLICATION = "svidok.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = os.environ.get("SVIDOK_DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60)
        config.setdefault("OPTIONS", {})
        return dict(config)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(SVIDOK_PATHS.database),
        # Keep each worker thread's connection: a new one starts with a cold page cache
        # and re-runs the PRAGMAs below (measured: +2.5 ms on every request).
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # IMMEDIATE takes the write lock when a transaction starts, so two
            # writers queue instead of failing half-way with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 60,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=FULL;"
                "PRAGMA foreign_keys=ON;"
                # 64 MiB page cache: index inserts into a large log stay in memory.
                "PRAGMA cache_size=-65536;"
                # Checkpoint the WAL every ~40 MB instead of ~4 MB: log appends touch
                # many index pages per transaction (measured: 22k → 30k events/s).
                "PRAGMA wal_autocheckpoint=10000;"
            ),
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("uk", "Українська")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = str(SVIDOK_PATHS.static_root)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Uploads always stream to disk in the instance (never held in memory), through a
# handler that refuses anything over the limit before it fills the disk.
FILE_UPLOAD_HANDLERS = ["svidok.web.uploads.LimitedTemporaryFileUploadHandler"]
FILE_UPLOAD_TEMP_DIR = str(SVIDOK_PATHS.work / "uploads")
SVIDOK_PERCEPTUAL_HASHES = _flag("SVIDOK_PERCEPTUAL_HASHES", default=True)
SVIDOK_UPLOAD_MAX_BYTES = int(os.environ.get("SVIDOK_UPLOAD_MAX_BYTES", str(20 * 10**9)))
# Map tiles, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty (the default)
# keeps maps offline on the shipped oblast polygons.
SVIDOK_MAP_TILES = os.environ.get("SVIDOK_MAP_TILES", "")
# Decimal places kept in public exports' coordinates (2 ≈ 1 km, 1 ≈ 10 km).
SVIDOK_PUBLIC_DECIMALS = min(5, max(0, int(os.environ.get("SVIDOK_PUBLIC_DECIMALS", "2"))))
DATA_UPLOAD_MAX_NUMBER_FILES = 1000
# The folder exists once `svidok init` ran (and the handler makes it if not);
# Django's start-up check would otherwise refuse to run `init` itself.
SILENCED_SYSTEM_CHECKS = ["files.E001"]

OTP_TOTP_ISSUER = "Svidok"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if _flag("SVIDOK_TLS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SVIDOK_LOG_LEVEL", "WARNING")},
}
