"""Settings for Parlor. Every deploy-specific value comes from the environment
(.env.example lists them); the defaults are for development on one machine."""

import datetime
from pathlib import Path

from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from parlor.env import EnvError, env_bool, env_database, env_int, env_list, env_redis, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# Safe by default: nothing set means production mode, which needs a key and host names, so
# a deployment that forgets its environment stops instead of running in debug mode. `make run`
# and `make test` write DEBUG=true and a random key of their own into the git-ignored .env
# (scripts/lib.sh); no key is committed.
DEBUG = env_bool("DEBUG", False)

# Keys that were ever public (in this repository's history) sign nothing: whoever knows the key
# can forge client links and sessions.
_PUBLIC_KEYS = {"dev-only-insecure-key-never-used-when-DEBUG-is-false"}
SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY in _PUBLIC_KEYS or len(SECRET_KEY) < 50:
    raise EnvError("SECRET_KEY must be a random string of at least 50 characters that was never published")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise EnvError("ALLOWED_HOSTS must list the site's host names when DEBUG is false")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    # htmx's own files (served like any static file) and request.htmx for partial answers.
    "django_htmx",
    "bootstrap",
    "phonenumber_field",
    # Change history of health records by PostgreSQL triggers (pghistory builds on pgtrigger).
    "pgtrigger",
    "pghistory",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "parlor",
    "clients",
    "screening",
    "sessions.apps.TreatmentsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Every page is sent with Cache-Control: no-store (client data must not stay in caches).
    "parlor.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the second factor?
    "django_otp.middleware.OTPMiddleware",
    # Every page needs a login unless its view says otherwise (login, /healthz).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Who wrote (user and path) goes with every change pghistory records during a request.
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: a page asked by htmx answers with its fragment only.
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Idle and absolute session limits; after messages, so the log-in page can say why.
    "parlor.middleware.SessionTimeoutMiddleware",
    # A NUL byte, undecodable input or an upload over the limit: 400/413 with a message, never 500.
    "parlor.middleware.RequestInputMiddleware",
    # Managers, and anyone who set up a device, pass the second factor before any other page.
    "parlor.middleware.TwoFactorMiddleware",
    # Last, as django-axes asks: turns a lock-out into its page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Serves collected static files from gunicorn; in development runserver does it.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "parlor.urls"
WSGI_APPLICATION = "parlor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # sessions/ is one app grouped by capability; each capability keeps its templates beside its
        # code (sessions/booking/templates/sessions/...), which the app loader alone would not find.
        "DIRS": [BASE_DIR / "templates", *sorted(BASE_DIR.glob("sessions/*/templates"))],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "parlor.context_processors.parlor",
                # The client signed in on the public booking pages (lazy: staff pages never read it).
                "sessions.online.context.online",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", "postgres://parlor@127.0.0.1:55432/parlor")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis("REDIS_URL", "redis://127.0.0.1:56379/0")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "parlor:dashboard"
LOGOUT_REDIRECT_URL = "login"
# Axes first: it refuses a locked-out username before the password is even checked (standalone: it
# checks no permission, which AxesBackend would ask the database for again). Then Django's ModelBackend
# with each user's permission set kept in the cache (two queries a page less).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "parlor.accounts.backends.CachedPermissionsBackend"]
# A manager's password-reset link works once (the token signs the password hash) and for a day.
PASSWORD_RESET_TIMEOUT = 24 * 3600

# Log-in throttling (django-axes): this many failures lock that username from that address
# (not the username everywhere, not the address for everyone) for LOGIN_LOCKOUT_MINUTES;
# every further try during the lock-out starts the wait again.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# No banner on every start; failures are still logged with the username and address.
AXES_VERBOSE = False
# Successful log-ins are security events already (parlor.SecurityEvent); no second copy.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# One rule for the client's address behind the proxy, shared with the security events.
AXES_CLIENT_IP_CALLABLE = "parlor.net.client_ip"
AXES_USERNAME_CALLABLE = "parlor.accounts.policy.axes_username"
# Reverse proxies in front of the app that append the client's address to X-Forwarded-For
# (docker-compose.yml: 1, the TLS proxy on the host). 0 trusts no header: REMOTE_ADDR.
PROXY_COUNT = env_int("PROXY_COUNT", 0)

# Sessions end after this many minutes without a request (front-desk computers are shared),
# and in any case SESSION_COOKIE_AGE after the log-in (parlor.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
# Sessions read from Redis (CACHES), written to both: a flushed or restarted Redis logs nobody out,
# and with Redis down they come from the database (parlor/accounts/sessions.py).
SESSION_ENGINE = "parlor.accounts.sessions"

# Content-Security-Policy (django-csp): scripts, styles and images only from this site, no
# inline code; Bootstrap's CSS draws its icons from data: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LANGUAGE_CODE = "uk"
LANGUAGES = [("uk", _("Ukrainian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Kyiv"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
PHONENUMBER_DEFAULT_REGION = "UA"
PHONENUMBER_DB_FORMAT = "E164"

# Email: a folder of files by default so `make run` works offline, one readable .eml per message
# (parlor.mail); SMTP in production (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "parlor.mail.EmlFileBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# A server that never answers must not hang a worker.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Parlor <noreply@parlor.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
RECEPTION_EMAIL = env_str("RECEPTION_EMAIL", DEFAULT_FROM_EMAIL)
# Links in client emails must point at the public site, not at the worker's host.
PARLOR_BASE_URL = env_str("PARLOR_BASE_URL", "http://127.0.0.1:8000")

# A new course starts only on a screening of the last N days (domain.md).
SCREENING_VALID_DAYS = env_int("SCREENING_VALID_DAYS", 90)
# A request's form fields, files not counted (Django's default, far above any form here).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# No uploaded file may exceed this (a clearance scan is at most 10 MB). The first upload handler
# stops a bigger one while it streams (parlor/uploads.py): a request whose Content-Length is over
# it is refused with a 413 page before a byte is read; a file that passes it in a request just
# small enough is stored no further, and its form says it is too large beside the field.
FILE_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "parlor.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# The parlor's own contact details, shown in the footer and in every email, in the reader's
# language (parlor.contacts picks them).
PARLOR_NAME_UK = env_str("PARLOR_NAME_UK", "Parlor")
PARLOR_NAME_EN = env_str("PARLOR_NAME_EN", "Parlor")
PARLOR_ADDRESS_UK = env_str("PARLOR_ADDRESS_UK", "Київ, Печерський район")
PARLOR_ADDRESS_EN = env_str("PARLOR_ADDRESS_EN", "Kyiv, Pechersk district")
PARLOR_PHONE = env_str("PARLOR_PHONE", "+380 44 000 00 00")
# In the parlor's own language, for what has no reader (a calendar's product id, the staff's notices).
PARLOR_NAME = PARLOR_NAME_UK
PARLOR_ADDRESS = PARLOR_ADDRESS_UK
# Two-factor log-in (django-otp): the name an authenticator app shows beside the code; and the
# admin never shows a device's key or QR code (it would let a reader pass someone's second factor).
OTP_TOTP_ISSUER = PARLOR_NAME
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Shared by web and every worker process (the flag scan keeps its "last run" here).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "parlor"}
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A worker killed mid-task leaves its message unacknowledged, so it runs again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Redis hands an unacknowledged task to another worker after this many seconds
# (default an hour). Longer than any task here (a send is 20 s at most); no task
# uses countdown or eta, which this timeout would otherwise repeat.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # Proves beat and the worker are alive; later issues add the reminder scan.
    "heartbeat": {"task": "parlor.heartbeat", "schedule": 60.0},
    # The scans find in the database whatever is due and not done, so a worker
    # or beat that was down catches up within one period when it comes back.
    "reminders-dispatch": {"task": "sessions.dispatch_reminders", "schedule": 60.0},
    "flags-scan": {"task": "sessions.scan_flags", "schedule": 300.0},
    # Online holds past their ten minutes are freed; the waiting list offers whatever is free.
    "online-reservations": {"task": "sessions.release_reservations", "schedule": 60.0},
    "waitlist-scan": {"task": "sessions.waitlist_scan", "schedule": 60.0},
}

# Production hardening; `manage.py check --deploy` reports nothing with DEBUG=false.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 12 * 3600  # one working day: the absolute limit of a session

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "forbidden_without_traceback": {"()": "parlor.log_filters.ForbiddenWithoutTraceback"},
        "no_forbidden_access_line": {"()": "parlor.log_filters.NoForbiddenAccessLine"},
        # Client-link and password-reset tokens are replaced by [redacted] in every line logged
        # (django.request's "Not Found: /sessions/r/<token>/...", runserver's request lines).
        "redact_tokens": {"()": "parlor.logredact.RedactTokensFilter"},
    },
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["no_forbidden_access_line", "redact_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own defaults give these loggers handlers of their own: every django.* line would be
    # printed twice, and without the filters. Ours replace them.
    "loggers": {
        "django": {"handlers": [], "level": env_str("LOG_LEVEL", "INFO"), "propagate": True},
        "django.request": {"handlers": [], "filters": ["forbidden_without_traceback"], "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
