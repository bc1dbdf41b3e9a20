"""The demo SPA end to end: real uvicorn servers (as shipped), and people in headless Chromium.

The browser is Debian's `chromium` (`make test` installs it when it is missing
and it can), driven by Playwright for Python's sync API with `executable_path`:
nothing downloads a browser. Without it these tests skip, unless
KIRIMIN_E2E_REQUIRED is set (CI sets it), where they fail.

The servers run as in production: DEBUG off, static files collected and served
by WhiteNoise, on the stack under test (SQLite, or PostgreSQL + Redis with
DATABASE_URL and REDIS_URL). Each test signs up its own people through the API
(`scene`), then opens one browser context per person (`person_page`), which
signs in through the login form like anyone would. Every page is photographed
when the test ends, into KIRIMIN_E2E_SCREENSHOTS or the run's tmp directory.
"""

import os
import re
import uuid
from pathlib import Path

import pytest

from tests import servers
from tests.e2e.ui import FRAME_RECORDER, TIMEOUT_MS, status

CHROMIUM = os.environ.get("KIRIMIN_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("KIRIMIN_E2E_REQUIRED", "").lower() in ("1", "true", "yes", "on")
# Without the background-networking flags Chromium phones home, and the closed network refuses it.
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
# Given to the page's client (window.KIRIMIN_OPTIONS): notice a dead socket within seconds and
# retry often, so a test of a drop does not wait out the production heartbeat and backoff.
CLIENT_OPTIONS = "{heartbeat: 1500, heartbeatTimeout: 1500, backoff: {initial: 200, max: 1500}}"
# Before the demo runs: its client options, and the record of the frames its client emits.
INIT_SCRIPT = f"window.KIRIMIN_OPTIONS = {CLIENT_OPTIONS};\n{FRAME_RECORDER}"


@pytest.fixture(autouse=True)
def _fast_tests():
    """Override the suite's cache.clear(): on Redis that is FLUSHDB, which would wipe the
    presence and layer groups of the servers these tests share."""
    yield


# --- the browser ---------------------------------------------------------------------------------
def _unavailable(reason):
    if REQUIRED:
        pytest.fail(f"{reason} (KIRIMIN_E2E_REQUIRED is set)")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser():
    """Headless Debian Chromium under Playwright, for the whole package."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no browser at {CHROMIUM}: `make test` installs Debian's chromium as root, "
                     "or run `apt-get install chromium`")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[test]'")
    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    except Exception as exc:
        playwright.stop()
        _unavailable(f"{CHROMIUM} does not start: {exc}")
    yield chromium
    chromium.close()
    playwright.stop()


_screenshots = []


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory):
    path = os.environ.get("KIRIMIN_E2E_SCREENSHOTS")
    directory = Path(path) if path else tmp_path_factory.getbasetemp() / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    _screenshots.append(directory)
    return directory


def pytest_terminal_summary(terminalreporter):
    for directory in _screenshots:
        terminalreporter.write_line(f"e2e screenshots: {directory}")


# --- the servers --------------------------------------------------------------------------------------
@pytest.fixture(scope="package")
def spa_stack(browser, tmp_path_factory):
    """The database (and Redis) of the stack under test, with the static files collected."""
    from tests.conftest import DATABASE_URL, REDIS_URL

    stack = servers.Stack.prepare(tmp_path_factory.mktemp("spa"), database_url=DATABASE_URL, redis_url=REDIS_URL)
    stack.static_root = stack.workdir / "static"
    stack.manage("collectstatic", "--noinput", "-v", "0", env={"STATIC_ROOT": stack.static_root})
    yield stack
    stack.drop()


def production_env(stack):
    """DEBUG off, a real secret, the collected static files: as `docker compose` runs it."""
    return {"DEBUG": "0", "SECRET_KEY": "e2e-" + uuid.uuid4().hex * 2, "STATIC_ROOT": stack.static_root,
            # Every test signs people up from one address.
            "THROTTLE_REGISTER": "1000/min"}


@pytest.fixture(scope="package")
def spa_server(spa_stack):
    server = servers.Server.start(spa_stack, server="uvicorn", **production_env(spa_stack))  # as shipped
    yield server
    server.stop()


@pytest.fixture(scope="package")
def second_server(spa_stack, spa_server):
    """Another process on the same database (and Redis, when the stack has one)."""
    server = servers.Server.start(spa_stack, server=spa_server.server, **spa_server.env)
    yield server
    server.stop()


# --- people and what they own -----------------------------------------------------------------------
class Person:
    """Someone with an account: `name` is what the UI shows, `username` what they type."""

    def __init__(self, server, display_name):
        self.name = display_name
        self.username = f"{display_name.lower()}_{uuid.uuid4().hex[:6]}"
        self.server = server
        http = server.client()
        http.data("POST", "/api/auth/register/", {"username": self.username, "password": servers.PASSWORD,
                                                  "display_name": display_name}, expect=201)
        login = http.login(self.username)
        self.id = login["user"]["id"]
        self.access = login["access"]

    def api(self, method, path, body=None, expect=200):
        """Call the API as this person (e.g. to set a scene up); the envelope's data."""
        return self.server.client().data(method, path, body, token=self.access, expect=expect)


class Scene:
    def __init__(self, server):
        self.server = server

    def person(self, display_name, server=None):
        return Person(server or self.server, display_name)

    def group(self, owner, name, *, members=(), description=""):
        group = owner.api("POST", "/api/groups/", {"name": name, "description": description}, expect=201)
        for member in members:
            member.api("POST", f"/api/groups/{group['id']}/join/")
        return group


@pytest.fixture
def scene(spa_server):
    return Scene(spa_server)


@pytest.fixture
def person_page(browser, spa_server, screenshot_dir, request, server_logs_on_failure):
    """`person_page(person, server=None, viewport=None)`: a browser context of its own, signed in
    through the form.

    Uncaught errors in a page fail the test; every page is photographed at the end.
    """
    from playwright.sync_api import expect

    opened, errors = [], []

    def open_(person, server=None, viewport=None):
        context = browser.new_context(viewport=viewport or VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(INIT_SCRIPT)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{person.name}: {error}"))
        opened.append((person, context, page))
        page.goto((server or person.server).base_url + "/")
        page.get_by_label("Username").fill(person.username)
        page.get_by_label("Password").fill(servers.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(status(page)).to_have_text("Live")
        expect(page.locator(".me-name")).to_have_text(person.name)
        return page

    yield open_
    test_name = re.sub(r"[^\w]+", "-", request.node.name)
    for person, context, page in opened:
        try:
            page.screenshot(path=str(screenshot_dir / f"{test_name}-{person.name.lower()}.png"))
        except Exception as exc:  # a crashed page: the test has failed already
            print(f"no screenshot of {person.name}: {exc}")
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
