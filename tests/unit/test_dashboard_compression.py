"""The dashboard compresses what it sends (issue 18, item 8): plotly.js and the other bundles
brotli-compressed once and kept, callback answers and pages as they go out."""

from __future__ import annotations

import brotli

PLOTLY = "/_dash-component-suites/plotly/package_data/plotly.min.js"


def test_bundles_are_brotli_compressed_once_and_pages_gzip(sqlite_store, db_url):
    from dashboard.app import create_app
    from dipwatch.core.config import Settings

    app = create_app(Settings(db_url=db_url), sqlite_store, env={})
    client = app.server.test_client()
    plain = client.get(PLOTLY, headers={"Accept-Encoding": "identity"})
    first = client.get(PLOTLY, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert first.headers["Content-Encoding"] == "br"
    assert brotli.decompress(first.data) == plain.data
    assert len(first.data) < len(plain.data) / 3  # 4.8 MB -> about 1.3 MB
    # Kept: the second answer is the same bytes, not compressed again.
    second = client.get(PLOTLY, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert second.data == first.data
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    # plotly.js is fetched while the page is idle, by the page's own asset.
    assert "plotly_early.js" in client.get("/").get_data(as_text=True)


def test_without_speedups_nothing_is_compressed(sqlite_store, db_url):
    from dashboard.app import create_app
    from dipwatch.core.config import Settings

    app = create_app(Settings(db_url=db_url), sqlite_store, env={}, speedups=False)
    client = app.server.test_client()
    assert "Content-Encoding" not in client.get(PLOTLY, headers={"Accept-Encoding": "br"}).headers
    assert "plotly_early.js" not in client.get("/").get_data(as_text=True)
