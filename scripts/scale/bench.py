"""The fleet under load (scripts/bench-scale): brokered requests per second and latency through
nginx with one API replica and with two, on one PostgreSQL database with two local enclaves, from
release builds. Each measure is one `oha` run; a fixed-rate run gives the added latency against the
upstream alone. Prints a table.

Usage: python3 scripts/scale/bench.py BIN_DIR UPSTREAM_URL SECONDS RATE"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fleet import Fleet, call  # noqa: E402
from test_fleet import User, journey, sign_up  # noqa: E402


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes have used so far (/proc/PID/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    done = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True)
    return [int(p) for p in done.stdout.split()]


def oha(*args: str) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(
        ["oha", "--no-tui", "--output-format", "json", *args], capture_output=True, text=True, check=True, timeout=600
    )
    return json.loads(done.stdout)


def main() -> int:
    bin_dir, upstream, secs, rate = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    fleet = Fleet(
        bin_dir,
        enclaves=2,
        servers=2,
        server_env={
            "AILERON_RATE_LIMIT_PER_ACCOUNT": "100000000",
            "AILERON_RATE_LIMIT_PER_ADDR": "100000000",
            "AILERON_MAX_CONNECTIONS": "4096",
        },
    )
    rows: list[tuple[str, str]] = []
    try:
        fleet.start()
        user = User(fleet, 0)
        sign_up(fleet, user)
        # The credential allows the fast upstream, not the recorder.
        fleet.upstream.base = upstream
        journey(fleet, user)
        body = json.dumps({"method": "GET", "url": f"{upstream}/api/bench"})
        first = call("POST", f"{fleet.lb}/v1/credentials/api/requests", json.loads(body), token=user.token)
        assert first.status == 200, first.body
        brokered = [
            "-m", "POST", "-H", f"Authorization: Bearer {user.token}", "-H", "content-type: application/json",
            "-d", body, f"{fleet.lb}/v1/credentials/api/requests",
        ]
        direct = oha("-z", f"{secs}s", "-q", rate, "-c", "16", f"{upstream}/api/bench")
        for replicas in (1, 2):
            fleet.balance(fleet.server_urls[:replicas])
            paced = oha("-z", f"{secs}s", "-q", rate, "-c", "16", *brokered)
            groups = {
                "API servers": [fleet.processes[f"server{i + 1}"].pid for i in range(replicas)],
                "enclaves": [fleet.processes[f"enclave{i + 1}"].pid for i in range(fleet.n_enclaves)],
                "nginx": [int(p) for p in subprocess.run(["pgrep", "-x", "nginx"], capture_output=True, text=True).stdout.split()],
                "PostgreSQL": postgres_pids(),
            }
            before = {name: cpu_seconds(pids) for name, pids in groups.items()}
            flat = oha("-z", f"{secs}s", "-c", "64", *brokered)
            served = flat["summary"]["requestsPerSec"] * flat["summary"]["total"]
            # PostgreSQL starts a process per new connection: one born during the run counts whole.
            born = [p for p in postgres_pids() if p not in groups["PostgreSQL"]]
            for name, pids in groups.items():
                used = cpu_seconds(pids) - before[name]
                if name == "PostgreSQL":
                    used += cpu_seconds(born)
                rows.append((f"{replicas} replica(s): CPU per 1k brokered requests, {name}", f"{1000 * used / served * 1000:.0f} ms"))
            ms = lambda r, p: r["latencyPercentiles"][p] * 1000  # noqa: E731
            ok = lambda r: r["summary"]["successRate"] * 100  # noqa: E731
            rows += [
                (f"{replicas} replica(s): max brokered req/s (64 conns)", f"{flat['summary']['requestsPerSec']:.0f} req/s"),
                (f"{replicas} replica(s): p50 / p99 at max", f"{ms(flat, 'p50'):.2f} / {ms(flat, 'p99'):.2f} ms"),
                (f"{replicas} replica(s): success at max", f"{ok(flat):.1f} %"),
                (f"{replicas} replica(s): p50 / p99 at {rate} req/s", f"{ms(paced, 'p50'):.2f} / {ms(paced, 'p99'):.2f} ms"),
                (
                    f"{replicas} replica(s): added p50 / p99 at {rate} req/s",
                    f"{ms(paced, 'p50') - ms(direct, 'p50'):.2f} / {ms(paced, 'p99') - ms(direct, 'p99'):.2f} ms",
                ),
            ]
        events = int(fleet.psql("SELECT COUNT(*) FROM audit_events"))
        size = int(fleet.psql("SELECT pg_total_relation_size('audit_events')"))
        rows.append(("audit events written during the run", str(events)))
        rows.append(("audit bytes per event (table and indexes)", f"{size / events:.0f} B"))
    finally:
        fleet.stop()
    print(f"\n{'measure (' + secs + ' s per run)':<56} value")
    for name, value in rows:
        print(f"{name:<56} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
