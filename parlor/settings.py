"""Settings for Parlor. Every deploy-specific value comes from the environment
(.env.example lists them); the defaults are for development on one machine."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from parlor.env import EnvError, env_bool, env_database, env_int, env_list, env_redis, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "dev-only-insecure-key-never-used-when-DEBUG-is-false"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else None)
if not DEBUG and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise EnvError("SECRET_KEY must be a random string of at least 50 characters when DEBUG is false")

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
    "bootstrap",
    "phonenumber_field",
    # Change history of health records by PostgreSQL triggers (pghistory builds on pgtrigger).
    "pgtrigger",
    "pghistory",
    "parlor",
    "clients",
    "screening",
    "sessions.apps.TreatmentsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view says otherwise (login, /healthz).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Who wrote (user and path) goes with every change pghistory records during a request.
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
# Clearance scans up to 10 MB; bigger requests are refused before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

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
SESSION_COOKIE_AGE = 12 * 3600  # one working day

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "forbidden_without_traceback": {"()": "parlor.log_filters.ForbiddenWithoutTraceback"},
        "no_forbidden_access_line": {"()": "parlor.log_filters.NoForbiddenAccessLine"},
    },
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["no_forbidden_access_line"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print every django.* line a second time beside root's.
        "django": {"handlers": [], "level": env_str("LOG_LEVEL", "INFO"), "propagate": True},
        "django.request": {"handlers": [], "filters": ["forbidden_without_traceback"], "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
