"""Concurrency: the dashboard (a real server on a free port) answers in a loop while imports write.

Readers: an HTTP loop over the page, the layout, the dependencies and every Dash callback (through
``/_dash-update-component``, as the browser calls them), and a loop over the data functions the
callbacks use. Writers: three ``dipwatch import`` subprocesses of different files, started together.
Nothing may fail, no "database is locked" may reach anyone, and no write may be lost.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis.sentiment import scorer_id
from dipwatch.core.config import Settings
from dipwatch.measures import brand_view, known_brands
from dipwatch.store import Store

from .support import BASE_EPOCH, integrity, start_cli, write_posts_csv

SEED_ROWS = 300
WRITERS = {"alpha": ("acme", 2500), "beta": ("acme", 2500), "gamma": ("bolt", 2500)}  # prefix: brand, rows
SERVER_LOG = logging.StreamHandler(io.StringIO())
VALUES = {("brand-dropdown", "value"): "acme", ("bucket-radio", "value"): "1h",
          ("posts-search", "value"): "", ("download-csv-button", "n_clicks"): 1}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Store, Settings]]:
    """A store holding a small import and one outage, and the dashboard on it on a free port."""
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    from .support import invoke

    seed = write_posts_csv(tmp_path / "seed.csv", SEED_ROWS, seed=1, prefix="seed")
    db = tmp_path / "shared.db"
    result = invoke(["import", seed, "--brand", "acme", "--db", db], tmp_path)
    assert result.exit_code == 0, result.output
    settings = Settings(db_url=f"sqlite:///{db}")
    with Store(settings.db_url) as store:
        start = datetime.fromtimestamp(BASE_EPOCH, UTC) + timedelta(hours=1)
        store.add_outages([{"brand": "acme", "start": start, "end": start + timedelta(hours=1),
                            "label": "checkout down", "severity": "major"}])
        app = create_app(settings, store)
        app.server.logger.addHandler(SERVER_LOG)  # Flask logs a callback's exception here
        httpd = make_server("127.0.0.1", 0, app.server, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_port}", store, settings
        finally:
            httpd.shutdown()
            thread.join(timeout=10)
            app.server.logger.removeHandler(SERVER_LOG)


def _callback_payloads(base: str, outage_id: int) -> list[dict]:
    """One ``/_dash-update-component`` request body per server-side callback of the page."""
    with urllib.request.urlopen(f"{base}/_dash-dependencies", timeout=30) as response:  # noqa: S310
        dependencies = json.load(response)
    values = {**VALUES, ("outage-dropdown", "value"): outage_id}
    payloads = []
    for dep in dependencies:
        if dep.get("clientside_function"):
            continue
        output = dep["output"]
        parts = output.strip(".").split("...") if output.startswith("..") else [output]
        outputs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]

        def filled(items):
            # A button's callback runs when it was clicked: n_clicks 1 for every button.
            return [{**item, "value": values.get((item["id"], item["property"]),
                                                 1 if item["property"] == "n_clicks" else None)}
                    for item in items]

        inputs = filled(dep["inputs"])
        payloads.append({"output": output, "outputs": outputs if len(outputs) > 1 else outputs[0],
                         "inputs": inputs, "state": filled(dep.get("state", [])),
                         "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]})
    return payloads


def _request(base: str, path: str, body: dict | None = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=data,  # noqa: S310
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def test_dashboard_keeps_answering_while_three_imports_write(tmp_path, served):
    base, store, settings = served
    outage_id = store.list_outages("acme")[0].id
    payloads = _callback_payloads(base, outage_id)
    assert len(payloads) >= 3, payloads
    files = {prefix: write_posts_csv(tmp_path / f"{prefix}.csv", rows, seed=len(prefix), prefix=prefix)
             for prefix, (_brand, rows) in WRITERS.items()}
    stop = threading.Event()
    failures: list[str] = []
    served_count = {"http": 0, "data": 0}

    def http_loop():
        paths = [("/", None), ("/_dash-layout", None), ("/_dash-dependencies", None)]
        paths += [("/_dash-update-component", body) for body in payloads]
        while not stop.is_set():
            for path, body in paths:
                try:
                    status, text = _request(base, path, body)
                except Exception as exc:
                    failures.append(f"{path}: {exc!r}")
                    continue
                served_count["http"] += 1
                if status != 200 or "database is locked" in text:
                    failures.append(f"{path} ({body and body['output']}): HTTP {status}: {text[:300]}")

    def data_loop():
        while not stop.is_set():
            try:
                for key, brand in known_brands(settings, store).items():
                    brand_view(settings, store, brand)
                    list(store.load_posts(key, scorer_id()))
                served_count["data"] += 1
            except Exception:
                failures.append(traceback.format_exc())

    readers = [threading.Thread(target=http_loop), threading.Thread(target=http_loop),
               threading.Thread(target=data_loop)]
    for reader in readers:
        reader.start()
    time.sleep(0.5)
    procs = {prefix: start_cli(["import", files[prefix], "--brand", brand, "--db", tmp_path / "shared.db"],
                               tmp_path)
             for prefix, (brand, _rows) in WRITERS.items()}
    outputs = {prefix: proc.communicate(timeout=300) for prefix, proc in procs.items()}
    time.sleep(0.5)
    stop.set()
    for reader in readers:
        reader.join(timeout=120)
    for prefix, proc in procs.items():
        out, err = outputs[prefix]
        assert proc.returncode == 0, f"{prefix}: exit {proc.returncode}\n{err}"
        assert "database is locked" not in out + err
        assert f"new: {WRITERS[prefix][1]}" in out, out
    server_log = SERVER_LOG.stream.getvalue()
    assert not failures, f"{len(failures)} failures, first: {failures[0]}\nserver log:\n{server_log[-3000:]}"
    assert served_count["http"] > len(payloads), served_count
    assert served_count["data"] > 0, served_count
    assert integrity(tmp_path / "shared.db") == "ok"
    assert store.count_posts() == SEED_ROWS + sum(rows for _b, rows in WRITERS.values())
    assert store.count_posts("acme") == SEED_ROWS + WRITERS["alpha"][1] + WRITERS["beta"][1]
    assert store.count_posts("bolt") == WRITERS["gamma"][1]
    print(f"\nconcurrency: {served_count['http']} HTTP requests and {served_count['data']} data reads "
          f"served while {len(WRITERS)} imports wrote {store.count_posts() - SEED_ROWS} posts")
