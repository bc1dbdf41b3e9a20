"""The demo is served at / with its assets, from the project alone (no CDN), under `make run`
(DEBUG on) and in production (DEBUG off, collectstatic, WhiteNoise); /api/ keeps its JSON 404.

No browser needed: these run wherever the suite runs.
"""

import re
import urllib.error
import urllib.request
import uuid
from urllib.parse import urljoin

import pytest
from django.test import Client

from tests import servers

ASSETS = ["app.js", "kirimin.js", "style.css"]


def assets_of(html):
    """(base href, asset URLs) of the page, resolved as a browser would."""
    base = re.search(r'<base href="([^"]+)">', html).group(1)
    found = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    return base, [urljoin(base, url) for url in found if not url.startswith("data:")]


@pytest.fixture
def browser_client(db):
    return Client()


def test_the_root_serves_the_demo_page(browser_client):
    response = browser_client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "<title>Kirimin</title>" in html
    base, assets = assets_of(html)
    assert base == "/static/app/"
    assert assets == ["/static/app/style.css", "/static/app/app.js"]


def test_the_demo_page_carries_a_content_security_policy(browser_client):
    policy = browser_client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["connect-src"] == "'self'"


def test_the_demo_loads_nothing_from_elsewhere(browser_client):
    html = browser_client.get("/").content.decode()
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", html)
    for name in ASSETS:
        text = b"".join(browser_client.get(f"/static/app/{name}").streaming_content).decode()
        if name.endswith(".js"):
            imports = re.findall(r"""^\s*import\b[^"']*["']([^"']+)["']""", text, re.MULTILINE)
            assert all(spec.startswith("./") for spec in imports), (name, imports)
            code = re.sub(r"/\*.*?\*/|^\s*//.*$", "", text, flags=re.DOTALL | re.MULTILINE)  # not the docs
            assert not re.search(r"""["'`](?:https?:)?//[\w.-]+\.\w""", code), name
        else:
            assert "url(" not in text and "@import" not in text, name


@pytest.mark.parametrize("name,content_type", [("app.js", "text/javascript"), ("kirimin.js", "text/javascript"),
                                               ("style.css", "text/css")])
def test_the_assets_are_served(browser_client, name, content_type):
    response = browser_client.get(f"/static/app/{name}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)


def test_only_reads_are_allowed_on_the_page(browser_client):
    assert browser_client.head("/").status_code == 200
    assert browser_client.post("/").status_code == 405


def test_the_api_catch_all_still_answers_json(browser_client):
    response = browser_client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert browser_client.get("/not-the-app/").json()["error"] == "not_found"


# --- real servers: `make run` and production ------------------------------------------------------
@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory):
    return servers.Stack.prepare(tmp_path_factory.mktemp("serving"))


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type"), response.read().decode()


@pytest.mark.processes
@pytest.mark.parametrize("mode", ["debug", "production"])
def test_a_real_server_serves_the_demo(sqlite_stack, mode):
    if mode == "debug":  # `make run`: straight from the package
        env = {"DEBUG": "1"}
    else:  # the image: DEBUG off, files collected into STATIC_ROOT
        static_root = sqlite_stack.workdir / "static"
        sqlite_stack.manage("collectstatic", "--noinput", "-v", "0", env={"STATIC_ROOT": static_root})
        assert (static_root / "app" / "kirimin.js").is_file()
        env = {"DEBUG": "0", "SECRET_KEY": uuid.uuid4().hex * 2, "STATIC_ROOT": static_root}
    server = servers.Server.start(sqlite_stack, **env)
    try:
        status, content_type, html = fetch(server.base_url + "/")
        assert status == 200 and content_type.startswith("text/html")
        _, assets = assets_of(html)
        for url in [*assets, "/static/app/kirimin.js"]:
            status, _, body = fetch(server.base_url + url)
            assert status == 200 and body, url
    finally:
        server.stop()


@pytest.mark.processes
def test_with_debug_off_plain_http_is_sent_to_https_but_the_health_check(sqlite_stack):
    """The image's default (HTTPS on with DEBUG off): every plain HTTP request is redirected to
    HTTPS, except /healthz/, which the container's own probe calls over HTTP."""
    server = servers.Server.start(sqlite_stack, DEBUG="0", SECRET_KEY=uuid.uuid4().hex * 2, HTTPS="1")
    try:
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        for path in ("/", "/api/auth/is-user/", "/admin/"):
            with pytest.raises(urllib.error.HTTPError) as redirected:
                opener.open(server.base_url + path, timeout=10)
            assert redirected.value.code == 301, path
            assert redirected.value.headers["Location"].startswith("https://"), path
        status, _, _ = fetch(server.base_url + "/healthz/")
        assert status == 200
    finally:
        server.stop()
