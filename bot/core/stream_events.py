"""EventStreams' ``mediawiki/recentchange`` events as the records polling gives, and the
``Last-Event-ID`` that resumes the stream without a gap (see bot.wiki.stream)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bot.core.changes import EDIT, LOG, NEW, RecentChange
from bot.core.titles import normalize_title


def event_host(event: Mapping[str, Any]) -> str:
    """The host a program page names for the event's wiki. ``server_url`` keeps a port
    (``http://127.0.0.1:8080``) where ``server_name`` and ``meta.domain`` do not."""
    url = event.get("server_url")
    if isinstance(url, str) and url:
        return urlsplit(url if "//" in url else "//" + url).netloc.lower()
    meta = event.get("meta")
    name = event.get("server_name") or (meta.get("domain") if isinstance(meta, Mapping) else "")
    return str(name or "").lower()


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float | str) and str(value).strip() else 0


def change_from_event(event: Mapping[str, Any]) -> RecentChange | None:
    """The change a ``mediawiki/recentchange`` event describes, as polling would give it;
    None for what polling leaves out (``categorize``, ``external``) and for what is not a
    change. The stream names no page id (0) and no move target's namespace (0 here; the
    feed reads it from the title)."""
    kind = event.get("type")
    wiki = event_host(event)
    if kind not in (EDIT, NEW, LOG) or not wiki or "timestamp" not in event:
        return None
    revision = event.get("revision")
    revision = revision if isinstance(revision, Mapping) else {}
    length = event.get("length")
    length = length if isinstance(length, Mapping) else {}
    params = event.get("log_params")
    target = ""
    if kind == LOG and event.get("log_type") == "move" and isinstance(params, Mapping):
        target = str(params.get("target") or "")
    return RecentChange(
        wiki=wiki,
        rcid=_int(event.get("id")),
        kind=str(kind),
        namespace=_int(event.get("namespace")),
        title=str(event.get("title", "")),
        user=normalize_title(str(event.get("user", ""))),
        timestamp=datetime.fromtimestamp(int(event["timestamp"]), UTC),
        revid=_int(revision.get("new")),
        old_revid=_int(revision.get("old")),
        old_len=_int(length.get("old")),
        new_len=_int(length.get("new")),
        log_type=str(event.get("log_type") or "") if kind == LOG else "",
        log_action=str(event.get("log_action") or "") if kind == LOG else "",
        target_title=target,
        comment=str(event.get("comment", "")),
        bot=bool(event.get("bot", False)),
    )


def event_time(event: Mapping[str, Any]) -> datetime | None:
    """When the event happened: the change's time, or ``meta.dt`` (canary events)."""
    if isinstance(event.get("timestamp"), int):
        return datetime.fromtimestamp(event["timestamp"], UTC)
    meta = event.get("meta")
    moment = meta.get("dt") if isinstance(meta, Mapping) else None
    if not isinstance(moment, str):
        return None
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def resume_id(last_id: str, *, started_ms: int, opened_ms: int, replay: timedelta) -> str:
    """The ``Last-Event-ID`` that resumes after the event whose id is ``last_id``, reaching
    ``replay`` further back (see the module's docstring). ``started_ms`` is the time the
    connection that sent ``last_id`` was asked to start from, ``opened_ms`` when it opened
    (Unix milliseconds). Raises ValueError for an id that is not EventStreams'."""
    entries = json.loads(last_id)
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"not a list of stream positions: {last_id!r}")
    back = int(replay.total_seconds() * 1000)
    resumed = []
    for entry in entries:
        if not isinstance(entry, Mapping) or "topic" not in entry or "partition" not in entry:
            raise ValueError(f"not a stream position: {entry!r}")
        if "timestamp" in entry:
            moment = int(entry["timestamp"]) - 1  # the id holds the last message's time + 1
        elif int(entry.get("offset", -1)) < 0:
            moment = opened_ms  # "the end" as the connection opened
        else:
            moment = started_ms  # nothing read from it since it started there
        resumed.append(
            {
                "topic": entry["topic"],
                "partition": entry["partition"],
                "timestamp": max(0, moment - back),
            }
        )
    return json.dumps(resumed, separators=(",", ":"))
