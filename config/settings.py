"""Kirimin settings: one module, everything from the environment (12-factor).

With no environment at all Kirimin runs on the embedded default: SQLite, a
local-memory cache and the in-memory channel layer, one process.
`DATABASE_URL` switches to PostgreSQL; `REDIS_URL` switches the cache and the
channel layer to Redis so that any number of processes relay to each other.
Every variable is documented in README.md.
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import StrictEnv

BASE_DIR = Path(__file__).resolve().parent.parent

env = StrictEnv()  # a malformed boolean or number stops the start, naming the variable

INSECURE_SECRET_KEY = "django-insecure-kirimin-development-key-do-not-use-in-production"

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_SECRET_KEY)
if not DEBUG and SECRET_KEY == INSECURE_SECRET_KEY:
    raise ImproperlyConfigured(
        "Refusing to start: DEBUG is off but SECRET_KEY is the insecure development default. "
        "Set SECRET_KEY to a long random value (e.g. `python -c \"import secrets; "
        "print(secrets.token_urlsafe(50))\"`)."
    )

# Served over TLS (on by default when DEBUG is off): plain HTTP is redirected to HTTPS (but
# /healthz/, which probes call on the container's own port), browsers are told to stay on
# HTTPS (HSTS, SECURE_HSTS_SECONDS), and cookies are sent over HTTPS only. Behind a proxy
# that terminates TLS (NUM_PROXIES > 0) its X-Forwarded-Proto says whether the request came
# in over HTTPS. Set HTTPS=0 to serve plain HTTP (a local stack, the test servers).
HTTPS = env.bool("HTTPS", default=not DEBUG)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    # Whether HSTS covers every subdomain and asks for the browsers' preload list: the
    # operator's call (it binds every subdomain), so off unless set.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.int("NUM_PROXIES", default=0) > 0:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "accounts",
    "groups",
    "posts",
    "moderation",
    "relay.stream",
    "relay",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.rest.relayed.RelayOutcomeMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"

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

# --- Database -----------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    # Under ASGI every request runs in a thread of its own context, so persistent
    # per-thread connections (CONN_MAX_AGE > 0) piled up until PostgreSQL refused
    # more ("too many clients"). Either a process-wide psycopg pool (DB_POOL=1,
    # recommended in production) or one connection per request (the default).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool("DB_POOL", default=False):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN", default=2),
            "max_size": env.int("DB_POOL_MAX", default=20),
            "timeout": env.int("DB_POOL_TIMEOUT", default=30),
        }
    # No health check per request: on the relay every frame is a "request", and the
    # extra SELECT 1 cost a round trip per message. A dead connection fails once and is replaced.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "relay.stream.backends.postgresql"
else:
    DATABASES = {
        "default": {
            "ENGINE": "relay.stream.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # Writers queue instead of failing with "database is locked".
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and channel layer -------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# "pubsub" (RedisPubSubChannelLayer, the default: measured faster with the per-process
# hub, see docs/performance.md) or "core" (RedisChannelLayer).
RELAY_LAYER = env.str("RELAY_LAYER", default="pubsub")
RELAY_REDIS_MAX_CONNECTIONS = env.int("RELAY_REDIS_MAX_CONNECTIONS", default=1000)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kirimin",
        }
    }
    # socket_timeout=None: redis-py's default read timeout equals the layer's 5 s
    # blocking pop, which killed idle consumers with "Timeout reading from ...".
    _redis_host = {
        "address": REDIS_URL,
        "socket_timeout": None,
        "socket_connect_timeout": 5,
        "health_check_interval": 30,
        "max_connections": RELAY_REDIS_MAX_CONNECTIONS,
    }
    if RELAY_LAYER == "pubsub":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "relay.stream.layers.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [_redis_host], "prefix": "kirimin"},
            }
        }
    elif RELAY_LAYER == "core":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "relay.stream.layers.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [_redis_host],
                    "prefix": "kirimin",
                    # One channel per process carries every event for that process,
                    # so it needs far more room than the per-consumer default of 100.
                    "capacity": env.int("RELAY_LAYER_CAPACITY", default=10000),
                    "expiry": 60,
                },
            }
        }
    else:
        raise ImproperlyConfigured(f"RELAY_LAYER must be 'core' or 'pubsub', not {RELAY_LAYER!r}.")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env.int("RELAY_LAYER_CAPACITY", default=10000), "expiry": 60},
        }
    }

# --- Auth ------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env.bool("FAST_PASSWORD_HASHER", default=False):
    # Tests only: hashing with PBKDF2 dominates a suite that registers many users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_LIFETIME", default=900)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_LIFETIME", default=7 * 86400)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Refused once their session has logged out (accounts.sessions).
    "AUTH_TOKEN_CLASSES": ("accounts.sessions.SessionAccessToken",),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
}

# One-time WebSocket tickets (accounts.tickets).
SOCKET_TICKET_TTL = env.int("SOCKET_TICKET_TTL", default=60)
# "host[:port]" clients should open the socket on; the request's host when empty.
RELAY_PUBLIC_HOST = env.str("RELAY_PUBLIC_HOST", default="")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["config.rest.envelope.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.rest.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.rest.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.rest.envelope.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # Failed logins per (client IP, username), and per client IP over all usernames.
        "login": env.str("THROTTLE_LOGIN", default="10/min"),
        "login_ip": env.str("THROTTLE_LOGIN_IP", default="60/min"),
        "register": env.str("THROTTLE_REGISTER", default="60/min"),
        # Per user: socket tickets minted (login and is-user), messages sent through REST.
        "ticket": env.str("THROTTLE_TICKET", default="60/min"),
        "send": env.str("THROTTLE_SEND", default="120/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Kirimin API",
    "DESCRIPTION": (
        "A Django social backend with a real-time relay. Every response uses the envelope "
        "`{status, message, data}` (errors: `{status, error, message, details, data: null}`). "
        "The WebSocket relay (`/ws/`) is described by the AsyncAPI document at "
        "[/api/asyncapi/](/api/asyncapi/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the online validator: the docs work offline.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body is documented by the serializer its view validates with: `PATCH /api/posts/{id}/`
    # requires `content`, while a group's edit serializer makes every field optional itself.
    "COMPONENT_SPLIT_PATCH": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.rest.envelope.envelope_schema_hook",
    ],
}

# --- Metrics ----------------------------------------------------------------------
# GET /metrics (config.metrics) answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Relay -----------------------------------------------------------------------
# The publish API (POST /api/publish/): publishes allowed per API key (or staff user) unless the
# key sets its own rate, and the largest `data` object it takes (bytes of JSON).
PUBLISH_RATE = env.str("PUBLISH_RATE", default="600/min")
PUBLISH_MAX_BYTES = env.int("PUBLISH_MAX_BYTES", default=16384)
RELAY_MAX_FRAME_BYTES = env.int("RELAY_MAX_FRAME_BYTES", default=65536)
# Token bucket per socket: RELAY_RATE frames/s sustained, RELAY_BURST at once.
RELAY_RATE = env.float("RELAY_RATE", default=20.0)
# Read receipts (the server's `read` frame) go to a group's members up to this size; larger
# groups only show them through GET /api/groups/{id}/messages/{message_id}/reads/.
RELAY_READ_RECEIPTS_MAX_MEMBERS = env.int("RELAY_READ_RECEIPTS_MAX_MEMBERS", default=100)
RELAY_BURST = env.int("RELAY_BURST", default=40)
# Frame each relayed event once and write the same bytes to every local socket (daphne, uvicorn).
RELAY_FAST_WRITES = env.bool("RELAY_FAST_WRITES", default=True)
# Move start-up objects out of the garbage collector's full passes once the ASGI app is built
# (gc.freeze in config/asgi.py): fewer, shorter event-loop stalls under load.
GC_FREEZE = env.bool("GC_FREEZE", default=True)
# The collector's youngest generation is collected after this many new objects (Python's
# default: 700). Collected that often, the objects of frames in flight survive into the old
# generation and set off full passes that stall the event loop (config/asgi.py); 0 keeps Python's.
GC_YOUNG_THRESHOLD = env.int("GC_YOUNG_THRESHOLD", default=50_000)
if GC_YOUNG_THRESHOLD < 0:
    raise ImproperlyConfigured(f"GC_YOUNG_THRESHOLD={GC_YOUNG_THRESHOLD}: must be 0 (Python's) or more.")
# Bytes a socket may have waiting to be sent before it is closed with 4008 (daphne and
# uvicorn, on the RELAY_FAST_WRITES path).
RELAY_MAX_SEND_BUFFER = env.int("RELAY_MAX_SEND_BUFFER", default=4 * 1024 * 1024)
RELAY_MAX_SOCKETS_PER_USER = env.int("RELAY_MAX_SOCKETS_PER_USER", default=10)
# Anonymous sockets: at most this many per client address on each process (closed with 4429),
# and closed with 4408 after this many seconds without a frame from the client.
RELAY_MAX_ANONYMOUS_PER_IP = env.int("RELAY_MAX_ANONYMOUS_PER_IP", default=20)
RELAY_ANONYMOUS_IDLE = env.int("RELAY_ANONYMOUS_IDLE", default=300)
# SIGTERM drains a process (relay.drain): its sockets are told `reconnect` and closed with 1012
# spread over this many seconds, then the server exits; 0: SIGTERM closes them all at once.
RELAY_DRAIN_WINDOW = env.float("RELAY_DRAIN_WINDOW", default=10.0)
# Channels (`subscribe`) one socket may follow at once.
RELAY_MAX_SUBSCRIPTIONS = env.int("RELAY_MAX_SUBSCRIPTIONS", default=100)
# How long a crashed process keeps its users "online" at most.
RELAY_PRESENCE_TTL = env.int("RELAY_PRESENCE_TTL", default=30)
# Live presence (the server's `presence` frame; RELAY_PRESENCE=0 turns it off) goes to a user's friends and to the members of
# their groups up to this size; a user whose last socket closed is announced offline after
# RELAY_PRESENCE_DEBOUNCE seconds unless a socket of theirs opened meanwhile (no flapping).
RELAY_PRESENCE = env.bool("RELAY_PRESENCE", default=True)
RELAY_PRESENCE_MAX_MEMBERS = env.int("RELAY_PRESENCE_MAX_MEMBERS", default=100)
RELAY_PRESENCE_DEBOUNCE = env.float("RELAY_PRESENCE_DEBOUNCE", default=5.0)

# The numbered event stream (relay/stream): how long entries are kept for resuming clients
# (seconds, default 7 days); how often each hub compares its position with the stream's head
# (seconds: the longest an entry lost on the way, with nothing after it, waits to be read back);
# how long a hub waits for a missing entry to arrive before reading it back (seconds); how
# many applied entries (and bytes of them) each hub keeps in memory for sockets that are
# connecting (older ones are read from the database).
RELAY_STREAM_RETENTION = env.int("RELAY_STREAM_RETENTION", default=7 * 86400)
RELAY_STREAM_POLL = env.float("RELAY_STREAM_POLL", default=1.0)
RELAY_STREAM_GAP_WAIT = env.float("RELAY_STREAM_GAP_WAIT", default=0.05)
RELAY_STREAM_RECENT = env.int("RELAY_STREAM_RECENT", default=10000)
RELAY_STREAM_RECENT_BYTES = env.int("RELAY_STREAM_RECENT_BYTES", default=2 * 1024 * 1024)

# Emoji reactions (`react`, `/api/messages/{id}/reactions/`, `/api/posts/{id}/reactions/`): the ones
# allowed, comma-separated. Likes stay as they are.
REACTION_EMOJI = env.list("REACTION_EMOJI", default=["👍", "❤️", "😂", "😮", "😢", "🎉"])

# --- I18N, static ----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The demo SPA (config/static/app/, served at / by config.views.spa) and its reusable client.
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
# Only collectstatic needs a STATIC_ROOT; WhiteNoise serves from the finders otherwise.
STATIC_ROOT = env.str("STATIC_ROOT", default=None)
# Serve app static files (admin, the offline API docs) straight from the packages.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
