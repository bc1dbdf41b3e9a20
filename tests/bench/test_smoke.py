"""A tiny run of the benchmark (`make bench BENCH_ARGS=--quick`), so bench/ cannot rot.

It checks that every scenario runs end to end and that its correctness figures hold
(everything delivered, stored and counted); timing figures are the benchmark's
business (docs/performance.md), never asserted here.
"""

import json
import shutil
import subprocess

import pytest

from tests.conftest import needs_postgres, needs_redis
from tests.servers import REPO

pytestmark = [
    pytest.mark.bench,
    needs_redis,
    needs_postgres,
    pytest.mark.skipif(not shutil.which("node") or not shutil.which("npm"), reason="needs node and npm"),
]


def test_the_benchmark_runs_end_to_end(tmp_path):
    run = subprocess.run(["make", "bench", f"BENCH_ARGS=--quick --out {tmp_path}"], cwd=REPO,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    report = json.loads((tmp_path / "bench.json").read_text())
    results = {r["scenario"].split()[0]: r["result"] for r in report["results"]}
    assert set(results) == {"S1", "S2", "S3", "S4"}, results.keys()
    s1, s2, s3, s4 = (results[k] for k in ("S1", "S2", "S3", "S4"))
    assert s1["failed_connects"] == 0 and s1["delivered"] == s1["expected"] > 0
    assert s2["lost"] == 0 and s2["stored"] == s2["sent"] == s2["delivered_total"] > 0
    assert s3["failed"] == 0 and s3["sockets"] == 50
    assert s4["errors"] == 0 and s4["count_correct"] is True
    assert "| S1" in (tmp_path / "bench.md").read_text()
    assert (tmp_path / "bench.png").read_bytes().startswith(b"\x89PNG")
