"""Django settings for Référentiel AD.

Every value that differs between a developer's machine and production comes from the environment (see the
README's configuration table). Defaults serve `make run`; secrets have no production default.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .database import database_url
from .env import env_bool, env_int, env_list, env_str
from .logging import configuration_journalisation

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / ".data")))

DEBUG = env_bool("DEBUG", True)

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef")
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY doit faire au moins 50 caractères en production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # dsfr before django.forms: its widget templates (radio buttons, checkboxes) take precedence.
    "dsfr",
    "django.forms",
    "widget_tweaks",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "comptes",
    "referentiel",
    "demandes",
]

MIDDLEWARE = [
    # First: every log line of the request, even a redirect by SecurityMiddleware, carries the request id.
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session: loading the session or the user is often the first query to fail when PostgreSQL is down.
    "config.middleware.BaseIndisponibleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # ANSM staff: no page until the TOTP code of the session is checked (needs OTPMiddleware just above).
    "comptes.middleware.DoubleFacteurMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that a locked-out login attempt never reaches the view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "config.context_processors.site",
                "config.context_processors.navigation",
            ],
        },
    },
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
DSFR_MARK_OPTIONAL_FIELDS = True

# --- Database -------------------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/databases/#postgresql-notes
DATABASE_URL = database_url(DATA_DIR)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Guard rails: a runaway query or a lock wait cannot hold a web worker forever. Management commands and Celery
# workers set longer limits (manage.py, config/celery.py) before these settings are read.
_statement_timeout_ms = env_int("DB_STATEMENT_TIMEOUT_MS", 30_000)
_lock_timeout_ms = env_int("DB_LOCK_TIMEOUT_MS", 10_000)
DATABASES["default"].setdefault("OPTIONS", {}).update(
    {
        "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5),
        "options": f"-c statement_timeout={_statement_timeout_ms} -c lock_timeout={_lock_timeout_ms}",
    }
)
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "comptes.Utilisateur"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "comptes:connexion"
LOGIN_REDIRECT_URL = "accueil"
LOGOUT_REDIRECT_URL = "accueil"
# Sessions expire after inactivity (health data): the expiry is pushed back on each request.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-axes: lock an account+IP after repeated failures. https://django-axes.readthedocs.io/
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "comptes.verrouillage.reponse_verrouillage"
AXES_USERNAME_CALLABLE = "comptes.verrouillage.identifiant_connexion"
AXES_VERBOSE = False
# Keep a trace of every failed login (the attempt counters are reset by a success): administrators can search it.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Second factor of ANSM staff (django-otp TOTP): the name shown by the authenticator app.
OTP_TOTP_ISSUER = "Référentiel AD"
# A reset link is a key to the account: valid one hour, not Django's three days.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60)

# Health data (issue 7): the patient identity of a closed request is pseudonymised this many days after its last
# activity (comptes.retention); two years by default.
RETENTION_PATIENT_JOURS = env_int("RETENTION_PATIENT_JOURS", 2 * 365)
if RETENTION_PATIENT_JOURS < 1:
    raise ImproperlyConfigured("RETENTION_PATIENT_JOURS doit être un nombre de jours positif.")

# --- Internationalisation -------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
# Uploaded documents live outside the web root and are served only by views that check permissions.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/_non_publie/"  # never routed: files go out only through permission-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DOCUMENT_MAX_SIZE = env_int("DOCUMENT_MAX_SIZE", 20 * 1024 * 1024)

# --- Email ------------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Référentiel AD <ne-pas-repondre@referentiel-ad.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ----------------------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# Default broker: kombu's filesystem transport, so `make run` needs no broker server. Production: Redis.
_broker_dir = DATA_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("in", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # A message taken by a worker that died unacknowledged goes back to the queue after this many seconds (tasks
    # are acks_late and idempotent). Tests shorten it to see a killed worker's task redelivered.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged after it ran, and re-queued if its worker dies: tasks are idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 10 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
# Workers log through LOGGING (JSON lines with the task's request id) instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Outbox sweep: re-send notifications whose first attempt failed (broker outage, SMTP error).
    "notifications-relancer": {
        "task": "comptes.tasks.notifications_relancer",
        "schedule": crontab(minute="*/10"),
    },
    # Deadlines (issue 6): each task is idempotent and takes an optional "aujourd_hui"; run one by hand with
    # `manage.py executer_tache <name> [--aujourdhui AAAA-MM-JJ]`. Expiry and CPC ends just after midnight, the
    # reminders in the early morning, before people read their email.
    "demandes-expirer": {"task": "demandes.tasks.demandes_expirer", "schedule": crontab(hour=0, minute=30)},
    "cpc-echeances": {"task": "referentiel.tasks.cpc_echeances_traiter", "schedule": crontab(hour=0, minute=45)},
    "aac-fins-traitement": {
        "task": "demandes.tasks.aac_fins_traitement_rappeler",
        "schedule": crontab(hour=6, minute=0),
    },
    "aac-cessations": {"task": "demandes.tasks.aac_cessations_prevenir", "schedule": crontab(hour=6, minute=10)},
    "complements-relancer": {"task": "demandes.tasks.complements_relancer", "schedule": crontab(hour=6, minute=20)},
    "engagements-aap": {"task": "referentiel.tasks.engagements_aap_rappeler", "schedule": crontab(hour=6, minute=30)},
    "rapports-periodiques": {
        "task": "referentiel.tasks.rapports_periodiques_traiter",
        "schedule": crontab(hour=6, minute=40),
    },
    "statistiques-mensuelles": {
        "task": "demandes.tasks.statistiques_mensuelles_envoyer",
        "schedule": crontab(day_of_month=1, hour=7, minute=0),
    },
    # Retention: pseudonymise the patient identity of requests closed for RETENTION_PATIENT_JOURS (comptes.retention).
    "demandes-pseudonymiser": {
        "task": "comptes.tasks.demandes_pseudonymiser",
        "schedule": crontab(hour=3, minute=40),
    },
}

# --- REST framework ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # Every operation documents the refusals the framework may answer (400, 403, 404, 429): config/schema.py.
    "DEFAULT_SCHEMA_CLASS": "config.schema.SchemaAvecRefus",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "120/min"),
        "user": env_str("API_THROTTLE_USER", "600/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API Référentiel AD",
    "DESCRIPTION": "Référentiel public des accès dérogatoires aux médicaments et demandes d'AAC.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from our own static files: the CSP allows no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Cache ------------------------------------------------------------------------------------------------
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("CACHE_URL")}
    if env_str("CACHE_URL", "")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Security ---------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^sante/$"]  # load balancers probe health over plain HTTP on the private network
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The login lockout counts failures per client address, not per proxy address (comptes.verrouillage).
    AXES_CLIENT_IP_CALLABLE = "comptes.verrouillage.adresse_client"

# Content-Security-Policy without inline script: the DSFR scripts carry the per-request nonce.
# https://django-csp.readthedocs.io/en/latest/configuration.html
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Demo -------------------------------------------------------------------------------------------------
SERVICE_NAME = "Référentiel AD"
# Absolute links in emails (https://referentiel-ad.example in production).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "")

# --- Logging ----------------------------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line with the request id (config/logging.py); "texte" for humans.
LOG_FORMAT = env_str("LOG_FORMAT", "texte")
LOGGING = configuration_journalisation(format_journal=LOG_FORMAT, niveau=env_str("LOG_LEVEL", "INFO"))

SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False, traces_sample_rate=0.0)
