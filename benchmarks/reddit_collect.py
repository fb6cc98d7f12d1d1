"""Requests and wall time to collect 5,000 Reddit posts from the local test server, praw vs raw JSON.

Two shapes of 5,000 posts: "search" (5,000 submissions, 50 search pages) and "threads" (100 submissions
with 49 comments each: one /comments request and one /api/morechildren per thread). Each runs with
realistic rate-limit headers (Reddit's 1,000 requests per 10-minute window, the window starting with our
first request, as for a run started on the window boundary by cron), then without headers, and the same
posts are fetched as raw JSON with `requests` (no pacing) as the baseline.

    python benchmarks/reddit_collect.py [--posts 5000] [--no-ratelimit]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "collectors"))

from reddit_server import TOKEN, RateLimit, RedditServer, RedditState, populate

from collectors.base import Budget
from collectors.reddit import make_reddit
from dipwatch.core.brands import Brand

WINDOW_REQUESTS = 1000  # Reddit: 100 queries per minute per OAuth client, averaged over 10 minutes
BRAND = Brand(key="acme", name="Acme", terms=("Acme",), sources={"reddit": {"subreddits": ["all"]}})


def build(shape: str, posts: int, ratelimit: bool) -> RedditServer:
    state = RedditState(ratelimit=RateLimit() if ratelimit else None, inline_comments=40)
    if shape == "search":
        populate(state, "unitedkingdom", posts)
    else:
        populate(state, "unitedkingdom", posts // 50, comments_per_post=49)
    return RedditServer(state).start()


def collect(server: RedditServer, checkpoints: dict[str, str] | None = None) -> tuple[int, float, dict]:
    env = {"REDDIT_CLIENT_ID": server.state.client_id, "REDDIT_CLIENT_SECRET": server.state.client_secret,
           "REDDIT_USER_AGENT": "python:dipwatch-benchmark:0.1"}
    collector = make_reddit({"oauth_url": server.url, "reddit_url": server.url}, env)
    stored = dict(checkpoints or {})
    count = 0
    started = time.perf_counter()
    for page in collector.pages(BRAND, dict(stored), None, Budget.seconds(3600)):
        count += len(page.posts)
        if page.checkpoint:
            stored[page.checkpoint[0]] = page.checkpoint[1]
    return count, time.perf_counter() - started, stored


def raw(server: RedditServer) -> tuple[int, float, int]:
    """The same posts as plain JSON: search pages by `after`, then each thread and its "more" stub."""
    http = requests.Session()
    http.headers["Authorization"] = f"bearer {TOKEN}"
    count = requests_made = 0
    started = time.perf_counter()
    after = None
    threads = []
    while True:
        params = {"q": "Acme", "sort": "new", "limit": 100, "raw_json": 1}
        if after:
            params["after"] = after
        page = http.get(f"{server.url}/r/all/search/", params=params, timeout=30).json()
        requests_made += 1
        children = page["data"]["children"]
        count += len(children)
        threads += [c["data"] for c in children if c["data"]["num_comments"]]
        after = page["data"]["after"]
        if not after:
            break
    for link in threads:
        url = f"{server.url}/comments/{link['id']}/"
        _, listing = http.get(url, params={"limit": 200}, timeout=30).json()
        requests_made += 1
        for child in listing["data"]["children"]:
            if child["kind"] == "more":
                more = http.post(f"{server.url}/api/morechildren/", timeout=30, data={
                    "children": ",".join(child["data"]["children"]), "link_id": link["name"]}).json()
                requests_made += 1
                count += len(more["json"]["data"]["things"])
            else:
                count += 1
    return count, time.perf_counter() - started, requests_made


def api_requests(server: RedditServer) -> int:
    return sum(1 for path in server.state.paths() if path != "/api/v1/access_token")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--no-ratelimit", action="store_true",
                        help="skip the (slow, paced) runs with headers")
    args = parser.parse_args()
    print(f"{'shape':8} {'headers':8} {'posts':>6} {'requests':>8} {'seconds':>8} {'posts/s':>8} "
          f"{'vs raw':>7}")
    quiet_requests = None
    for shape in ("search", "threads"):
        raw_server = build(shape, args.posts, ratelimit=False)
        raw_posts, raw_seconds, raw_requests = raw(raw_server)
        raw_server.stop()
        print(f"{shape:8} {'raw':8} {raw_posts:6} {raw_requests:8} {raw_seconds:8.2f} "
              f"{raw_posts / raw_seconds:8.0f} {1:7.2f}")
        for ratelimit in (False, True) if not args.no_ratelimit else (False,):
            server = build(shape, args.posts, ratelimit)
            posts, seconds, checkpoints = collect(server)
            label = "real" if ratelimit else "none"
            print(f"{shape:8} {label:8} {posts:6} {api_requests(server):8} {seconds:8.2f} "
                  f"{posts / seconds:8.0f} {seconds / raw_seconds:7.2f}")
            if shape == "threads" and not ratelimit:
                # A steady-state run 10 minutes later: a handful of new threads since the checkpoint.
                server.state.requests.clear()
                for n in range(5):
                    server.state.add_submission("unitedkingdom", f"Acme still down {n}", "",
                                                comments=tuple(f"same {k}" for k in range(8)))
                collect(server, checkpoints)
                quiet_requests = api_requests(server)
            server.stop()
    if quiet_requests:
        print(f"Reddit allows {WINDOW_REQUESTS} requests per 10 minutes per OAuth client. A steady-state run "
              f"for one brand with 5 new threads took {quiet_requests} requests (1 search + 1 per thread + "
              f"1 per 'more' stub expanded), so one client follows about {WINDOW_REQUESTS // quiet_requests} "
              f"such brands at a 10-minute interval; a quiet brand costs 1 request (2 with its own "
              f"subreddits' comment listing): up to ~{WINDOW_REQUESTS // 2}-{WINDOW_REQUESTS}. During an "
              "outage a brand with 100 new threads needs ~100-300 requests, so budget for the busy case.")


if __name__ == "__main__":
    main()
