"""The demo database: the bundled scenario's simulated posts, scored and stored with its outages."""

from __future__ import annotations

from pathlib import Path

from dipwatch.core.config import Settings, db_url_from
from dipwatch.core.errors import BadValueError
from dipwatch.core.records import Post
from dipwatch.jobs.demo_posts import generate_posts
from dipwatch.jobs.demo_scenario import load_scenario
from dipwatch.jobs.ingest import BATCH, save_batch
from dipwatch.store import Store


def open_demo(path: Path, rebuild: bool = False) -> tuple[Settings, Store, bool]:
    """The demo database at ``path`` (its files removed first with ``rebuild``), and whether it is
    still to be built.

    :raises BadValueError: when ``path`` holds data that is not the demo's.
    """
    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    settings = Settings(db_url=db_url_from(path))
    store = Store(settings.db_url)
    if store.get_meta("demo") is not None:
        return settings, store, False
    if store.count_posts():
        raise BadValueError(f"{path}: holds data that is not the demo's; choose another --db")
    return settings, store, True


def build_demo(store: Store) -> int:
    """Fill ``store`` with the bundled demo scenario (simulated posts); return the posts stored."""
    scenario = load_scenario()
    brands = {b.key: b for b in scenario.brands}
    for b in scenario.brands:
        store.ensure_brand(b.key, b.name, b.terms, origin="demo", competitors=b.competitors)
    salt = store.get_meta("author_salt")
    total = 0
    batch: list[tuple[Post, list[tuple[str, str]]]] = []
    for key, post in generate_posts(scenario):
        brand = brands[key]
        term = next((t for t in brand.terms if t.lower() in post.text.lower()), brand.name)
        batch.append((post, [(key, term)]))
        if len(batch) >= BATCH:
            total += save_batch(store, batch, salt).new
            batch = []
    total += save_batch(store, batch, salt).new
    store.add_outages([
        {"brand": o.brand, "start": o.start, "end": o.end, "label": o.label, "severity": o.severity,
         "origin": "demo"}
        for o in scenario.outages
    ])
    store.set_meta("as_of", scenario.as_of.isoformat())
    store.set_meta("demo", "simulated posts from the bundled demo scenario")
    return total
