"""config.settings read from the environment: refuses unsafe or unknown values, runs with none at all.

Each case starts a fresh interpreter, since settings are read once per process.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET_KEY = "django-insecure-kirimin-development-key-do-not-use-in-production"
STRONG_SECRET_KEY = "k" * 20 + "Xq9-rT_4vLp2sWm8zN6bYc3dH1fJ7gK5"

SETUP = "import django; django.setup()"
DESCRIBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'cache': s.CACHES['default']['BACKEND'], "
    "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'debug': s.DEBUG}))"
)


def run(*args, **env):
    """Run python `args` in the project root with the current environment changed by `env` (None unsets)."""
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=60)


def test_debug_off_without_secret_key_refuses_to_start():
    result = run("-c", SETUP, DEBUG="0", SECRET_KEY=None)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_debug_off_with_the_development_secret_key_refuses_to_start():
    result = run("-c", SETUP, DEBUG="0", SECRET_KEY=DEV_SECRET_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_off_with_a_secret_key_starts():
    result = run("manage.py", "check", DEBUG="0", SECRET_KEY=STRONG_SECRET_KEY)
    assert result.returncode == 0, result.stderr
    assert "System check identified" in result.stdout


def test_debug_on_without_secret_key_starts():
    result = run("-c", SETUP, DEBUG="1", SECRET_KEY=None)
    assert result.returncode == 0, result.stderr


def test_an_unknown_relay_layer_is_refused_when_redis_is_used():
    result = run("-c", SETUP, RELAY_LAYER="bogus", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "RELAY_LAYER" in result.stderr and "bogus" in result.stderr


@pytest.mark.parametrize("layer, backend", [("core", "relay.stream.layers.RedisChannelLayer"),
                                            ("pubsub", "relay.stream.layers.RedisPubSubChannelLayer")])
def test_redis_url_switches_the_cache_and_the_channel_layer(layer, backend):
    result = run("-c", DESCRIBE, REDIS_URL="redis://127.0.0.1:6379/0", RELAY_LAYER=layer)
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout.strip().splitlines()[-1])
    assert described["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert described["layer"] == backend


def test_with_no_environment_it_runs_on_sqlite_and_in_memory():
    result = run("-c", DESCRIBE, DATABASE_URL=None, REDIS_URL=None, RELAY_LAYER=None, DEBUG=None,
                 SECRET_KEY=None)
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout.strip().splitlines()[-1])
    assert described == {
        "db": "relay.stream.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "layer": "channels.layers.InMemoryChannelLayer",
        "debug": True,
    }


def test_database_url_switches_to_postgresql():
    result = run("-c", DESCRIBE, DATABASE_URL="postgres://kirimin@db.invalid:5432/kirimin")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["db"] == "relay.stream.backends.postgresql"


FROZEN = "import gc, config.asgi; print(gc.get_freeze_count())"


def test_the_asgi_app_freezes_its_start_up_objects_unless_told_not_to():
    """Start-up objects are moved out of the collector's full passes (config/asgi.py; measured
    in docs/performance.md); GC_FREEZE=0 leaves the collector as Python ships it."""
    frozen = run("-c", FROZEN, GC_FREEZE=None)
    assert frozen.returncode == 0, frozen.stderr
    assert int(frozen.stdout) > 10_000  # Django, DRF, Channels and the apps: well over 100,000 here
    left = run("-c", FROZEN, GC_FREEZE="0")
    assert left.returncode == 0, left.stderr
    assert int(left.stdout) == 0


THRESHOLD = "import gc, config.asgi; print(gc.get_threshold()[0])"


def test_the_asgi_app_collects_young_objects_less_often_unless_told_not_to():
    """Collected every 700 new objects (Python's default), the objects of frames in flight reach
    the old generation and set off full passes of ~35 ms with 1000 sockets open (measured in
    docs/performance.md); GC_YOUNG_THRESHOLD=0 leaves Python's threshold."""
    raised = run("-c", THRESHOLD, GC_YOUNG_THRESHOLD=None)
    assert raised.returncode == 0, raised.stderr
    assert int(raised.stdout) == 50_000
    left = run("-c", THRESHOLD, GC_YOUNG_THRESHOLD="0")
    assert left.returncode == 0, left.stderr
    assert int(left.stdout) == 700
    refused = run("-c", THRESHOLD, GC_YOUNG_THRESHOLD="lots")
    assert refused.returncode != 0
    assert "GC_YOUNG_THRESHOLD='lots': must be a whole number" in refused.stderr
    negative = run("-c", THRESHOLD, GC_YOUNG_THRESHOLD="-1")  # would collect at almost every allocation
    assert negative.returncode != 0 and "GC_YOUNG_THRESHOLD=-1: must be 0" in negative.stderr


TLS_WARNINGS = ("security.W004", "security.W008", "security.W012", "security.W016")  # HSTS, redirect, cookies


def test_the_deployment_check_passes_with_debug_off():
    """DEBUG off serves over TLS by default: redirects, HSTS, Secure cookies. Whether HSTS binds
    every subdomain and asks for preloading is left to the operator (two settings), so
    `check --deploy` is clean of everything else."""
    result = run("manage.py", "check", "--deploy", DEBUG="0", SECRET_KEY=STRONG_SECRET_KEY,
                 ALLOWED_HOSTS="kirimin.example", HTTPS=None)
    assert result.returncode == 0, result.stderr
    found = set(re.findall(r"\(([a-z_.]+\.[EW]\d+)\)", result.stderr + result.stdout))
    assert found <= {"security.W005", "security.W021"}, found
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", DEBUG="0", SECRET_KEY=STRONG_SECRET_KEY,
                 ALLOWED_HOSTS="kirimin.example", HTTPS=None, SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
                 SECURE_HSTS_PRELOAD="1")
    assert result.returncode == 0, result.stderr + result.stdout


def test_https_0_serves_plain_http_and_the_deployment_check_says_so():
    result = run("manage.py", "check", "--deploy", DEBUG="0", SECRET_KEY=STRONG_SECRET_KEY,
                 ALLOWED_HOSTS="kirimin.example", HTTPS="0")
    assert result.returncode == 0, result.stderr
    for warning in TLS_WARNINGS:
        assert warning in result.stderr + result.stdout


def test_a_misspelt_boolean_refuses_to_start_naming_the_variable():
    result = run("-c", SETUP, HTTPS="ture")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "HTTPS='ture'" in result.stderr


def test_a_malformed_number_refuses_to_start_naming_the_variable():
    result = run("-c", SETUP, RELAY_RATE="20/s")
    assert result.returncode != 0
    assert "RELAY_RATE='20/s': must be a number" in result.stderr
