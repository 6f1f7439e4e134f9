"""Settings of the project that runs kuzzle_events, read from the environment with django-environ.

Embedded default: SQLite, Channels' in-memory layer and an in-process Redis for the ``ms``
controller. ``DATABASE_URL`` (PostgreSQL...) and ``REDIS_URL`` (channels_redis, the cache and the
memory storage) switch to real services. Static files are served by WhiteNoise:
from the apps under ``DEBUG``, from ``STATIC_ROOT`` (``manage.py collectstatic``) otherwise.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    SECRET_KEY=(str, "dev-only-secret-key-change-me-in-production-0123456789"),
    ALLOWED_HOSTS=(list, ["*"]),
    KUZZLE_PIPE_WARN_TIME=(int, 500),
    KUZZLE_PIPE_TIMEOUT=(int, 0),
    KUZZLE_MAX_CONCURRENT_PIPES=(int, 50),
    KUZZLE_PIPES_BUFFER_SIZE=(int, 50_000),
    KUZZLE_MAX_CONCURRENT_REQUESTS=(int, 100),
    KUZZLE_REQUESTS_BUFFER_SIZE=(int, 50_000),
    KUZZLE_REQUESTS_BUFFER_WARNING_THRESHOLD=(int, 5_000),
    KUZZLE_DEBUG=(str, ""),
    KUZZLE_MAX_REQUEST_SIZE=(int, 1024 * 1024),
    KUZZLE_NODE=(str, "knode-1"),
    KUZZLE_PORT=(int, 7512),
    KUZZLE_MQTT_MODE=(str, ""),
    KUZZLE_MQTT_HOST=(str, ""),
    KUZZLE_MQTT_PORT=(int, 1883),
    KUZZLE_MQTT_REQUEST_TOPIC=(str, "Kuzzle/request"),
    KUZZLE_MQTT_RESPONSE_TOPIC=(str, "Kuzzle/response"),
    KUZZLE_PLUGINS=(list, []),
    KUZZLE_DURABLE_RUNNER=(bool, True),
    KUZZLE_DURABLE_POLL_INTERVAL=(float, 1.0),
    KUZZLE_DURABLE_LEASE=(float, 60.0),
    DEMO_FORMAT_NOW=(bool, False),
)
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

INSTALLED_APPS = [
    # kuzzle_events before daphne: its runserver (daphne's, on port 7512) wins.
    "kuzzle_events",
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "channels",
    "project.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's CSS...) under uvicorn or daphne, which serve none themselves.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}

if env.str("REDIS_URL", default=""):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [env.str("REDIS_URL")]},
        }
    }
    # Failed logins (KUZZLE_EVENTS["LOGIN_CACHE"]) are counted once for every server process.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.str("REDIS_URL")}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def memory_storage_url(redis_url: str) -> str | None:
    """The ``ms`` controller's Redis: ``MEMORY_STORAGE_URL``, else ``REDIS_URL``'s server on a database of its own.

    As Kuzzle keeps its memoryStorage apart from its internal cache, the ms keys (and ms:flushdb)
    never touch the channel layer's and the cache's database: theirs plus 8, modulo 16.
    """
    if env.str("MEMORY_STORAGE_URL", default=""):
        return env.str("MEMORY_STORAGE_URL")
    if not redis_url:
        return None
    parts = urlsplit(redis_url)
    database = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(database + 8) % 16}"))


AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# WhiteNoise serves STATIC_ROOT, filled by collectstatic (the Dockerfile runs it); under DEBUG it
# finds the apps' files where they are, so a development run needs no collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

KUZZLE_EVENTS = {
    "MEMORY_STORAGE_URL": memory_storage_url(env.str("REDIS_URL", default="")),
    "PIPE_WARN_TIME": env("KUZZLE_PIPE_WARN_TIME"),
    "PIPE_TIMEOUT": env("KUZZLE_PIPE_TIMEOUT"),
    "MAX_CONCURRENT_PIPES": env("KUZZLE_MAX_CONCURRENT_PIPES"),
    "PIPES_BUFFER_SIZE": env("KUZZLE_PIPES_BUFFER_SIZE"),
    "MAX_CONCURRENT_REQUESTS": env("KUZZLE_MAX_CONCURRENT_REQUESTS"),
    "REQUESTS_BUFFER_SIZE": env("KUZZLE_REQUESTS_BUFFER_SIZE"),
    "REQUESTS_BUFFER_WARNING_THRESHOLD": env("KUZZLE_REQUESTS_BUFFER_WARNING_THRESHOLD"),
    "DEBUG": env("KUZZLE_DEBUG"),
    "MAX_REQUEST_SIZE": env("KUZZLE_MAX_REQUEST_SIZE"),
    "NODE": env("KUZZLE_NODE"),
    "PORT": env("KUZZLE_PORT"),
    # Plugins to load, as dotted paths of their classes (comma-separated), with no config.
    "PLUGINS": {path: {} for path in env("KUZZLE_PLUGINS")},
    # Durable hooks: KUZZLE_DURABLE_RUNNER=false on servers whose deliveries `manage.py
    # kuzzle_worker` processes run.
    "DURABLE_RUNNER": env("KUZZLE_DURABLE_RUNNER"),
    "DURABLE_POLL_INTERVAL": env("KUZZLE_DURABLE_POLL_INTERVAL"),
    "DURABLE_LEASE": env("KUZZLE_DURABLE_LEASE"),
    # The API over MQTT: through the broker KUZZLE_MQTT_HOST names (docker-compose.yml's
    # mosquitto), or with KUZZLE_MQTT_MODE=embedded, a broker of its own on KUZZLE_MQTT_PORT.
    "MQTT": (
        {
            "MODE": env("KUZZLE_MQTT_MODE") or "external",
            "HOST": env("KUZZLE_MQTT_HOST") or "127.0.0.1",
            "PORT": env("KUZZLE_MQTT_PORT"),
            "REQUEST_TOPIC": env("KUZZLE_MQTT_REQUEST_TOPIC"),
            "RESPONSE_TOPIC": env("KUZZLE_MQTT_RESPONSE_TOPIC"),
        }
        if env("KUZZLE_MQTT_HOST") or env("KUZZLE_MQTT_MODE") not in ("", "off")
        else {}
    ),
}

# The demo's server:afterNow pipe formats the date only when asked, so that server:now keeps
# Kuzzle's {"now": <ms>} by default.
DEMO_FORMAT_NOW = env("DEMO_FORMAT_NOW")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"kuzzle_events": {"handlers": ["console"], "level": "INFO"}},
}
