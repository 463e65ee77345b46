"""CubeArena settings, read from the environment (README lists every variable).

Embedded default: SQLite, the in-memory channel layer, the arbiter in-process.
With REDIS_URL and DATABASE_URL set: channels-redis, PostgreSQL, arbiters in
`manage.py runworker arbiter` processes.
"""

import os
import re
import tempfile
from pathlib import Path

import dj_database_url

from .env import EnvError, env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise EnvError("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "game",  # before channels: its runworker (game/management/commands) takes precedence
    "channels",
    "lobby",
    "loadbots",
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
    # A database that cannot be reached answers 503 (JSON under /api/), not a 500 traceback.
    "lobby.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "cubearena.urls"
ASGI_APPLICATION = "cubearena.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Connections are kept (conn_max_age above), one per thread: opening one (Django's
    # functions, the PRAGMAs) costs ~0.7 ms of CPU, a match's flush every second when each
    # job opened its own. The arbiter's flush thread writes while requests write too. WAL
    # lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN, so a
    # transaction that read first cannot fail "database is locked" when it upgrades (busy
    # timeout can't help that case); the timeout makes a second writer wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
    # Tests get a file, not :memory:: the arbiter writes from threads of its own
    # (game/records/lane.py), and a shared-cache memory database answers a second writer
    # "table is locked" at once instead of waiting; servers the tests start share the file.
    _test_db = Path(tempfile.gettempdir()) / f"cubearena-test-{os.getpid()}.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_SQLITE_NAME") or str(_test_db)}
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A server that is down or unreachable fails a connect in 2 s instead of the OS's minutes:
    # requests answer 503 and sockets 1013 (lobby/middleware.py, game/records/admission.py).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)

# `manage.py test` runs the scale-out suite against these (cubearena/test_runner.py).
TEST_REDIS_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
TEST_DATABASE_URL = env_str("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cubearena")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _static_build() -> str:
    """A digest of the browser client's files: a page and a server that disagree on it were
    built from different code (a rolling deploy), and the page is told to reload."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((BASE_DIR / "static").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(BASE_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


BUILD_ID = env_str("CUBEARENA_BUILD") or _static_build()

REDIS_URL = env_str("REDIS_URL") or ""
# Keys and channel names on Redis start with it, so several deployments (or test runs) can share one.
CHANNEL_PREFIX = env_str("CHANNEL_PREFIX", "cubearena")
# When Redis carries the layer, arbiters run in `manage.py runworker arbiter` processes;
# otherwise the ASGI process starts one on its own event loop at first use.
ARBITER_IN_PROCESS = env_bool("ARBITER_IN_PROCESS", not REDIS_URL)
# Arbiters review their own matches' batches of play in a thread (the slow rules, off the
# tick path) where they run in the ASGI processes, embedded or with affinity: a second of play
# then never crosses Redis to a `runworker auditor` and back, the least CPU per player. 0
# sends the batches to auditor processes instead (cores of their own for the slow rules);
# standalone `runworker arbiter` processes do so unless it is 1.
AUDIT_IN_PROCESS = env_bool("AUDIT_IN_PROCESS", ARBITER_IN_PROCESS)
# Affinity (scaled out, arbiters in the ASGI processes): this process's name. Its sockets are
# served under /s/<name>/ (a reverse proxy routes that prefix to it), it advertises its load
# in Redis, and the lobby sends a match's players to the process that owns the match, or
# gives a new match to the least loaded live process under its capacity (game/placement.py).
SERVER_NAME = env_str("CUBEARENA_SERVER_NAME", "")
if SERVER_NAME and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,31}", SERVER_NAME):
    raise EnvError(f"CUBEARENA_SERVER_NAME={SERVER_NAME!r}: use 1-32 of a-z, 0-9 and -, e.g. web-1")
AFFINITY = bool(REDIS_URL and ARBITER_IN_PROCESS and SERVER_NAME)
# Players a process takes before placement gives new matches to others (its running matches
# still take their players).
SERVER_CAPACITY = env_int("CUBEARENA_SERVER_CAPACITY", 400, lo=1)
# Where the lobby asks which server prefix a match's socket path gets ("" when not scaled out).
SOCKET_PLACEMENT = "game.placement.socket_prefix" if AFFINITY else ""
# Threads an arbiter process gives its matches' database work (game/records/lane.py): a slow
# write holds up its own match's records only, until this many are slow at once.
ARBITER_DB_THREADS = env_int("ARBITER_DB_THREADS", 8, lo=1, hi=256)

# Surviving faults (game/transport/match_store.py, game/arbiter/). A match's lease lasts this
# long without renewal (its owner renews it every tick); then any arbiter's stale watch, which
# asks the store every MATCH_WATCH_S, adopts it from its checkpoint and input log. The watch
# reads the database's running matches every MATCH_SCAN_S (and when the store came back
# empty): a match the store lost with its owner is adopted within that.
MATCH_LEASE_S = env_float("CUBEARENA_MATCH_LEASE_S", 3.0, lo=0.5, hi=60)
MATCH_WATCH_S = env_float("CUBEARENA_MATCH_WATCH_S", 1.0, lo=0.1, hi=60)
MATCH_SCAN_S = env_float("CUBEARENA_MATCH_SCAN_S", 10.0, lo=0.1, hi=3600)
# A match with no connected player for this long ends.
MATCH_EMPTY_GRACE_S = env_float("CUBEARENA_MATCH_EMPTY_GRACE_S", 60.0, lo=0.1)
# A socket tells its match's owner it is there every third of this; one not heard from for
# this long is gone (its server died, or its leave was lost) and its seat goes offline.
SOCKET_SILENT_S = env_float("CUBEARENA_SOCKET_SILENT_S", 9.0, lo=0.3, hi=600)

# How long the records of an ended match (events, its input log) are kept: `manage.py
# prunerecords` applies it and is the only thing that deletes them.
RECORDS_KEEP_DAYS = env_int("CUBEARENA_RECORDS_KEEP_DAYS", 30, lo=1)

# Prometheus metrics (game/metrics.py): /metrics answers loopback, or this bearer token; a
# `runworker` serves them on this loopback port (0: not at all; give each worker its own).
METRICS_TOKEN = env_str("CUBEARENA_METRICS_TOKEN") or ""
METRICS_PORT = env_int("CUBEARENA_METRICS_PORT", 0, lo=0, hi=65535)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "game.transport.redis_layer.ArenaRedisChannelLayer",
            "CONFIG": {
                # redis-py 8 times out socket reads after 5 s, exactly channels-redis'
                # 5 s BZPOPMIN: an idle receive would then raise and kill its consumer.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                # channels-redis drops messages to a full channel: ticks and snaps must not be.
                "capacity": 5000,
                "expiry": 60,
                "group_expiry": 86400 * 7,
                "prefix": CHANNEL_PREFIX,
            },
        },
        # Group broadcasts (snapshots): published once per group, fanned out per process.
        "broadcast": {
            "BACKEND": "game.transport.redis_layer.ArenaPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": CHANNEL_PREFIX + "-bcast",
            },
        },
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "game.transport.memory_layer.ArenaChannelLayer",
            "CONFIG": {"capacity": 5000, "expiry": 60, "group_expiry": 86400 * 7},
        }
    }

# A socket whose unread backlog passes this many bytes is dropped (game/transport/backpressure.py).
SLOW_READER_BYTES = env_int("CUBEARENA_SLOW_READER_BYTES", 1024 * 1024, lo=4096)
SOCKET_SEND_BUFFER = env_int("CUBEARENA_SOCKET_SEND_BUFFER", 256 * 1024, lo=4096)

# Player limit per match (docs/protocol.md: default 500, set by the environment).
MAX_PLAYERS_LIMIT = env_int("CUBEARENA_MAX_PLAYERS", 500, lo=2, hi=100_000)

# Lobby caps (lobby/services.py reads them per request; the windows are in lobby/limits.py).
# An address may mint this many guests an hour (soft: two racing requests may both pass);
# load tests from one address raise it.
GUESTS_PER_ADDRESS = env_int("CUBEARENA_GUESTS_PER_ADDRESS", 20, lo=1)
# Matches a player may have in lobby or running at once, and open per hour.
LIVE_MATCHES_PER_PLAYER = env_int("CUBEARENA_LIVE_MATCHES_PER_PLAYER", 3, lo=1)
MATCHES_PER_HOUR = env_int("CUBEARENA_MATCHES_PER_HOUR", 20, lo=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CSRF_FAILURE_VIEW = "lobby.api.csrf_failure"
TEST_RUNNER = "cubearena.test_runner.PytestRunner"
LOGIN_URL = "lobby:login"
LOGIN_REDIRECT_URL = "lobby:index"
LOGOUT_REDIRECT_URL = "lobby:index"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_str("STATIC_ROOT") or BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor", BASE_DIR / "node_modules" / "three" / "build")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
SECURE = env_bool("SECURE", not DEBUG)
if SECURE:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600, lo=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
