"""The platform around the API (SPEC §7): the OpenAPI document, offline docs, health, admin, Redis wiring."""

import re

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.test import Client

from accounts.models import User
from tests.conftest import needs_redis

AUTH_PATHS = ["/api/auth/register/", "/api/auth/login/", "/api/auth/refresh/", "/api/auth/logout/",
              "/api/auth/is-user/"]


@pytest.fixture
def browser():
    """A plain Django client: these pages are not DRF endpoints."""
    return Client()


def test_the_schema_is_an_openapi_document_with_the_auth_paths(browser, db):
    response = browser.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Kirimin API"
    for path in AUTH_PATHS:
        assert path in document["paths"], path
    assert "post" in document["paths"]["/api/auth/login/"]
    assert "get" in document["paths"]["/api/auth/is-user/"]


def test_the_schema_describes_the_envelope(browser, db):
    document = browser.get("/api/schema/", {"format": "json"}).json()
    assert set(document["components"]["schemas"]["Error"]["required"]) == {
        "status", "error", "message", "details", "data"}
    login = document["paths"]["/api/auth/login/"]["post"]["responses"]
    assert "data" in login["200"]["content"]["application/json"]["schema"]["properties"]
    assert "401" in login and "400" in login


def test_the_schema_is_served_as_yaml_by_default(browser, db):
    response = browser.get("/api/schema/")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi:")


def test_the_docs_page_uses_only_local_assets(browser, db):
    response = browser.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = re.findall(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets, "the docs page loads no assets at all"
    for url in assets:
        assert url.startswith("/static/"), url
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", html)
    assert "/api/schema/" in html


def test_the_docs_assets_are_served(browser, db):
    html = browser.get("/api/docs/").content.decode()
    assets = re.findall(r"""(?:src|href)\s*=\s*["'](/static/[^"']+)["']""", html)
    assert any(url.endswith(".js") for url in assets) and any(url.endswith(".css") for url in assets)
    for url in assets:
        response = browser.get(url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content if response.streaming else [response.content]), url


def test_healthz_reports_the_database_and_the_channel_layer(browser, db):
    response = browser.get("/healthz/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == 200 and body["message"] == "OK"
    checks = body["data"]["checks"]
    assert checks["database"]["ok"] is True
    assert checks["channel_layer"]["ok"] is True
    assert "Traceback" not in response.content.decode()


def test_healthz_needs_no_credentials(db):
    response = Client(HTTP_AUTHORIZATION="Bearer garbage").get("/healthz/")
    assert response.status_code == 200


def test_the_admin_sends_strangers_to_its_login_page(browser, db):
    response = browser.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert browser.get("/admin/login/").status_code == 200


def test_users_are_managed_in_the_admin(browser, db):
    assert admin.site.is_registered(User)
    staff = User.objects.create_superuser("root", "root@example.com", "correct-horse-battery-staple")
    browser.force_login(staff)
    assert browser.get("/admin/").status_code == 200
    response = browser.get("/admin/accounts/user/", {"q": "root"})
    assert response.status_code == 200
    assert b"root" in response.content
    assert browser.get(f"/admin/accounts/user/{staff.pk}/change/").status_code == 200


def test_the_admin_is_closed_to_ordinary_users(browser, alice):
    browser.force_login(alice)
    response = browser.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@needs_redis
def test_with_redis_url_the_cache_and_channel_layer_use_redis():
    from channels.layers import get_channel_layer
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    assert django_settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert isinstance(caches["default"], RedisCache)
    assert "Redis" in django_settings.CHANNEL_LAYERS["default"]["BACKEND"]
    assert isinstance(get_channel_layer(), RedisChannelLayer | RedisPubSubChannelLayer)
