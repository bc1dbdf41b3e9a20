"""The cast and helpers shared by every test.

alice owns things, bob is a member, charlie is an outsider. `api(user)` gives a
DRF client authenticated with a real access JWT.

Beyond this file, the shared fixtures live in plugins registered here, once, for the
whole suite (`pytest_plugins`): tests/sockets.py (sockets, REST from async tests, the
room) and tests/events.py (`capture_events`). Tests use their fixtures by name and
import their helpers from the plugin module itself; no conftest re-exports them.

Here too: each pytest-xdist worker's own Redis (`make test-fast`), and the one marker
of the tests that start server processes, `processes`.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from relay.stream import publish

TESTS = Path(__file__).resolve().parent

# Under pytest-xdist (`make test-fast`), "gw0", "gw1", ...: each worker is a process of its own.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_redis_url(url, worker):
    """Worker gwN's Redis: the database N after REDIS_URL's (gw0 keeps REDIS_URL's own).

    pytest-django gives each worker a test database of its own (test_<name>_gw0, ...; SQLite's
    is in memory, per process), but Redis would be shared: one worker's cache.clear() (a
    FLUSHDB) would take another's tickets, and presence would count the other's sockets."""
    if not url or not worker:
        return url
    parts = urlsplit(url)
    database = int(parts.path.lstrip("/") or 0) + int(worker.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{database}"))


REDIS_URL = _worker_redis_url(os.environ.get("REDIS_URL", ""), XDIST_WORKER)
DATABASE_URL = os.environ.get("DATABASE_URL", "")

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (the production stack run)")
needs_postgres = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgres"), reason="needs DATABASE_URL pointing at PostgreSQL"
)

PASSWORD = "correct-horse-battery-staple"

pytest_plugins = ["tests.sockets", "tests.events"]


def pytest_configure(config):
    # `PYTEST_ARGS="-q"` on top of addopts' `-q` would hide the result line ("1234 passed in
    # 5:27"): quiet, but never that quiet.
    if config.option.verbose < -1:
        config.option.verbose = -1
    if XDIST_WORKER:
        _keep_sqlite_in_memory()
        if REDIS_URL:
            _use_the_workers_redis()


def _keep_sqlite_in_memory():
    """SQLite's test database is in memory, so each worker process has its own already. Said
    outright, since pytest-django would otherwise take our SQLite backend (not Django's, by
    its ENGINE) for a server's and name a test database file "test_<path>_gw0" after it."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith(".sqlite3") and not database.get("TEST", {}).get("NAME"):
        database.setdefault("TEST", {})["NAME"] = ":memory:"


def _use_the_workers_redis():
    """Point this worker's cache, channel layer and relay clients at its own Redis database, and
    give its channel layer a prefix of its own: Redis pub/sub ignores the database number, so
    one worker's hubs would otherwise hear what the other workers publish. Before any test
    runs, so before the cache or the layer exists (both are made on first use). The servers
    that real-process tests start keep the one prefix: `make test` runs those in one process."""
    from channels.layers import channel_layers
    from django.conf import settings
    from django.core.cache import caches

    assert not channel_layers.backends and getattr(caches._connections, "default", None) is None, (
        "the channel layer or the cache was made before the worker got its own Redis")
    settings.REDIS_URL = REDIS_URL
    settings.CACHES["default"]["LOCATION"] = REDIS_URL
    layer = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    for host in layer["hosts"]:
        host["address"] = REDIS_URL
    layer["prefix"] = f"{layer['prefix']}-{XDIST_WORKER}"


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Live presence frames are off in process: a test of them asks for `live_presence`. The
    # servers of real-process tests run with it, as shipped.
    settings.RELAY_PRESENCE = False
    settings.RELAY_DRAIN_WINDOW = 0  # SIGTERM stays pytest's; servers of real-process tests drain, as shipped
    cache.clear()  # tickets and throttle counters never leak between tests
    yield
    cache.clear()
    publish.take()  # nor do the sends of actions a sync test ran and did not send


@pytest.fixture
def make_user(db, django_user_model):
    counter = iter(range(1, 10_000))

    def make(username=None, *, perms=(), **extra):
        """`perms`: permissions ("app.codename") the user holds, e.g. a moderator's."""
        username = username or f"user{next(counter)}"
        user = django_user_model.objects.create_user(username=username, password=PASSWORD, **extra)
        if perms:
            from django.contrib.auth.models import Permission

            for perm in perms:
                app_label, codename = perm.split(".")
                user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return user

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice", display_name="Alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob", display_name="Bob")


@pytest.fixture
def charlie(make_user):
    return make_user("charlie", display_name="Charlie")


def access_token(user):
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def api():
    def client_for(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
        return client

    return client_for


def ok(response, status=200):
    """Assert a success envelope with `status`; return its data."""
    body = response.json()
    assert response.status_code == status, body
    assert body["status"] == status and "data" in body and "message" in body, body
    return body["data"]


def err(response, status, code):
    """Assert an error envelope with `status` and machine `code`; return the body."""
    body = response.json()
    assert response.status_code == status, body
    assert body["status"] == status, body
    assert body["error"] == code, body
    assert body["data"] is None and isinstance(body["message"], str) and "details" in body, body
    assert "Traceback" not in response.content.decode()
    return body


# --- friends (SPEC §5) ---------------------------------------------------------------------------
REQUESTS = "/api/friends/requests/"
FRIENDS = "/api/friends/"


def answer(request_id, verb):
    """The URL that accepts or declines (`verb`) a friend request."""
    return f"{REQUESTS}{request_id}/{verb}/"


def ask(client, user):
    """`client`'s user asks `user` to be friends: the response."""
    return client.post(REQUESTS, {"to": user.pk}, format="json")


@pytest.fixture
def pending(api, alice, bob):
    """alice asked bob; the request's id."""
    return ok(ask(api(alice), bob), 201)["id"]


# --- the scene: groups made through the domain actions ----------------------------------------
def group_with(owner, *members, private=False, name=None):
    """A group owned by `owner` with `members` added, all through the domain actions."""
    from groups.actions import add_member, create_group

    group = create_group(actor=owner, name=name or ("secret" if private else "open"), is_private=private)
    for member in members:
        add_member(actor=owner, group=group, target=member)
    return group


def say(user, text, group=None, to=None):
    """A message from `user` to `group` or to the user `to`, through `groups.messaging.send_message`."""
    from groups.messaging import send_message

    return send_message(actor=user, body=text, group_id=group.pk if group else None, to_id=to.pk if to else None)


def texts(data):
    """The texts of a page of messages, in its order."""
    return [m["message"] for m in data["results"]]


def url(group, verb=""):
    """A group's REST endpoint: `url(group, "join/")` is /api/groups/{id}/join/."""
    return f"/api/groups/{group.pk}/{verb}"


def role_of(user, group):
    """`user`'s role in `group`, or None when they are not a member."""
    from groups.models import Membership

    return Membership.objects.filter(user=user, group=group).values_list("role", flat=True).first()


def make_admin(user, group):
    from groups.models import Membership, Role

    Membership.objects.filter(user=user, group=group).update(role=Role.ADMIN)


@pytest.fixture
def public_group(alice, bob):
    """alice owns it, bob is a member, charlie is not."""
    return group_with(alice, bob, name="open")


@pytest.fixture
def private_group(alice, bob):
    """alice owns it, bob is a member, charlie cannot see it."""
    return group_with(alice, bob, private=True, name="secret")


@pytest.fixture
def chess(alice, bob):
    """A public group: alice owns it, bob is a member; charlie stays outside."""
    from groups import actions as group_actions

    group = group_actions.create_group(actor=alice, name="Chess")
    group_actions.join_group(actor=bob, group=group)
    return group


@pytest.fixture
def secret(alice, bob):
    """A private group: alice owns it, bob was added; charlie cannot see it."""
    from groups import actions as group_actions

    group = group_actions.create_group(actor=alice, name="Secret", is_private=True)
    group_actions.add_member(actor=alice, group=group, target=bob)
    return group


# --- posts: made through the domain actions -----------------------------------------------------
@pytest.fixture
def make_post(db):
    """`make_post(author, group=None, content="hello")`: a post, through `posts.actions.create_post`."""
    from posts.actions import create_post

    def make(author, group=None, content="hello"):
        return create_post(actor=author, content=content, group=group)

    return make


def like_url(post):
    return f"/api/posts/{post.pk}/like/"


def likes_of(post):
    """(the post's likes_count, its Like rows): the two must agree."""
    from posts.models import Like, Post

    return Post.objects.get(pk=post.pk).likes_count, Like.objects.filter(post=post).count()


# --- groups over REST ----------------------------------------------------------------------------
GROUPS = "/api/groups/"


def detail(group):
    """A group's own URL, /api/groups/{id}/."""
    return f"{GROUPS}{group.pk}/"


@pytest.fixture
def scene(alice, bob, charlie):
    """Public and private groups of alice and of charlie; bob is in alice's two."""
    return {
        "alice_public": group_with(alice, bob, name="alice public"),
        "alice_private": group_with(alice, bob, private=True, name="alice private"),
        "charlie_public": group_with(charlie, name="charlie public"),
        "charlie_private": group_with(charlie, private=True, name="charlie private"),
    }


# --- real server processes (tests/servers.py) ----------------------------------------------------
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def server_logs_on_failure(request):
    """When the test fails, print the logs of the server processes it may have used."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        import signal
        import time

        from tests.servers import Server

        running = [server for server in Server.started if server.process.poll() is None]
        for server in running:
            server.process.send_signal(signal.SIGUSR1)  # each thread's stack into its log (config/asgi.py)
        if running:
            time.sleep(0.5)
        for server in Server.started:
            print(f"===== server on port {server.port} (exit {server.process.poll()}) =====\n{server.log(tail=16000)}")


@pytest.fixture(scope="session")
def e2e_stack(tmp_path_factory):
    """A database for server processes on the stack under test: PostgreSQL + Redis, or SQLite alone."""
    from tests import servers

    stack = servers.Stack.prepare(tmp_path_factory.mktemp("e2e"), database_url=DATABASE_URL, redis_url=REDIS_URL)
    yield stack
    stack.drop()


@pytest.fixture(scope="session")
def embedded_stack(tmp_path_factory):
    """The embedded default for server processes: a SQLite file, no Redis, whatever the test stack."""
    from tests import servers

    return servers.Stack.prepare(tmp_path_factory.mktemp("embedded"))


# Real-process tests carry one marker, `processes` (`make test-fast` runs `-m "not processes"`):
# every test under these folders, and every test of these kinds, wherever it is.
PROCESS_FOLDERS = ("reliability", "bench")
PROCESS_KINDS = ("e2e", "soak", "bench", "fuzz")


def pytest_itemcollected(item):
    """Mark every test that starts server processes (Kirimin servers, a redis-server of its own,
    a browser, the benchmark) `processes`, whatever else it is marked."""
    folder = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else None
    if folder in PROCESS_FOLDERS or any(item.get_closest_marker(kind) for kind in PROCESS_KINDS):
        if item.get_closest_marker("processes") is None:
            item.add_marker(pytest.mark.processes)


def pytest_collection_modifyitems(session, config, items):
    """The idle-socket probe opens its sockets first and checks them last (tests/reliability/test_idle.py)."""
    first = [i for i in items if i.originalname == "test_idle_sockets_open"]
    last = [i for i in items if i.originalname == "test_idle_sockets_still_receive_at_once"]
    if first or last:
        rest = [i for i in items if i not in first and i not in last]
        items[:] = first + rest + last


def pytest_sessionfinish(session, exitstatus):
    """Write docs/reliability.md from a complete, green run of the reliability tests."""
    from tests.reliability import report

    if exitstatus == 0 and REDIS_URL and report.complete():
        report.write()
