"""LabelHub settings: one module, configured from the environment.

Embedded defaults (no variables set) need no server: SQLite (WAL), a Celery worker
beside the web server fed through a folder (kombu's filesystem transport), live events
from the worker relayed through a folder (``core.layers``), e-mail to the console
(ADR 0009). ``DJANGO_ENV=production`` switches on the production hardening;
``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis (channel layer, Celery
broker, cache). The README lists every variable.
"""

import os
import secrets
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)


def _local_secret_key(path: Path) -> str:
    """Read this installation's own random key, creating it on first use (mode 0600).

    Development never falls back to a key published in the source: a shared key would let
    anyone forge sessions and reset links of an instance started without SECRET_KEY. The
    web server and the worker of one installation share the file, so they agree; the
    file is published with a hard link, so concurrent first starts agree too.
    """
    try:
        key = path.read_text().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won the race: use its key
    finally:
        tmp.unlink()
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    SECRET_KEY = _local_secret_key(
        Path(env.str("SECRET_KEY_FILE", default=str(VAR_DIR / "secret_key")))
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "guardian",
    "channels",
    "csp",
    "labelhub.core",
    "labelhub.accounts",
    "labelhub.workspaces",
    "labelhub.access",
    "labelhub.projects",
    "labelhub.imports",
    "labelhub.labeling",
    "labelhub.notifications",
    "labelhub.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files (SVGs among them) carry the policy too.
    "csp.middleware.CSPMiddleware",
    "labelhub.core.context.RequestContextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Axes must come last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "labelhub.urls"
WSGI_APPLICATION = "labelhub.wsgi.application"
ASGI_APPLICATION = "labelhub.asgi.application"

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
                "labelhub.access.context_processors.workspace",
                "labelhub.notifications.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'labelhub.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under an ASGI server every request runs in a fresh thread, so persistent connections
    # pile up until PostgreSQL refuses more; psycopg's pool caps them per process.
    _pool_max = env.int("DATABASE_POOL_MAX_SIZE", default=10)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    if _pool_max > 0:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": _pool_max,
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to one file. WAL lets readers run beside the
    # writer; IMMEDIATE takes the write lock when a transaction begins, so a writer waits
    # (up to ``timeout`` seconds) instead of failing with "database is locked" when its
    # read lock cannot be upgraded; synchronous=NORMAL is safe in WAL mode (a power cut
    # may lose the last commits, never corrupt the file).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=20.0),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# How many requests (and socket messages needing the database) one web process runs at
# once; the rest wait on the event loop without a thread (labelhub/core/slots.py). Sized
# like the connection pool so a running request never waits for a connection.
DB_CONCURRENCY = env.int(
    "DB_CONCURRENCY", default=max(env.int("DATABASE_POOL_MAX_SIZE", default=10), 0) or 10
)

# --- Redis: channel layer, Celery, cache -----------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # An explicit cap: redis-py's pool raises once it is exhausted, so it must
                # cover a burst of connects (each group_add borrows a connection briefly).
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=2000),
                        # redis-py 8 reads with a 5 s socket_timeout by default, exactly the
                        # 5 s of channels-redis's blocking BZPOPMIN: the idle read races the
                        # timeout and, when it loses, the socket holding it dies (about one
                        # per 5 s per process). No read timeout, as before redis-py 8; the
                        # 5 s connect timeout and TCP keepalive still catch a dead Redis.
                        "socket_timeout": None,
                    }
                ],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="labelhub"),
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "labelhub",
        }
    }
else:
    # Sockets live in the web process (in memory, as channels' own layer); events the
    # worker sends cross over through a folder the web process polls (ADR 0009).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "labelhub.core.layers.FolderRelayChannelLayer",
            "CONFIG": {"folder": env.str("LIVE_RELAY_FOLDER", default=str(VAR_DIR / "live"))},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

#: no REDIS_URL: the embedded setup (one web server and one worker on one machine)
EMBEDDED = not REDIS_URL
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Longer than any task runtime or countdown we schedule (12 h), so Redis never
    # re-delivers a task a worker is still running.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 12 * 3600}
else:
    # A broker that needs no server: each message is a file in one folder, which the web
    # server and the worker both write and the worker reads (kombu's filesystem
    # transport); a message taken is moved to processed/ (pruned by the reaper task).
    BROKER_FOLDER = Path(env.str("BROKER_FOLDER", default=str(VAR_DIR / "celery")))
    for _sub in ("queue", "processed", "control"):
        (BROKER_FOLDER / _sub).mkdir(parents=True, exist_ok=True)
    # The transport ignores the host; naming one keeps kombu from warning "No hostname
    # was supplied" in every process that connects.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FOLDER / "queue"),
        "data_folder_out": str(BROKER_FOLDER / "queue"),
        "store_processed": True,
        "processed_folder": str(BROKER_FOLDER / "processed"),
        "control_folder": str(BROKER_FOLDER / "control"),
        # seconds between looks at the folder: how long a new job waits at most
        "polling_interval": 0.25,
    }
    CELERY_BEAT_SCHEDULE_FILENAME = str(BROKER_FOLDER / "beat-schedule")
# No result backend without Redis: job state lives in the job rows, nobody waits on results.
CELERY_RESULT_BACKEND = REDIS_URL or None
# Only on request: an eager task runs inside the request that queued it, which is what
# the embedded setup used to do (a 300 MB import held its POST for 49 s). Tests ask for
# it through an autouse fixture.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# One queue per deployment; a test or a second installation on the same Redis names its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "expire-invitations": {"task": "accounts.expire_invitations", "schedule": 3600.0},
    # Restart jobs whose worker died (core.jobs.jobs_reap).
    "reap-jobs": {"task": "core.reap_jobs", "schedule": 60.0},
    # Return tasks whose reservation lease ran out to the queue (labeling.services.queue).
    "expire-leases": {"task": "labeling.expire_leases", "schedule": 60.0},
}

# Chunked jobs (core.jobs): the reaper restarts a running job whose heartbeat is older
# than JOBS_STALE_SECONDS, or a queued one older than JOBS_QUEUED_STALE_SECONDS, and fails
# one that started JOBS_MAX_RUNS times. When a worker starts it reaps with
# JOBS_REAP_AT_START_SECONDS instead: 0 in the embedded setup, whose only worker is the
# one starting, so any job still running or queued then lost its worker or its message;
# unset (the thresholds above) when other workers may be busy with their jobs.
JOBS_STALE_SECONDS = env.int("JOBS_STALE_SECONDS", default=300)
JOBS_QUEUED_STALE_SECONDS = env.int("JOBS_QUEUED_STALE_SECONDS", default=1800)
JOBS_MAX_RUNS = env.int("JOBS_MAX_RUNS", default=10)
JOBS_REAP_AT_START_SECONDS = env.int("JOBS_REAP_AT_START_SECONDS", default=0 if EMBEDDED else None)

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian "anonymous user" row: anonymous visitors never hold object permissions here.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "accounts:sign-in"
PASSWORD_RESET_TIMEOUT = 3 * 3600
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)

# Annotation imports (labelhub.imports): lines per chunk (one transaction each; the
# worker holds one or two chunks in memory), and the limits of one import.
IMPORTS_CHUNK_SIZE = env.int("IMPORTS_CHUNK_SIZE", default=10_000)
IMPORTS_MAX_LINES = env.int("IMPORTS_MAX_LINES", default=2_000_000)
IMPORTS_MAX_BODY_BYTES = env.int("IMPORTS_MAX_BODY_BYTES", default=1024 * 1024 * 1024)
# A JSON body ({"lines": [...]}) is parsed whole, so it has its own, smaller cap.
IMPORTS_MAX_JSON_BODY_BYTES = env.int("IMPORTS_MAX_JSON_BODY_BYTES", default=16 * 1024 * 1024)
IMPORTS_MAX_ANNOTATIONS_PER_ROW = env.int("IMPORTS_MAX_ANNOTATIONS_PER_ROW", default=5000)

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
# Count failures per normalised e-mail, the same key sign-in looks accounts up by.
AXES_USERNAME_CALLABLE = "labelhub.accounts.models.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0) or None

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp; ADR 0007) -------------------------------------------
# Scripts only from our origin or with this response's nonce; no inline style attributes
# either (values only the server knows travel as data attributes, set through the CSSOM).
# Data rows point at images anywhere, typically signed https URLs of a bucket, so images
# and media also load from CSP_ASSET_SOURCES (default any https: host; add e.g.
# http://minio.internal:9000 for a plain-http store, or narrow it to your bucket's host).
CSP_ASSET_SOURCES = env.list("CSP_ASSET_SOURCES", default=["https:"])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:", *CSP_ASSET_SOURCES],
        "media-src": [SELF, "blob:", *CSP_ASSET_SOURCES],
        # the task page shows PDF and HTML rows in frames (HTML ones sandboxed)
        "frame-src": [SELF, *CSP_ASSET_SOURCES],
        # CSP Level 3: 'self' also matches ws: and wss: on this host (the live socket).
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        # Nothing frames the console (instructions files open as pages of their own).
        "frame-ancestors": [NONE],
    }
}

# --- E-mail -------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LabelHub <labelhub@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env.str("EMAIL_FILE_PATH", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH")

# --- I18N / static ------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Uploaded files (instructions). Served only through permission-checked views, never as a
# public folder.
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# Development serves straight from the finders; production serves `collectstatic` output.
WHITENOISE_USE_FINDERS = not PRODUCTION
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # API keys first: the first class's header decides the 401's WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "labelhub.access.authentication.ApiKeyAuthentication",
        "labelhub.core.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # orjson with a depth limit, lone surrogates refused: bad JSON is 400, never a crash.
    "DEFAULT_PARSER_CLASSES": ["labelhub.core.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_METADATA_CLASS": "labelhub.core.metadata.ApiMetadata",
    "DEFAULT_PAGINATION_CLASS": "labelhub.core.pagination.CursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "labelhub.core.errors.api_exception_handler",
    # Per API key (else per user, else per address); a key may carry its own rate.
    "DEFAULT_THROTTLE_CLASSES": ["labelhub.core.throttling.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env.str("API_RATE_LIMIT", default="6000/minute")},
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# The highest rate a key may be given (Labelbox's plans range 1,500-20,000 a minute).
API_RATE_LIMIT_MAX_PER_MINUTE = env.int("API_RATE_LIMIT_MAX_PER_MINUTE", default=20_000)
SPECTACULAR_SETTINGS = {
    "TITLE": "LabelHub API",
    "DESCRIPTION": "Workspace-scoped REST API of LabelHub.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the sidecar package's static files: the docs work with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"ImportKindEnum": "labelhub.imports.models.ImportJob.Kind"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Django's defaults give the "django" logger a console handler of its own; with the
        # root's, each of its records was printed twice.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # runserver serves through daphne, which announces at INFO the HTTP/2 support it
        # lacks (Twisted extras LabelHub does not need) and every endpoint it configures.
        "daphne": {"level": "WARNING"},
    },
}


def _development_site_url(addr: str) -> str:
    """The base of e-mailed links when only ``LABELHUB_ADDR`` says where the site is.

    ``scripts/demo`` serves on ``LABELHUB_ADDR`` (host:port); invitation links must point
    there, not at the default port. A wildcard bind address is no place to browse to, so
    it becomes the loopback host (set ``SITE_URL`` to reach the site from elsewhere).
    """
    host, _, port = addr.strip().rpartition(":")
    if host in {"", "0.0.0.0", "::", "[::]"}:  # noqa: S104 -- read, not bound: mapped away
        host = "127.0.0.1"
    return f"http://{host}:{port or 8000}"


# Production names its public address explicitly; in development the address the web
# process listens on (the Procfile's LABELHUB_ADDR) is where people open the site.
SITE_URL = env.str(
    "SITE_URL",
    default="http://127.0.0.1:8000"
    if PRODUCTION
    else _development_site_url(env.str("LABELHUB_ADDR", default="127.0.0.1:8000")),
)
CSRF_FAILURE_VIEW = "labelhub.core.views.csrf_failure"
