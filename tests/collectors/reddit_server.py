"""A small Reddit API server for tests: speaks the endpoints praw calls, with scriptable faults.

Items are built from real recorded Reddit JSON (``tests/fixtures/reddit``, see its SOURCE.md): the
templates keep every field Reddit sends; only ids, texts, authors, times and scores change. State (posts
per subreddit, comments per thread, deleted ids, faults, the request log) is plain data on
``server.state``, for tests to set up and inspect. Run as a script to serve a generated data set:
``python tests/collectors/reddit_server.py --posts 500`` prints the port.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reddit"
TOKEN = "test-access-token-0001"  # what the server hands out; tests check it never leaks either
MAX_PAGE = 100  # Reddit's listings answer at most 100 items, whatever `limit` asks


def _fixture(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


SUBMISSION = _fixture("search_listing.json")["data"]["children"][0]["data"]
COMMENT = _fixture("submission_comments.json")[1]["data"]["children"][0]["data"]
TOO_MANY_REQUESTS_HTML = (FIXTURES / "too_many_requests.html").read_text(encoding="utf-8")
BAD_REQUEST_HTML = (FIXTURES / "bad_request.html").read_text(encoding="utf-8")
UNAUTHORIZED = json.dumps(_fixture("unauthorized.json"))


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


@dataclass
class Fault:
    """An answer to give instead of the real one, ``times`` times, to requests whose path starts with
    ``path``: ``status`` (e.g. 429 with ``retry_after``, 503, 401, 403), ``badjson`` or ``html``."""

    kind: str
    path: str = "/"
    times: int = 1
    status: int = 200
    retry_after: str | None = None
    body: str | None = None


@dataclass
class RateLimit:
    """Reddit's fixed window: ``limit`` requests per ``window`` seconds, ``elapsed`` of it already gone
    when the server starts. Answers carry x-ratelimit-remaining/-used/-reset (all three, as Reddit)."""

    limit: int = 1000
    window: int = 600
    elapsed: float = 0.0
    used: int = 0
    started: float = field(default_factory=time.monotonic)

    def count(self) -> tuple[dict[str, str], bool]:
        now = time.monotonic() - self.started + self.elapsed
        if now >= self.window:
            self.started, self.elapsed, self.used, now = time.monotonic(), 0.0, 0, 0.0
        self.used += 1
        remaining = self.limit - self.used
        headers = {"x-ratelimit-remaining": f"{max(remaining, 0)}.0", "x-ratelimit-used": str(self.used),
                   "x-ratelimit-reset": str(max(int(self.window - now), 1))}
        return headers, remaining < 0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    status: int = 0


@dataclass
class RedditState:
    """What the server knows and has seen. Mutate it between requests; it is guarded by ``lock``."""

    client_id: str = "test-client-id"
    client_secret: str = "test-client-secret"
    submissions: dict[str, list[dict]] = field(default_factory=dict)  # subreddit (lower) -> items
    comments: dict[str, list[dict]] = field(default_factory=dict)  # link fullname -> items
    deleted: dict[str, str] = field(default_factory=dict)  # fullname -> "[deleted]" / "[removed]"
    purged: set[str] = field(default_factory=set)  # fullnames /api/info no longer knows
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    ratelimit: RateLimit | None = None
    inline_comments: int = 5  # top-level comments per thread before a "more" stub
    page_delay: float = 0.0  # seconds each listing page takes (to kill a run between pages)
    clock: int = 1_700_000_000
    next_id: int = 36**5
    lock: threading.RLock = field(default_factory=threading.RLock)

    # building data ------------------------------------------------------------------------------
    def _id(self) -> str:
        self.next_id += 1
        return base36(self.next_id)

    def _time(self, created: float | None) -> float:
        if created is None:
            self.clock += 60
            return float(self.clock)
        self.clock = max(self.clock, int(created))
        return float(created)

    def add_submission(self, subreddit: str, title: str, selftext: str = "", *, created: float | None = None,
                       author: str | None = "alice", score: int = 1, comments: tuple[str, ...] = ()) -> str:
        """Add a self post (and top-level comments with the given bodies); return its fullname."""
        with self.lock:
            sid = self._id()
            data = copy.deepcopy(SUBMISSION)
            when = self._time(created)
            slug = re.sub(r"[^a-z0-9]+", "_", title.lower())[:50].strip("_") or "post"
            data.update(
                id=sid, name=f"t3_{sid}", subreddit=subreddit, title=title, selftext=selftext,
                selftext_html=None, author=author or "[deleted]", created_utc=when, created=when + 28800,
                score=score, ups=score, num_comments=0, is_self=True, domain=f"self.{subreddit}",
                permalink=f"/r/{subreddit}/comments/{sid}/{slug}/?ref=search_posts",
                url=f"https://www.reddit.com/r/{subreddit}/comments/{sid}/{slug}/",
            )
            self.submissions.setdefault(subreddit.lower(), []).append(data)
            for body in comments:
                self.add_comment(data["name"], body)
            return data["name"]

    def add_comment(self, link: str, body: str, *, parent: str | None = None, created: float | None = None,
                    author: str | None = "bob") -> str:
        """Add a comment to the thread ``link`` (a t3 fullname), under ``parent`` (default: top level)."""
        with self.lock:
            submission = self.find(link)
            cid = self._id()
            data = copy.deepcopy(COMMENT)
            when = self._time(created)
            data.update(
                id=cid, name=f"t1_{cid}", link_id=link, parent_id=parent or link, body=body,
                body_html=f'<div class="md"><p>{body}</p></div>', author=author or "[deleted]",
                created_utc=when, created=when + 28800, score=1, ups=1, replies="",
                subreddit=submission["subreddit"], subreddit_id=submission["subreddit_id"],
                permalink=f"/r/{submission['subreddit']}/comments/{link[3:]}/_/{cid}/",
            )
            self.comments.setdefault(link, []).append(data)
            submission["num_comments"] += 1
            return data["name"]

    def find(self, fullname: str) -> dict:
        with self.lock:
            for items in [*self.submissions.values(), *self.comments.values()]:
                for item in items:
                    if item["name"] == fullname:
                        return item
        raise KeyError(fullname)

    def fail(self, kind: str, path: str = "/", times: int = 1, **kwargs) -> None:
        """Script a fault (see :class:`Fault`)."""
        with self.lock:
            self.faults.append(Fault(kind, path, times, **kwargs))

    def paths(self, method: str | None = None) -> list[str]:
        """The paths requested so far (optionally of one method), in order."""
        with self.lock:
            return [r.path for r in self.requests if method is None or r.method == method]

    # answering ----------------------------------------------------------------------------------
    def rendered(self, item: dict) -> dict:
        """An item as /api/info shows it now: deleted items lose author and text."""
        data = copy.deepcopy(item)
        marker = self.deleted.get(item["name"])
        if marker:
            data["author"] = "[deleted]"
            data["body" if item["name"].startswith("t1_") else "selftext"] = marker
        return {"kind": item["name"][:2], "data": data}

    def pool(self, subreddits: str) -> list[dict]:
        names = subreddits.lower().split("+")
        if "all" in names:
            names = list(self.submissions)
        items = [i for n in names for i in self.submissions.get(n, [])]
        return sorted(items, key=lambda i: (i["created_utc"], i["name"]), reverse=True)

    def comment_pool(self, subreddits: str) -> list[dict]:
        names = set(subreddits.lower().split("+"))
        items = [c for cs in self.comments.values() for c in cs
                 if "all" in names or c["subreddit"].lower() in names]
        return sorted(items, key=lambda i: (i["created_utc"], i["name"]), reverse=True)


def search_matches(query: str, text: str) -> bool:
    """Reddit's search, loosely: any ORed term found anywhere in the text (so "Next" finds "nextdoor")."""
    terms = [t.strip() for t in query.split(" OR ")]
    text = text.lower()
    for term in terms:
        if term.startswith('"') and term.endswith('"'):
            plain = term[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        else:
            plain = re.sub(r"\\(.)", r"\1", term)
        if plain.lower() in text:
            return True
    return False


def listing(children: list[dict], after: str | None) -> dict:
    return {"kind": "Listing", "data": {"after": after, "before": None, "dist": len(children),
                                        "modhash": "", "geo_filter": "", "children": children}}


def page_of(items: list[dict], query: dict[str, str], state: RedditState) -> dict:
    """One page of a newest-first listing, after ``after``, at most ``limit`` (capped at 100) items."""
    limit = min(int(query.get("limit", 25)), MAX_PAGE)
    start = 0
    if query.get("after"):
        names = [i["name"] for i in items]
        start = names.index(query["after"]) + 1 if query["after"] in names else len(items)
    chunk = items[start:start + limit]
    more = start + limit < len(items)
    return listing([state.rendered(i) for i in chunk], chunk[-1]["name"] if more and chunk else None)


def thread(state: RedditState, link: str, sort: str) -> list:
    """[submission listing, comment listing]; top-level comments beyond ``inline_comments`` (and all
    their replies) behind one "more" stub, as Reddit does for long threads."""
    submission = state.find(link)
    comments = state.comments.get(link, [])
    order = sorted(comments, key=lambda c: (c["created_utc"], c["name"]), reverse=(sort != "old"))
    tops = [c for c in order if c["parent_id"] == link]
    shown, hidden = tops[:state.inline_comments], tops[state.inline_comments:]

    def tree(comment: dict) -> dict:
        data = copy.deepcopy(comment)
        replies = [tree(c) for c in order if c["parent_id"] == comment["name"]]
        data["replies"] = listing(replies, None) if replies else ""
        return {"kind": "t1", "data": data}

    children = [tree(c) for c in shown]
    if hidden:
        hidden_ids = {c["name"] for c in hidden}
        below = [c for c in order if c["parent_id"] in hidden_ids]
        ids = [c["id"] for c in hidden + below]
        children.append({"kind": "more", "data": {
            "count": len(ids), "name": f"t1_{ids[0]}", "id": ids[0], "parent_id": link, "depth": 0,
            "children": ids}})
    return [listing([state.rendered(submission)], None), listing(children, None)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per answer, sent at once: headers and body in separate small writes meet Nagle's
    # algorithm and the client's delayed ACK, 40 ms per request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: RedditServer

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def _answer(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        form = {k: v[-1] for k, v in parse_qs(raw).items()}
        record = Request(method, url.path, query, form)
        with state.lock:
            state.requests.append(record)
            fault = next((f for f in state.faults if url.path.startswith(f.path) and f.times > 0), None)
            if fault:
                fault.times -= 1
            headers: dict[str, str] = {}
            over = False
            if state.ratelimit is not None:
                headers, over = state.ratelimit.count()
        if fault:
            self._fault(record, fault, headers)
            return
        if over:
            self._send(record, 429, TOO_MANY_REQUESTS_HTML, "text/html; charset=UTF-8",
                       {**headers, "retry-after": headers["x-ratelimit-reset"]})
            return
        if url.path == "/api/v1/access_token":
            self._token(record, method, form)
            return
        if self.headers.get("authorization") != f"bearer {TOKEN}":
            self._send(record, 401, UNAUTHORIZED, extra={
                "www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})
            return
        try:
            body = self._route(method, url.path, query, form)
        except KeyError as exc:
            self._send(record, 404, json.dumps({"message": "Not Found", "error": 404, "what": str(exc)}))
            return
        if body is None:
            self._send(record, 404, json.dumps({"message": "Not Found", "error": 404}))
            return
        self._send(record, 200, json.dumps(body), extra=headers)

    def _route(self, method: str, path: str, query: dict[str, str], form: dict[str, str]):
        state = self.server.state
        parts = [p for p in path.split("/") if p]
        with state.lock:
            if method == "GET" and len(parts) == 3 and parts[0] == "r" and parts[2] == "search":
                self._delay()
                found = [i for i in state.pool(parts[1])
                         if search_matches(query.get("q", ""), f"{i['title']}\n{i['selftext']}")]
                return page_of(found, query, state)
            if method == "GET" and len(parts) == 3 and parts[0] == "r" and parts[2] == "comments":
                self._delay()
                return page_of(state.comment_pool(parts[1]), query, state)
            if method == "GET" and len(parts) == 2 and parts[0] == "comments":
                return thread(state, f"t3_{parts[1]}", query.get("sort", "confidence"))
            if method == "POST" and parts == ["api", "morechildren"]:
                link = form["link_id"]
                wanted = set(form["children"].split(","))
                things = [state.rendered(c) for c in state.comments.get(link, []) if c["id"] in wanted]
                for thing in things:
                    thing["data"]["replies"] = ""
                return {"json": {"errors": [], "data": {"things": things}}}
            if method == "GET" and parts == ["api", "info"]:
                found = []
                for name in query.get("id", "").split(","):
                    if name and name not in state.purged:
                        try:
                            found.append(state.rendered(state.find(name)))
                        except KeyError:
                            continue
                return listing(found, None)
        return None

    def _delay(self) -> None:
        if self.server.state.page_delay:
            time.sleep(self.server.state.page_delay)

    def _token(self, record: Request, method: str, form: dict[str, str]) -> None:
        state = self.server.state
        expected = base64.b64encode(f"{state.client_id}:{state.client_secret}".encode()).decode()
        if method != "POST" or self.headers.get("authorization") != f"Basic {expected}":
            self._send(record, 401, json.dumps({"message": "Unauthorized", "error": 401}))
            return
        if form.get("grant_type") != "client_credentials":
            self._send(record, 200, json.dumps({"error": "unsupported_grant_type"}))
            return
        body = {"access_token": TOKEN, "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        self._send(record, 200, json.dumps(body))

    def _fault(self, record: Request, fault: Fault, headers: dict[str, str]) -> None:
        if fault.kind == "badjson":  # a listing cut off mid-way, as a dropped proxy connection leaves it
            self._send(record, 200, fault.body or '{"kind": "Listing", "data": {"after": "t3_', extra=headers)
        elif fault.kind == "html":  # an HTML error page where JSON was expected
            self._send(record, fault.status, fault.body or BAD_REQUEST_HTML, "text/html", headers)
        elif fault.status == 429:
            extra = {"retry-after": fault.retry_after} if fault.retry_after is not None else {}
            self._send(record, 429, fault.body or TOO_MANY_REQUESTS_HTML, "text/html; charset=UTF-8", extra)
        elif fault.status == 401:
            self._send(record, 401, UNAUTHORIZED, extra={
                "www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})
        else:
            self._send(record, fault.status, fault.body or "", extra=headers)

    def _send(self, record: Request, status: int, body: str, ctype: str = "application/json; charset=UTF-8",
              extra: dict[str, str] | None = None) -> None:
        record.status = status
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            # prawcore's token request says "Connection: close"; without saying it back, urllib3 pools
            # the connection and its next request meets a closed socket now and then.
            self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(data)


class RedditServer(ThreadingHTTPServer):
    """The server on 127.0.0.1 and a free port; ``url`` is its base URL, ``state`` its data."""

    daemon_threads = True

    def __init__(self, state: RedditState | None = None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state or RedditState()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread: threading.Thread | None = None

    def start(self) -> RedditServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="reddit-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)


def populate(state: RedditState, subreddit: str, posts: int, comments_per_post: int = 0,
             term: str = "Acme") -> None:
    """Add ``posts`` submissions mentioning ``term`` (with ``comments_per_post`` comments each)."""
    for n in range(posts):
        state.add_submission(subreddit, f"{term} checkout is down again #{n}", "Cannot pay, error 503.",
                             comments=tuple(f"same here {n}.{k}" for k in range(comments_per_post)))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--comments", type=int, default=0)
    parser.add_argument("--subreddit", default="unitedkingdom")
    parser.add_argument("--page-delay", type=float, default=0.0)
    parser.add_argument("--ratelimit", action="store_true", help="send realistic x-ratelimit-* headers")
    args = parser.parse_args()
    state = RedditState(page_delay=args.page_delay, ratelimit=RateLimit() if args.ratelimit else None)
    populate(state, args.subreddit, args.posts, args.comments)
    server = RedditServer(state)
    print(server.url, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
