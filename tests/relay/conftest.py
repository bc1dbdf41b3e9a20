"""Relay test helpers: open sockets against the real ASGI app, send and read frames.

`connect(user)` opens a socket with a fresh one-time ticket (or anonymously, or
with the `path`/`headers` given), asserts the first frame is `connection`, and
returns the communicator with that frame as `comm.first`. Every socket a test
opens is disconnected after it, and the event loop's hub is stopped, so no test
leaks sockets, layer groups or presence into the next.
"""


import pytest
from asgiref.sync import sync_to_async

from tests.conftest import access_token
from tests.sockets import (  # noqa: F401 - fixtures and helpers this suite's tests use
    IDENTIFIER,
    _fresh_hub,
    closed_with,
    connect,
    error_of,
    nothing,
    open_socket,
    recv,
    recv_types,
    send,
    send_raw,
    settle,
    sockets,
    still_alive,
)


async def token_for(user):
    """A real access JWT (minting one writes an outstanding refresh token, so off the loop)."""
    return await sync_to_async(access_token)(user)


def bearer(token):
    return [(b"authorization", f"Bearer {token}".encode())]


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
    from tests.conftest import DATABASE_URL, REDIS_URL

    stack = servers.Stack.prepare(tmp_path_factory.mktemp("e2e"), database_url=DATABASE_URL, redis_url=REDIS_URL)
    yield stack
    stack.drop()


@pytest.fixture(scope="session")
def embedded_stack(tmp_path_factory):
    """The embedded default for server processes: a SQLite file, no Redis, whatever the test stack."""
    from tests import servers

    return servers.Stack.prepare(tmp_path_factory.mktemp("embedded"))
