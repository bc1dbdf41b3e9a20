"""Kirimin's WebSocket benchmark: one command, every server under test, one report.

    make bench                 # full run (~10 minutes), writes docs/bench.json, docs/bench.md, docs/bench.png
    make bench BENCH_ARGS=--quick   # a tiny smoke run (CI), writes to bench/out/

It starts what it needs: Kirimin (daphne, PostgreSQL + Redis, real users and real
one-time tickets), the Channels tutorial consumer and a socket.io 4 room server as
peers, and one Node load generator (bench/gen.mjs) that drives all of them alike.
It reads the CPU time each side used, so a reader can see whether the generator
was the bottleneck. PostgreSQL and Redis must be running locally (as in CI).
"""

import argparse
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = "kirimin_bench"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")

SERVER_ENV = {
    "DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB,
    "REDIS_URL": REDIS,
    "DEBUG": "0",
    "HTTPS": "0",  # plain HTTP on 127.0.0.1
    "SECRET_KEY": "kirimin-bench-secret-key-not-for-production-0123456789",
    "ALLOWED_HOSTS": "*",
    "FAST_PASSWORD_HASHER": "1",
    "LOG_LEVEL": "WARNING",
    "DB_POOL": "1",
    # The bench sender legitimately sends 100 frames/s.
    "RELAY_RATE": "100000",
    "RELAY_BURST": "100000",
    "RELAY_MAX_SOCKETS_PER_USER": "100",
}
os.environ.update(SERVER_ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, str(ROOT))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# --- services -----------------------------------------------------------------------------------
def reset_database():
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)


def flush_redis():
    import redis

    redis.Redis.from_url(REDIS).flushdb()


class Proc:
    """A server under test."""

    def __init__(self, name, argv, port, cwd=ROOT, env=None, health="/healthz/"):
        self.name, self.port = name, port
        (BENCH / "out").mkdir(exist_ok=True)
        self.log = BENCH / "out" / f"{name.split(':')[0].replace('/', '-')}-{port}.log"
        self.popen = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                                      stderr=self.log.open("w"), start_new_session=True)
        self.ps = psutil.Process(self.popen.pid)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log.read_text()[-2000:]}")
            try:
                if health is None:
                    with __import__("socket").create_connection(("127.0.0.1", port), timeout=1):
                        return
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not come up on {port}")

    def _tree(self):  # granian serves from a child process
        try:
            return [self.ps, *self.ps.children(recursive=True)]
        except psutil.Error:
            return [self.ps]

    def cpu(self):
        total = 0.0
        for p in self._tree():
            try:
                t = p.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system
        return total

    def rss_mb(self):
        total = 0
        for p in self._tree():
            try:
                total += p.memory_info().rss
            except psutil.Error:
                continue
        return total / 2**20

    def stop(self):
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.popen.pid, signal.SIGKILL)


def kirimin(port, server="daphne", root=ROOT, **env):
    """`server`: daphne, uvicorn (as shipped: no permessage-deflate), uvicorn-deflate
    (uvicorn's own default, which accepts it) or granian (not a dependency: `--granian`).
    `root`: the checkout to serve (another one for `--baseline`)."""
    if server == "granian":
        argv = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                "--loop", "uvloop", "--log-level", "warning", "config.asgi:application"]
    elif server.startswith("uvicorn"):
        argv = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
                "--port", str(port), "--ws", "websockets-sansio", "--log-level", "warning", "--no-proxy-headers",
                "--no-access-log"]
        if server == "uvicorn":
            argv += ["--ws-per-message-deflate", "false"]
        if (Path(root) / "config" / "http.py").exists():  # as shipped (a --baseline checkout may predate it)
            argv += ["--http", "config.http:HeadDeadline"]
    else:
        argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
    proc = Proc(f"kirimin/{server}:{port}", argv, port, cwd=root, env=env)
    if os.environ.get("BENCH_PYSPY"):  # profile the server under load: BENCH_PYSPY=out.svg
        subprocess.Popen(["py-spy", "record", "-o", os.environ["BENCH_PYSPY"], "-p", str(proc.popen.pid),
                          "-d", "8", "-f", "raw" if os.environ["BENCH_PYSPY"].endswith(".txt") else "flamegraph",
                          "--threads", "--gil", "-r", "250"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc


def channels_peer(port, layer="core"):
    argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "asgi:application"]
    return Proc("channels-tutorial", argv, port, cwd=BENCH / "peers" / "channels_tutorial",
                env={"PEER_LAYER": layer, "DJANGO_SETTINGS_MODULE": "settings"}, health=None)


def socketio_peer(port):
    return Proc("socket.io", ["node", str(BENCH / "peers" / "socketio" / "server.js")], port,
                env={"PORT": str(port)}, health=None)


# --- Kirimin fixtures: real users, real group, real tickets ---------------------------------------
_users = []


def seed_users(n):
    from accounts.models import User

    while len(_users) < n:
        batch = [User(username=f"bench{len(_users) + i}", display_name=f"Bench {len(_users) + i}")
                 for i in range(min(1000, n - len(_users)))]
        for u in batch:
            u.set_unusable_password()
        _users.extend(User.objects.bulk_create(batch))
    return _users[:n]


def seed_group(members):
    from groups.models import Group, Membership, Role

    group = Group.objects.create(name=f"bench-{len(members)}-{time.time()}", owner=members[0])
    Membership.objects.bulk_create([Membership(group=group, user=u, role=Role.OWNER if i == 0 else Role.MEMBER)
                                    for i, u in enumerate(members)])
    return group


def ticket_urls(users, ports):
    from accounts.tickets import issue_ticket

    return [f"ws://127.0.0.1:{ports[i % len(ports)]}/ws/?id={issue_ticket(u).id}" for i, u in enumerate(users)]


# --- the generator ---------------------------------------------------------------------------------
def services_cpu():
    """CPU seconds used so far by this machine's PostgreSQL and Redis servers (all their processes)."""
    totals = {"postgres_s": 0.0, "redis_s": 0.0}
    for p in psutil.process_iter(["name", "username"]):
        key = ("postgres_s" if p.info["username"] == "postgres" else
               "redis_s" if (p.info["name"] or "").startswith("redis-server") else None)
        if key:
            try:
                t = p.cpu_times()
            except psutil.Error:
                continue
            totals[key] += t.user + t.system
    return totals


def generate(config, procs, on_ready=None):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(config, f)
    gen = subprocess.Popen(["node", str(BENCH / "gen.mjs"), f.name], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    gen_ps = psutil.Process(gen.pid)
    cpu0 = {p.name: p.cpu() for p in procs}
    services0 = services_cpu()
    t0 = time.time()
    result, gen_cpu = None, 0.0
    for line in gen.stdout:
        if line.startswith("READY"):
            extra = on_ready() if on_ready else {}
            gen.stdin.write("go\n")
            gen.stdin.flush()
        elif line.startswith("RESULT "):
            t = gen_ps.cpu_times()
            gen_cpu = t.user + t.system
            result = json.loads(line[7:])
            if on_ready:
                result.update(extra)
    gen.wait(30)
    os.unlink(f.name)
    wall = time.time() - t0
    result["cpu"] = {"wall_s": round(wall, 1), "generator_s": round(gen_cpu, 1),
                     **{f"{p.name}_s": round(p.cpu() - cpu0[p.name], 1) for p in procs}}
    # PostgreSQL and Redis (whoever else uses them meanwhile counts too: run benches alone)
    result["services_cpu"] = {k: round(v - services0[k], 2) for k, v in services_cpu().items()}
    return result


# --- scenarios --------------------------------------------------------------------------------------
def s1_fanout(target, members, rate, duration, *, processes=1, server="daphne", root=ROOT):
    ports = [8401 + i for i in range(processes)]
    procs = []
    try:
        if target == "kirimin":
            users = seed_users(members)
            group = seed_group(users)
            procs = [kirimin(p, server, root) for p in ports]
            config = {"target": "kirimin", "urls": ticket_urls(users, ports), "groupid": group.pk}
        elif target == "channels":
            procs = [channels_peer(ports[0])]
            config = {"target": "channels", "base": f"ws://127.0.0.1:{ports[0]}"}
        else:
            procs = [socketio_peer(ports[0])]
            config = {"target": "socketio", "base": f"http://127.0.0.1:{ports[0]}"}
        config.update(scenario="fanout", members=members, rate=rate, duration=duration)
        result = generate(config, procs)
        result["exactly_once"] = exact(result)
        return result
    finally:
        for p in procs:
            p.stop()
        flush_redis()


def s2_throughput(target, pairs, duration, window=10, server="daphne", processes=1, root=ROOT):
    port = 8411
    ports = [port + i for i in range(processes)]
    procs = []
    try:
        if target == "kirimin":
            from groups.models import Message

            users = seed_users(2 * pairs)
            before = Message.objects.count()
            procs = [kirimin(p, server, root) for p in ports]
            config = {"target": "kirimin", "urls": ticket_urls(users, ports), "user_ids": [u.pk for u in users]}
        elif target == "channels":
            procs = [channels_peer(port)]
            config = {"target": "channels", "base": f"ws://127.0.0.1:{port}"}
        else:
            procs = [socketio_peer(port)]
            config = {"target": "socketio", "base": f"http://127.0.0.1:{port}"}
        config.update(scenario="throughput", pairs=pairs, window=window, duration=duration)
        result = generate(config, procs)
        result["exactly_once"] = exact(result)
        if target == "kirimin":
            result["stored"] = Message.objects.count() - before
        return result
    finally:
        for p in procs:
            p.stop()
        flush_redis()


def s3_connect(target, sockets, server="daphne"):
    port = 8421
    procs = []
    try:
        if target == "kirimin":
            users = seed_users(sockets)
            procs = [kirimin(port, server)]
            config = {"target": "kirimin", "urls": ticket_urls(users, [port])}
        elif target == "channels":
            procs = [channels_peer(port)]
            config = {"target": "channels", "base": f"ws://127.0.0.1:{port}"}
        else:
            procs = [socketio_peer(port)]
            config = {"target": "socketio", "base": f"http://127.0.0.1:{port}"}
        config.update(scenario="connect", sockets=sockets, concurrency=100)
        time.sleep(1)
        idle_rss = procs[0].rss_mb()

        def on_ready():
            time.sleep(1)
            rss = procs[0].rss_mb()
            return {"rss_idle_mb": round(idle_rss, 1), "rss_open_mb": round(rss, 1),
                    "mb_per_1000": round((rss - idle_rss) * 1000 / sockets, 1)}

        return generate(config, procs, on_ready)
    finally:
        for p in procs:
            p.stop()
        flush_redis()


def s4_likes(clients, duration, server="daphne"):
    from rest_framework_simplejwt.tokens import RefreshToken

    from posts.models import Like, Post

    port = 8431
    users = seed_users(clients)
    post = Post.objects.create(author=users[0], content="bench post")
    tokens = [str(RefreshToken.for_user(u).access_token) for u in users]
    procs = [kirimin(port, server)]
    try:
        result = generate({"scenario": "likes", "target": "kirimin", "base": f"http://127.0.0.1:{port}",
                           "post": post.pk, "tokens": tokens, "duration": duration}, procs)
        post.refresh_from_db()
        result["final_likes_count"] = post.likes_count
        result["like_rows"] = Like.objects.filter(post=post).count()
        result["count_correct"] = post.likes_count == result["like_rows"] == clients
        return result
    finally:
        for p in procs:
            p.stop()
        flush_redis()


# --- report ---------------------------------------------------------------------------------------------
def fmt(v, digits=0):
    return "–" if v is None else f"{v:.{digits}f}"


def accounting(res):
    """How the deliveries of S1 and S2 were counted, per (message, recipient): the pairs never
    delivered in time, the extra copies, the first copies that came after a later message of the
    same sender, and (included in `lost` on S1) the first copies later than 5 s."""
    return (f"lost {res.get('lost', '–')}, dup {res.get('duplicates', '–')}, "
            f"ooo {res.get('out_of_order', '–')}, late {res.get('late', '–')}")


def exact(res):
    """Everything delivered exactly once: no pair lost and no duplicate (a duplicate must not
    make up for a loss, so both are required)."""
    return res.get("lost") == 0 and res.get("duplicates") == 0


def spread(res, key="rounds"):
    """Every round's headline figure, when there were several."""
    return f" (rounds: {', '.join(fmt(v, 1) for v in res[key])})" if res.get(key) else ""


def warm(res):
    """S1's p99 without the first second's messages (a cold start), when the generator gave it."""
    if res.get("p99_last_warm_ms") is None:
        return ""
    return f"; after the first second {fmt(res['p99_last_warm_ms'], 1)}{spread(res, 'rounds_warm')}"


def table(results):
    lines = ["| scenario | server | delivered | p50 last ms | p99 last ms | p99 per delivery ms | CPU server/gen s |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        res, cpu = r["result"], r["result"]["cpu"]
        server_cpu = sum(v for k, v in cpu.items() if k not in ("wall_s", "generator_s"))
        delivered_any = res.get("delivered") or res.get("delivered_total")
        if "error" in res or res.get("failed_connects") and not delivered_any:
            lines.append(f"| {r['scenario']} | {r['label']} | FAILED: {res.get('error', 'no socket connected')} "
                         "| | | | |")
        elif r["scenario"].startswith("S1"):
            lines.append(f"| {r['scenario']} | {r['label']} | {fmt(res['delivered_pct'], 1)}%, {accounting(res)} | "
                         f"{fmt(res['p50_last_ms'], 1)} | {fmt(res['p99_last_ms'], 1)}{spread(res)}{warm(res)} | {fmt(res['p99_ms'], 1)} | "
                         f"{server_cpu:.1f}/{cpu['generator_s']:.1f} |")
        elif r["scenario"].startswith("S2"):
            stored = f", stored {res['stored']}" if "stored" in res else ""
            lines.append(f"| {r['scenario']} | {r['label']} | {fmt(res['msgs_per_s'])} msg/s{spread(res)}, {accounting(res)}"
                         f"{stored} | {fmt(res['p50_ms'], 1)} | {fmt(res['p99_ms'], 1)} | | "
                         f"{server_cpu:.1f}/{cpu['generator_s']:.1f} |")
        elif r["scenario"].startswith("S3"):
            lines.append(f"| {r['scenario']} | {r['label']} | {fmt(res['conns_per_s'])} conn/s, failed {res['failed']},"
                         f" {res['mb_per_1000']} MB/1000 sockets | | | | {server_cpu:.1f}/{cpu['generator_s']:.1f} |")
        else:
            lines.append(f"| {r['scenario']} | {r['label']} | {fmt(res['ops_per_s'])} likes/s, final count "
                         f"{res['final_likes_count']} ({'correct' if res['count_correct'] else 'WRONG'}) | | "
                         f"{fmt(res['p99_ms'], 1)} | | {server_cpu:.1f}/{cpu['generator_s']:.1f} |")
    return "\n".join(lines)


def median_round(scenario, results):
    """The round whose headline figure is the median (the lower one of an even count); with
    several rounds it carries every round's figure, so the spread is on record."""
    key = {"S1": "p99_last_ms", "S2": "msgs_per_s", "S3": "conns_per_s", "S4": "ops_per_s"}[scenario[:2]]
    if len(results) == 1 or any(key not in r for r in results):
        return results[0]
    ordered = sorted(results, key=lambda r: r[key])
    median = {**ordered[(len(ordered) - 1) // 2], "rounds": [r[key] for r in results]}
    if all("p99_last_warm_ms" in r for r in results):  # S1: its own median, every round's on record
        warms = sorted(r["p99_last_warm_ms"] for r in results)
        median.update(p99_last_warm_ms=warms[(len(warms) - 1) // 2], rounds_warm=[r["p99_last_warm_ms"] for r in results])
    return median


def compact(results, keep=1000):
    """Results for the JSON file: latency samples thinned to `keep` sorted values, in 0.01 ms."""
    out = []
    for r in results:
        res = dict(r["result"])
        if res.get("samples"):
            ordered = sorted(res["samples"])
            step = max(1, len(ordered) // keep)
            res["samples"] = [round(v, 2) for v in ordered[::step]]
        out.append({**r, "result": res})
    return out


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [r for r in results if r["scenario"].startswith("S1") and r["result"].get("samples")]
    keys = sorted({r["scenario"] for r in panels})
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(5 * max(1, len(keys)), 4), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=False):
        for r in panels:
            if r["scenario"] != key:
                continue
            samples = sorted(r["result"]["samples"])
            ys = [i / len(samples) for i in range(len(samples))]
            ax.plot(samples, ys, label=r["label"])
        ax.set_xscale("log")
        ax.set_xlabel("latency per delivery (ms)")
        ax.set_ylabel("fraction delivered")
        ax.set_title(key, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run: small sizes, Kirimin only")
    parser.add_argument("--out", default=None, help="output folder (default docs/, or bench/out/ with --quick)")
    parser.add_argument("--only", default="", help="comma-separated scenario prefixes, e.g. S1,S3")
    parser.add_argument("--granian", action="store_true",
                        help="also measure Kirimin under granian (pip install granian first; not a dependency)")
    parser.add_argument("--labels", default="",
                        help='comma-separated server labels as the report names them, e.g. "kirimin (uvicorn),socketio"')
    parser.add_argument("--baseline", default=None, metavar="DIR",
                        help="also measure another checkout of Kirimin (e.g. `git worktree add /tmp/base <ref>`) on "
                             "S1 1000 members and S2 under uvicorn, in the same run, to compare a change with what "
                             "it changes")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the plan this many times, interleaved, and report each row's median round")
    args = parser.parse_args()
    out = Path(args.out or (BENCH / "out" if args.quick else ROOT / "docs"))
    out.mkdir(parents=True, exist_ok=True)
    if not shutil.which("node"):
        sys.exit("node is needed for the load generator and the socket.io peer")
    if args.granian and importlib.util.find_spec("granian") is None:
        sys.exit("--granian measures granian, which Kirimin does not depend on: pip install granian first")
    reset_database()
    flush_redis()
    import django

    django.setup()

    if args.quick:
        plan = [
            ("S1 fan-out 20 members @20/s", "kirimin", lambda: s1_fanout("kirimin", 20, 20, 2)),
            ("S2 throughput 5 pairs", "kirimin", lambda: s2_throughput("kirimin", 5, 2)),
            ("S3 connect 50", "kirimin", lambda: s3_connect("kirimin", 50)),
            ("S4 likes 5 clients", "kirimin", lambda: s4_likes(5, 2)),
        ]
    else:
        plan = []
        baseline = Path(args.baseline).resolve() if args.baseline else None
        if baseline:
            rev = subprocess.run(["git", "-C", str(baseline), "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip() or baseline.name
            baseline_label = f"kirimin (uvicorn) at {rev}"
        kirimins = (("kirimin (daphne)", "daphne"), ("kirimin (uvicorn)", "uvicorn"))
        if args.granian:
            kirimins += (("kirimin (granian)", "granian"),)
        for members, rate in ((100, 20), (100, 100), (1000, 20), (1000, 100)):
            key = f"S1 fan-out {members} members @{rate}/s"
            for label, server in kirimins:
                plan.append((key, label, lambda m=members, r=rate, sv=server: s1_fanout("kirimin", m, r, 10, server=sv)))
            for target in ("socketio", "channels"):
                plan.append((key, target, lambda t=target, m=members, r=rate: s1_fanout(t, m, r, 10)))
            if members == 1000:
                plan.append((key, "kirimin (uvicorn) x2 processes",
                             lambda m=members, r=rate: s1_fanout("kirimin", m, r, 10, processes=2, server="uvicorn")))
            if members == 1000 and baseline:
                plan.append((key, baseline_label,
                             lambda m=members, r=rate: s1_fanout("kirimin", m, r, 10, server="uvicorn", root=baseline)))
            if (members, rate) == (1000, 20):  # what shipping uvicorn's default would cost browsers
                plan.append((key, "kirimin (uvicorn accepting deflate)",
                             lambda m=members, r=rate: s1_fanout("kirimin", m, r, 10, server="uvicorn-deflate")))
        for label, server in kirimins:
            plan.append(("S2 throughput 50 pairs, window 10", label,
                         lambda sv=server: s2_throughput("kirimin", 50, 10, server=sv)))
        plan.append(("S2 throughput 50 pairs, window 10", "kirimin (uvicorn) x2 processes",
                     lambda: s2_throughput("kirimin", 50, 10, server="uvicorn", processes=2)))
        if baseline:
            plan.append(("S2 throughput 50 pairs, window 10", baseline_label,
                         lambda: s2_throughput("kirimin", 50, 10, server="uvicorn", root=baseline)))
            plan.append(("S2 throughput 50 pairs, window 10", baseline_label + " x2 processes",
                         lambda: s2_throughput("kirimin", 50, 10, server="uvicorn", processes=2, root=baseline)))
        for target in ("socketio", "channels"):
            plan.append(("S2 throughput 50 pairs, window 10", target, lambda t=target: s2_throughput(t, 50, 10)))
        for label, server in kirimins:
            plan.append(("S3 connect 2000", label, lambda sv=server: s3_connect("kirimin", 2000, server=sv)))
        plan.append(("S3 connect 2000", "kirimin (uvicorn accepting deflate)",
                     lambda: s3_connect("kirimin", 2000, server="uvicorn-deflate")))
        for target in ("socketio", "channels"):
            plan.append(("S3 connect 2000", target, lambda t=target: s3_connect(t, 2000)))
        for label, server in kirimins:
            plan.append(("S4 likes, 50 clients", label, lambda sv=server: s4_likes(50, 10, server=sv)))

    only = [p.strip() for p in args.only.split(",") if p.strip()]
    labels = [p.strip() for p in args.labels.split(",") if p.strip()]
    plan = [row for row in plan if (not only or any(row[0].startswith(p) for p in only))
            and (not labels or row[1] in labels)]
    rounds = {}
    for n in range(args.rounds):
        for scenario, label, run in plan:
            log(f"== {scenario} / {label}" + (f" (round {n + 1} of {args.rounds})" if args.rounds > 1 else ""))
            result = run()
            log("   ", {k: v for k, v in result.items() if k != "samples"})
            rounds.setdefault((scenario, label), []).append(result)
    results = [{"scenario": scenario, "label": label, "result": median_round(scenario, rounds[scenario, label])}
               for scenario, label, _ in plan]

    machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
               "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    (out / "bench.json").write_text(json.dumps({"machine": machine, "results": compact(results)}, indent=1))
    md = table(results)
    (out / "bench.md").write_text(f"<!-- generated by `make bench` on {machine['date']} -->\n{md}\n")
    plot(results, out / "bench.png")
    print(md)


if __name__ == "__main__":
    main()
