"""The cast and helpers shared by every test.

alice owns things, bob is a member, charlie is an outsider. `api(user)` gives a
DRF client authenticated with a real access JWT.

The shared fixtures live in plugins registered here, once, for the whole suite
(`pytest_plugins`): tests use their fixtures by name and import their helpers from
the plugin module itself; no conftest re-exports them.
"""

import os

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

REDIS_URL = os.environ.get("REDIS_URL", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (the production stack run)")
needs_postgres = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgres"), reason="needs DATABASE_URL pointing at PostgreSQL"
)

PASSWORD = "correct-horse-battery-staple"

pytest_plugins = ["tests.sockets", "tests.events"]


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # tickets and throttle counters never leak between tests
    yield
    cache.clear()


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


# --- the scene: groups made through the domain actions ----------------------------------------
def group_with(owner, *members, private=False, name=None):
    """A group owned by `owner` with `members` added, all through the domain actions."""
    from groups.actions import add_member, create_group

    group = create_group(actor=owner, name=name or ("secret" if private else "open"), is_private=private)
    for member in members:
        add_member(actor=owner, group=group, target=member)
    return group


@pytest.fixture
def public_group(alice, bob):
    """alice owns it, bob is a member, charlie is not."""
    return group_with(alice, bob, name="open")


@pytest.fixture
def private_group(alice, bob):
    """alice owns it, bob is a member, charlie cannot see it."""
    return group_with(alice, bob, private=True, name="secret")


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
        from tests.servers import Server

        for server in Server.started:
            print(f"===== server on port {server.port} (exit {server.process.poll()}) =====\n{server.log()}")


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
