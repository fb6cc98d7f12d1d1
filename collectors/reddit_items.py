"""The boundary of the Reddit sources: a submission's or comment's JSON object (the API's, an
archive's or a dump's) as a :class:`~dipwatch.core.records.Post`, from its own fields.

Shared by the live collector (collectors.reddit), the Arctic Shift backfill and the dump reader;
free of praw, so that the archive readers do not import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dipwatch.core.records import Post

SOURCE = "reddit"
PERMALINK_BASE = "https://www.reddit.com"
DELETED_TEXTS = {"[deleted]", "[removed]"}


def submission_to_post(data: Mapping[str, Any]) -> Post:
    """A submission (``t3``) as a Post; ``data`` is its JSON object (``vars()`` of a praw Submission).

    :raises TypeError: when ``title`` or ``selftext`` is not a string (nor null).
    """
    title = _text(data, "title")
    selftext = _text(data, "selftext")
    return Post(
        source=SOURCE,
        post_id=data["name"],  # the fullname t3_..., as every Reddit source (and /api/info) names it
        # created_utc, never "created": in t3_2gmzqe (2014) "created" is 8 hours off, in server time.
        created_at=datetime.fromtimestamp(float(data["created_utc"]), UTC),
        # Link posts have an empty selftext (t3_3hahrw, an imgur gif): their text is the title.
        text=f"{title}\n\n{selftext}" if selftext else title,
        kind="post",
        author=_author(data.get("author")),
        url=_permalink(data.get("permalink"), f"/comments/{data['id']}/"),
        engagement=_int(data.get("score")),
    )


def comment_to_post(data: Mapping[str, Any]) -> Post:
    """A comment (``t1``) as a Post; ``parent_id`` is the fullname of the comment or submission above.

    :raises TypeError: when ``body`` is not a string (nor null).
    """
    link = str(data.get("link_id", ""))
    return Post(
        source=SOURCE,
        post_id=data["name"],
        created_at=datetime.fromtimestamp(float(data["created_utc"]), UTC),
        text=_text(data, "body"),
        kind="comment",
        author=_author(data.get("author")),
        # Comments from 2014 (t1_cklfmye) carry no permalink; Reddit resolves /comments/<link>/_/<id>/.
        url=_permalink(data.get("permalink"), f"/comments/{link.removeprefix('t3_')}/_/{data['id']}/"),
        parent_id=data.get("parent_id"),
        engagement=_int(data.get("score")),
    )


def _text(data: Mapping[str, Any], key: str) -> str:
    """A text field, "" when absent or null; anything else would end up stored as a Python repr."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{data.get('name') or data.get('id')}: '{key}' is a JSON "
                        f"{type(value).__name__}, expected a string")
    return value


def _author(value: Any) -> str | None:
    # praw turns "[deleted]" into None and a name into a Redditor whose str() is the name.
    if value is None:
        return None
    name = str(value)
    return None if name in DELETED_TEXTS else name


def _permalink(path: Any, fallback: str) -> str:
    # Search results carry "?ref=search_posts" on their permalink (t3_3gpbiu): drop the query.
    path = str(path or fallback).split("?", 1)[0]
    return PERMALINK_BASE + path if path.startswith("/") else path


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
