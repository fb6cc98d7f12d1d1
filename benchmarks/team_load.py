"""The team deployment under load: gunicorn + PostgreSQL, with and without basic auth and imports.

N simulated users (threads on 127.0.0.1, one HTTP session each, as a browser keeps its cookies and
its basic-auth credentials) load the page's layout and then fire the callbacks a page load fires
(POST ``/_dash-update-component`` with the payloads the browser sends, built from
``/_dash-dependencies``), for a random brand, outage and tab, one after the other with no pause,
for a bounded time. Four runs: auth off and on, each without and with ``dipwatch import`` writing
into the same database all along (files of 5,000 new posts, one after the other). Every request
counts, the first sign-in's password check included; an error is any answer but 200/204 or a
failed connection.

Printed per run: requests, throughput, p50 / p95 / max latency and errors; then auth-on p95 over the
auth-off p95 of the same import setting (the goal: at most 1.5 at 20 users, 0 errors).

Usage: python benchmarks/team_load.py --db postgresql+psycopg://USER@HOST:PORT/DB
       [--users 20] [--seconds 25] [--workers 2] [--threads 4] [--posts 50000]
The database gets the generated posts of ``dashboard_callbacks.py`` once (reused when present) and
the imports' posts (brand ``importco``) on every run. Needs gunicorn: pip install ".[bench]".
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dashboard_callbacks import BRANDS, generate, percentile  # same folder: the 5-brand generator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard import ids  # noqa: E402
from dipwatch.store import Store  # noqa: E402

USER, PASSWORD = "bench", "a long benchmark passphrase"
IMPORT_ROWS = 5000
TABS = ("overview", "timeline", "voices", "compare", "outages")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(db: str, workers: int, threads: int, users_hash: str | None, log: Path):
    """The dashboard under gunicorn on a free port of 127.0.0.1, as the README runs it."""
    port = free_port()
    env = {**os.environ, "DIPWATCH_DB": db, "DIPWATCH_CONFIG": ""}
    env.pop("DIPWATCH_DASHBOARD_USERS_FILE", None)
    env.pop("DIPWATCH_DASHBOARD_USERS", None)
    if users_hash:
        env["DIPWATCH_DASHBOARD_USERS"] = f"{USER}:{users_hash}"
    with log.open("w") as out, tempfile.TemporaryDirectory() as cwd:  # no dipwatch.toml of ours
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
             "--bind", f"127.0.0.1:{port}", "--timeout", "60", "dashboard.wsgi:server"],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(port, process, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


def wait_for(port: int, process: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            requests.get(f"http://127.0.0.1:{port}/_dash-layout", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.3)
    sys.exit(f"gunicorn did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def payloads(dependencies: list[dict], values: dict) -> list[dict]:
    """The ``/_dash-update-component`` bodies of the callbacks a page load fires."""
    bodies = []
    for dep in dependencies:
        if dep.get("clientside_function") or dep.get("prevent_initial_call"):
            continue
        output = dep["output"]
        parts = output.strip(".").split("...") if output.startswith("..") else [output]
        outputs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]

        def filled(items):
            return [{**item, "value": values.get((item["id"], item["property"]))} for item in items]

        inputs = filled(dep["inputs"])
        bodies.append({"output": output, "outputs": outputs if len(outputs) > 1 else outputs[0],
                       "inputs": inputs, "state": filled(dep.get("state", [])),
                       "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]})
    return bodies


class Tally:
    """Latencies and errors of all users, thread-safe."""

    def __init__(self):
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, seconds: float, error: str | None) -> None:
        with self._lock:
            self.latencies.append(seconds)
            if error:
                self.errors[error] = self.errors.get(error, 0) + 1


def simulate_user(base: str, auth: bool, outages: dict, until: float, tally: Tally, seed: int) -> None:
    """One browser: page loads of random views until ``until``, every request timed."""
    import requests

    rng = random.Random(seed)
    session = requests.Session()
    if auth:
        session.auth = (USER, PASSWORD)  # sent on every request, as browsers do once signed in

    def timed(method: str, path: str, **kwargs):
        began = time.perf_counter()
        try:
            answer = session.request(method, base + path, timeout=60, **kwargs)
            error = None if answer.status_code in (200, 204) else f"HTTP {answer.status_code}"
            body = answer.json() if answer.status_code == 200 and path == "/_dash-dependencies" else None
        except (requests.RequestException, ValueError) as exc:
            error, body = type(exc).__name__, None
        tally.add(time.perf_counter() - began, error)
        return body

    dependencies = None
    while dependencies is None and time.monotonic() < until:
        dependencies = timed("GET", "/_dash-dependencies")
    while time.monotonic() < until:
        brand = rng.choice(BRANDS)
        outage = rng.choice(outages[brand])
        tab = rng.choice(TABS)
        values = {(ids.URL, "search"): f"?brand={brand}&outage={outage}&tab={tab}",
                  (ids.BRAND, "value"): brand, (ids.OUTAGE, "value"): outage,
                  (ids.PERIOD, "value"): "outage", (ids.BUCKET, "value"): "1h", (ids.TABS, "value"): tab,
                  (ids.SOURCES, "value"): [], (ids.DATA_VERSION, "data"): 0, ("posts-search", "value"): ""}
        timed("GET", "/_dash-layout")
        for body in payloads(dependencies, values):
            if time.monotonic() >= until:
                break
            timed("POST", "/_dash-update-component", json=body)
    session.close()


def import_file(folder: Path, tag: str, n: int) -> Path:
    """A CSV file of ``IMPORT_ROWS`` new posts for brand importco."""
    rng = random.Random(f"{tag}-{n}")
    start = datetime(2026, 8, 1, tzinfo=UTC)
    words = ["importco", "site", "down", "again", "checkout", "broken", "love", "the", "app", "refund"]
    path = folder / f"import-{tag}-{n}.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("id,created_at,text,author\n")
        for i in range(IMPORT_ROWS):
            created = start + timedelta(seconds=rng.randrange(30 * 86400))
            out.write(f"{tag}-{n}-{i},{created.isoformat()},{' '.join(rng.choices(words, k=8))},"
                      f"a{rng.randrange(5000)}\n")
    return path


def keep_importing(db: str, folder: Path, tag: str, stop: threading.Event, done: list) -> None:
    """``dipwatch import`` of one new file after the other until ``stop``."""
    env = {**os.environ, "DIPWATCH_DB": db, "DIPWATCH_CONFIG": ""}
    command = [sys.executable, "-m", "dipwatch.cli", "import", "--brand", "importco"]
    n = 0
    while not stop.is_set():
        path = import_file(folder, tag, n)
        began = time.perf_counter()
        result = subprocess.run([*command, str(path)], env=env, capture_output=True, text=True, check=False)
        done.append((result.returncode, time.perf_counter() - began, result.stderr[-500:]))
        path.unlink()
        n += 1


def run(args, db: str, auth: bool, imports: bool, outages: dict, users_hash: str, folder: Path) -> dict:
    log = folder / f"gunicorn-auth{int(auth)}-imports{int(imports)}.log"
    with gunicorn(db, args.workers, args.threads, users_hash if auth else None, log) as base:
        stop, imported = threading.Event(), []
        writer = None
        if imports:
            tag = f"r{int(time.time())}{int(auth)}"
            writer = threading.Thread(target=keep_importing, args=(db, folder, tag, stop, imported))
            writer.start()
        tally = Tally()
        began = time.monotonic()
        until = began + args.seconds
        users = [threading.Thread(target=simulate_user, args=(base, auth, outages, until, tally, n))
                 for n in range(args.users)]
        for user in users:
            user.start()
        for user in users:
            user.join()
        elapsed = time.monotonic() - began
        stop.set()
        if writer is not None:
            writer.join()
    failed = [r for r in imported if r[0] != 0]
    if failed:
        print(f"  an import failed: exit {failed[0][0]}: {failed[0][2]}")
    return {"auth": auth, "imports": imports, "requests": len(tally.latencies), "seconds": elapsed,
            "p50": percentile(tally.latencies, 0.5), "p95": percentile(tally.latencies, 0.95),
            "max": max(tally.latencies), "errors": tally.errors,
            "imported": sum(IMPORT_ROWS for r in imported if r[0] == 0), "import_failures": len(failed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DIPWATCH_TEST_PG"),
                        help="PostgreSQL SQLAlchemy URL (default: $DIPWATCH_TEST_PG, from tests/pg.sh)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=25, help="per run; four runs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--posts", type=int, default=50_000, help="generated posts over 5 brands")
    args = parser.parse_args()
    if not args.db or not args.db.startswith("postgresql"):
        sys.exit("give a PostgreSQL URL with --db (or `. tests/pg.sh && start_postgres`)")
    from werkzeug.security import generate_password_hash

    with Store(args.db) as store:
        if store.count_posts() == 0:
            began = time.perf_counter()
            generate(store, args.posts)
            print(f"generated {args.posts:,} posts in {time.perf_counter() - began:.0f} s")
        outages = {b: [o.id for o in store.list_outages(b)] for b in BRANDS}
        print(f"database: {store.count_posts():,} posts; {os.cpu_count()} CPUs; load average "
              f"{os.getloadavg()[0]:.2f} before the runs")
    users_hash = generate_password_hash(PASSWORD)  # werkzeug's default scrypt, ~0.1 s per check
    print(f"{args.users} users, {args.seconds} s per run, gunicorn {args.workers} workers x "
          f"{args.threads} threads, password hash {users_hash.split('$')[0]}")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for imports in (False, True):
            for auth in (False, True):
                result = run(args, args.db, auth, imports, outages, users_hash, Path(folder))
                results.append(result)
                errors = sum(result["errors"].values())
                rate = result["requests"] / result["seconds"]
                print(f"auth {'on ' if auth else 'off'} imports {'on ' if imports else 'off'}: "
                      f"{result['requests']:6,} requests, {rate:6.1f} req/s, "
                      f"p50 {result['p50'] * 1000:6.0f} ms, p95 {result['p95'] * 1000:6.0f} ms, "
                      f"max {result['max'] * 1000:6.0f} ms, errors {errors} {result['errors'] or ''}"
                      + (f", imported {result['imported']:,} posts"
                         f" ({result['import_failures']} failed imports)" if imports else ""), flush=True)
    for imports in (False, True):
        by_auth = {r["auth"]: r for r in results if r["imports"] == imports}
        off, on = by_auth[False], by_auth[True]
        ratio = (on["requests"] / on["seconds"]) / (off["requests"] / off["seconds"])
        print(f"imports {'on ' if imports else 'off'}: auth-on p95 / auth-off p95 = "
              f"{on['p95'] / off['p95']:.2f} (goal <= 1.5); auth-on throughput x{ratio:.2f}")
    print(f"load average after the runs: {os.getloadavg()[0]:.2f} (the machine may be shared: compare "
          "runs of one invocation, not across invocations)")


if __name__ == "__main__":
    main()
