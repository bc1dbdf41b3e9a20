"""Real Kirimin server processes for end-to-end tests.

`Stack.prepare()` makes a database the servers can share: a temporary SQLite
file on the embedded default, or a fresh PostgreSQL database
(`kirimin_e2e_<random>`, dropped by `Stack.drop()`) when DATABASE_URL points at
PostgreSQL; either way migrated in a subprocess. `Server.start(stack)` runs
`python -m daphne` on a free port (a socket bound here and passed with `--fd`)
against it and waits for /healthz/.
`Client` talks to a server over plain HTTP (register, login, is-user), and
`open_socket` connects with the `websockets` library the way a client would:
`ws://<socket.host>?id=<socket.id>`.
"""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-staple"
IDENTIFIER = "kirimin"

# Settings the test process may carry that must not leak into a server's environment.
_STACK_VARS = ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "RELAY_LAYER")


def listening_socket(port=0):
    """A bound, listening socket on a free port (or on `port`), to hand to daphne (`--fd`).

    Picking a free port and letting daphne bind it later races with every other
    process starting a server meanwhile (two servers of ours included); a socket
    we already hold cannot be taken.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # So that a server can start again on the port of one that died (`Server.start_again`): its
    # connections linger in TIME_WAIT, and Linux lets the port be reused only if both sockets say so.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)  # a connection storm must not overflow the accept queue
    sock.set_inheritable(True)
    return sock


class Stack:
    """A migrated database (and optionally a Redis) that server processes share."""

    def __init__(self, workdir, *, database_url=None, redis_url=None):
        self.workdir = Path(workdir)
        self.admin_url = database_url if database_url and database_url.startswith("postgres") else None
        self.redis_url = redis_url or None
        self.database_name = None
        self.database_url = None
        self.sqlite_path = None

    @classmethod
    def prepare(cls, workdir, *, database_url=None, redis_url=None):
        stack = cls(workdir, database_url=database_url, redis_url=redis_url)
        if stack.admin_url:
            stack._create_postgres_database()
        else:
            stack.sqlite_path = str(stack.workdir / "kirimin-e2e.sqlite3")
        try:
            stack.manage("migrate", "--noinput", "-v", "0")
        except BaseException:
            stack.drop()
            raise
        return stack

    def _share_database(self, other):
        """Use `other`'s (migrated) database; this stack keeps its own Redis. Returns self."""
        self.database_url, self.sqlite_path = other.database_url, other.sqlite_path
        return self

    def env(self, **extra):
        """The environment of a server (or manage.py) process on this stack."""
        env = {k: v for k, v in os.environ.items() if k not in _STACK_VARS}
        env.update(DJANGO_SETTINGS_MODULE="config.settings", FAST_PASSWORD_HASHER="1", PYTHONUNBUFFERED="1",
                   LOG_LEVEL="WARNING", RELAY_PRESENCE_TTL="5", HTTPS="0")  # served over plain HTTP
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
            env["DB_POOL"] = "1"  # servers run as in production: a pooled PostgreSQL connection
        else:
            env["SQLITE_PATH"] = self.sqlite_path
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def manage(self, *args, timeout=120, env=None):
        """Run manage.py on this stack (`env` adds settings); its stdout."""
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env(**(env or {})),
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def python(self, code):
        """Run Django code (`manage.py shell -c`) on this stack; the last line it prints."""
        lines = self.manage("shell", "-c", code).strip().splitlines()
        return lines[-1] if lines else ""

    # --- PostgreSQL -------------------------------------------------------------------------
    def _admin_connection(self):
        import psycopg

        parts = urlsplit(self.admin_url)
        last_error = None
        for dbname in ("postgres", parts.path.lstrip("/") or "postgres"):
            url = urlunsplit(parts._replace(path="/" + dbname))
            try:
                return psycopg.connect(url, autocommit=True)
            except psycopg.OperationalError as exc:
                last_error = exc
        raise last_error

    def _create_postgres_database(self):
        self.database_name = f"kirimin_e2e_{uuid.uuid4().hex[:12]}"
        with self._admin_connection() as conn:
            conn.execute(f'CREATE DATABASE "{self.database_name}"')
        self.database_url = urlunsplit(urlsplit(self.admin_url)._replace(path="/" + self.database_name))

    def drop(self):
        """Drop the PostgreSQL database (servers must be stopped); SQLite files go with the tmp dir."""
        if self.database_name:
            with self._admin_connection() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
            self.database_name = None


SERVERS = {
    "daphne": lambda fd: ["-m", "daphne", "--fd", str(fd), "config.asgi:application"],
    # As the Makefile and the Docker image run it: no permessage-deflate (see relay/fastpath.py).
    "uvicorn": lambda fd: ["-m", "uvicorn", "config.asgi:application", "--fd", str(fd),
                           "--ws", "websockets-sansio", "--ws-per-message-deflate", "false",
                           "--http", "config.http:HeadDeadline", "--no-proxy-headers", "--no-access-log"],
    # uvicorn's own default, which accepts permessage-deflate: still supported.
    "uvicorn-deflate": lambda fd: ["-m", "uvicorn", "config.asgi:application", "--fd", str(fd),
                                   "--ws", "websockets-sansio", "--no-access-log"],
}


class Server:
    """One server process (daphne unless told otherwise) serving config.asgi:application."""

    started = []  # every server of the session, for logs on failure

    def __init__(self, stack, port, process, log_path, env=None):
        self.stack = stack
        self.port = port
        self.process = process
        self.log_path = log_path
        self.env = env or {}
        self.base_url = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, stack, *, wait=True, port=0, server="daphne", **env):
        """Start a server on `stack` (on `port`, or a free one); `env` adds settings
        (RELAY_LAYER, RELAY_PRESENCE_TTL, ...)."""
        listener = listening_socket(port)
        port = listener.getsockname()[1]
        log_path = stack.workdir / f"{server}-{port}.log"
        try:
            with open(log_path, "ab") as log:
                process = subprocess.Popen(
                    [sys.executable, *SERVERS[server](listener.fileno())],
                    cwd=REPO, env=stack.env(**env), stdout=log, stderr=subprocess.STDOUT,
                    pass_fds=[listener.fileno()], start_new_session=True,
                )
        finally:
            listener.close()  # the server holds its own copy
        started = cls(stack, port, process, log_path, env)
        started.server = server
        cls.started.append(started)
        if wait:
            started.wait_ready()
        return started

    def start_again(self, **kwargs):
        """A new process on this server's port and settings (after stop() or kill())."""
        assert self.process.poll() is not None, "the server is still running"
        return type(self).start(self.stack, port=self.port, server=self.server, **{**self.env, **kwargs})

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server not healthy within {timeout} s:\n{self.log()}")

    def stop(self, timeout=10):
        """SIGTERM, then wait (SIGKILL if it will not go)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self):
        """SIGKILL: the process gets no chance to clean up (a crash)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self, tail=4000):
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def client(self):
        return Client(self.base_url)


@contextlib.contextmanager
def running(stack, count=2, **env):
    """`count` servers on `stack`, started together, ready, and stopped (SIGTERM) afterwards."""
    started = [Server.start(stack, wait=False, **env) for _ in range(count)]
    try:
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()


class Client:
    """Plain HTTP against one server: JSON in, the envelope's `data` out."""

    def __init__(self, base_url):
        self.base_url = base_url

    def request(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def data(self, method, path, body=None, token=None, expect=200):
        status, envelope = self.request(method, path, body, token)
        assert status == expect, (status, envelope)
        return envelope["data"]

    def register(self, username=None):
        """Register and log in a new user; the login `data` (access, refresh, user, socket)."""
        username = username or f"u{uuid.uuid4().hex[:10]}"
        self.data("POST", "/api/auth/register/", {"username": username, "password": PASSWORD}, expect=201)
        return self.login(username)

    def login(self, username):
        return self.data("POST", "/api/auth/login/", {"username": username, "password": PASSWORD})

    def socket(self, access):
        """A fresh `socket` object (one-time ticket) from is-user."""
        return self.data("GET", "/api/auth/is-user/", token=access)["socket"]


# --- sockets over the `websockets` library ---------------------------------------------------------
async def open_socket(socket_config, since=None, timeout=10, **options):
    """Connect as SPEC §2 says a client does (with `&since=` to recover); return (websocket, its `connection` frame)."""
    from websockets.asyncio.client import connect

    url = f"ws://{socket_config['host']}?id={socket_config['id']}"
    if since is not None:
        url += f"&since={since}"
    ws = await connect(url, open_timeout=timeout, **options)
    first = await receive(ws, timeout=timeout)
    assert first["type"] == "connection", first
    return ws, first


async def send(ws, type_, **fields):
    await ws.send(json.dumps({"identifier": IDENTIFIER, "type": type_, **fields}))


# Frames that come whenever someone the socket's user knows opens or closes a socket: tests of
# anything else skip them (`receive(..., presence=True)` keeps them).
BACKGROUND = frozenset({"presence"})


async def receive(ws, timeout=5, *, presence=False):
    """The next frame; `presence` frames are skipped unless asked for."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            assert frame["identifier"] == IDENTIFIER, frame
            if presence or frame["type"] not in BACKGROUND:
                return frame


async def receive_types(ws, *types, timeout=5):
    """len(types) frames in any order, checked; by type."""
    frames = [await receive(ws, timeout) for _ in types]
    assert sorted(f["type"] for f in frames) == sorted(types), frames
    return {f["type"]: f for f in frames}


async def nothing_more(ws, publish_marker, timeout=10):
    """Assert `ws` gets nothing more than it already had. Observed, not waited for:
    `await publish_marker(text)` makes the server publish one more `sendmessage` with that
    text to `ws`'s user; the stream delivers in order, so it must be the very next frame.
    Returns it (the caller's other sockets got it, and its ack, too)."""
    marker = f"marker {uuid.uuid4().hex[:8]}"
    await publish_marker(marker)
    frame = await receive(ws, timeout)
    assert frame.get("message") == marker, f"expected nothing before the marker, got {frame}"
    return frame


async def nothing(ws, timeout=0.5):
    """Assert no frame (but `presence`) comes within `timeout`."""
    try:
        frame = await receive(ws, timeout)
    except TimeoutError:
        return
    raise AssertionError(f"expected nothing, got {frame}")


# --- a Redis of the test's own, to take away and bring back ---------------------------------------
class RedisServer:
    """`redis-server` on a free port, in memory only, that a test may kill and restart on the same port."""

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        probe = listening_socket()
        self.port = probe.getsockname()[1]
        probe.close()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self, timeout=10):
        import redis

        log = open(self.workdir / f"redis-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on {self.port} did not start") from None
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self):
        """SIGKILL: Redis vanishes with everything in it, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
