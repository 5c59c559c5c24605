"""A stand-in for Wikimedia's EventStreams ``recentchange`` stream, fed by the local wikis.

The events. Each wiki gets an RCFeed (``$wgRCFeeds``) that formats its recent changes as
Wikimedia's EventBus extension does for the ``mediawiki.recentchange`` stream: MediaWiki's
own MachineReadableRCFeedFormatter packet (``id`` = rcid, ``type``, ``namespace``,
``title``, ``comment``, ``timestamp``, ``user``, ``bot``, ``minor``, ``patrolled``,
``length``/``revision`` {old, new}, ``log_id``/``log_type``/``log_action``/``log_params``/
``log_action_comment``, ``server_url``, ``server_name``, ``server_script_path``, ``wiki``),
then EventBus's additions (``$schema``, ``meta`` {uri, request_id, id, dt, domain, stream},
``parsedcomment``) with nulls removed, as EventBusRCFeedFormatter and
EventFactory::createRecentChangeEvent do; the wiki appends each event as a JSON line to a
file in its folder. The recentchange schema has no page id: neither has the stand-in.

The stream. The server reads those files into an in-memory Kafka: the stream's two topics,
``eqiad.mediawiki.recentchange`` (every change) and ``codfw.mediawiki.recentchange`` (only
canary events), one partition each, every message stamped with the Unix millisecond it was
read (its Kafka time; messages read together share it, as messages a producer sends together
do). It answers ``GET /v2/stream/recentchange`` as EventStreams (KafkaSSE) does:

- ``200``, ``text/event-stream; charset=utf-8``, chunked; the body starts with the comment
  ``:ok`` and then, per message, ``event: message``, ``id: <positions>``, ``data: <JSON>``
  and a blank line; no other heartbeat (KafkaSSE sends none);
- the data is the event with ``meta.topic``, ``meta.partition`` and ``meta.offset`` added;
- the id is the JSON list of each partition's position in the connection's assignment
  order, ``{"topic", "partition", "timestamp": <last message's time + 1>}`` for a partition
  a message was sent from, else its assignment ``{"topic", "partition", "offset"}``;
- ``Last-Event-ID`` (such a list, entries with ``offset`` or ``timestamp``) sets where each
  partition starts; a ``timestamp`` becomes the offset of the first message stamped at or
  after it, or -1 (the end) when there is none; entries with an offset come first after
  that, as Kafka answers them; else ``?since=`` (Unix ms, or a date) does so for every
  partition, else each starts at its end (-1). A bad header or ``since`` gets 400, a topic
  not in the stream 404, another stream 400, as EventStreams answers.

Canary events (the Event Platform's heartbeat: the schema's example with ``meta.domain``
``canary``) go into both topics every ``canary_every`` seconds when it is set.
``disconnect()`` drops every open connection, ``disconnect_after(n)`` drops the connection
that sends the next ``n``-th message, right after it; ``refuse()`` stops listening (clients
get "connection refused") and ``accept()`` listens again on the same port; ``held()``
gathers the events of a block into one batch with one Kafka time.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .settings import php_string
from .threaded import ThreadedServer
from .wiki import LocalWiki

STREAM = "recentchange"
PATH = f"/v2/stream/{STREAM}"
TOPICS = ("eqiad.mediawiki.recentchange", "codfw.mediawiki.recentchange")
FEED_FILE = "recentchange.jsonl"
FEED_PHP = "eventstreams-feed.php"
FEED_MARKER = "# ---- Added by harness: the EventStreams stand-in's feed ----"
EVENT_TYPE = "text/event-stream; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
#: How often the wikis' feed files are read (the Kafka consumer's idle delay is 100 ms).
FOLLOW_EVERY = 0.01

FEED_CLASSES = """<?php
// Written by harness: the EventStreams stand-in's feed. Each recent change is formatted as
// Wikimedia's EventBus extension formats it for the mediawiki.recentchange stream
// (EventBusRCFeedFormatter, EventFactory::createRecentChangeEvent) and appended to a file.

use MediaWiki\\MediaWikiServices;

class LocalWikiRecentChangeEventFormatter extends MachineReadableRCFeedFormatter {
\tprotected function formatArray( array $packet ) {
\t\treturn $packet;
\t}

\tpublic function getLine( array $feed, $rc, $actionComment ) {
\t\t$attrs = parent::getLine( $feed, $rc, $actionComment );
\t\t$services = MediaWikiServices::getInstance();
\t\t$config = $services->getMainConfig();
\t\t$title = $rc->getTitle();
\t\tif ( isset( $attrs['comment'] ) ) {
\t\t\t$attrs['parsedcomment'] = $services->getCommentFormatter()
\t\t\t\t->format( $attrs['comment'], $title );
\t\t}
\t\t$uri = $config->get( 'CanonicalServer' ) . str_replace(
\t\t\t'$1', wfUrlencode( $title->getPrefixedDBkey() ), $config->get( 'ArticlePath' ) );
\t\t$event = [
\t\t\t'$schema' => '/mediawiki/recentchange/1.0.0',
\t\t\t'meta' => [
\t\t\t\t'uri' => $uri,
\t\t\t\t'request_id' => WebRequest::getRequestId(),
\t\t\t\t'id' => $services->getGlobalIdGenerator()->newUUIDv4(),
\t\t\t\t'dt' => wfTimestamp( TS_ISO_8601, $attrs['timestamp'] ),
\t\t\t\t'domain' => $config->get( 'ServerName' ),
\t\t\t\t'stream' => 'mediawiki.recentchange',
\t\t\t],
\t\t] + $attrs;
\t\treturn FormatJson::encode( self::removeNulls( $event ), false, FormatJson::ALL_OK );
\t}

\tprivate static function removeNulls( $event ) {
\t\tif ( !is_array( $event ) ) {
\t\t\treturn $event;
\t\t}
\t\tforeach ( $event as $key => $value ) {
\t\t\tif ( $value === null ) {
\t\t\t\tunset( $event[$key] );
\t\t\t} elseif ( is_array( $value ) ) {
\t\t\t\t$event[$key] = self::removeNulls( $value );
\t\t\t}
\t\t}
\t\treturn $event;
\t}
}

class LocalWikiFileRCFeed extends FormattedRCFeed {
\tpublic function send( array $feed, $line ) {
\t\treturn file_put_contents( $feed['path'], $line . "\\n", FILE_APPEND | LOCK_EX ) !== false;
\t}
}
"""


def feed_path(wiki: LocalWiki) -> Path:
    """The file ``wiki`` appends its recentchange events to."""
    return wiki.root / FEED_FILE


def install_feed(wiki: LocalWiki) -> Path:
    """Give ``wiki`` the recentchange feed (once; harmless again) and return its file.

    A running wiki is restarted when its settings change: PHP's opcache keeps serving the
    LocalSettings.php each worker compiled for up to ``opcache.revalidate_freq`` seconds.
    """
    classes = wiki.root / FEED_PHP
    classes.write_text(FEED_CLASSES, encoding="utf-8")
    path = feed_path(wiki)
    path.touch()
    settings = wiki.settings_path.read_text(encoding="utf-8")
    if FEED_MARKER not in settings:
        where = php_string(str(classes))
        lines = [
            "",
            FEED_MARKER,
            f"$wgAutoloadClasses['LocalWikiRecentChangeEventFormatter'] = {where};",
            f"$wgAutoloadClasses['LocalWikiFileRCFeed'] = {where};",
            "$wgRCFeeds['eventstreams-stand-in'] = [",
            "\t'class' => 'LocalWikiFileRCFeed',",
            "\t'formatter' => 'LocalWikiRecentChangeEventFormatter',",
            f"\t'path' => {php_string(str(path))},",
            "];",
            "",
        ]
        with wiki.settings_path.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
        if wiki.running:
            wiki.stop()
            wiki.start()
    return path


def _dumps(value: Any) -> str:
    # As JSON.stringify writes it: no spaces, non-ASCII as it is.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Message:
    """One Kafka message: where it is, its time (Unix ms) and its event."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    value: Mapping[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    """One request: its path, Last-Event-ID header (None if absent) and answer's status."""

    path: str
    last_event_id: str | None
    status: int


class AssignmentError(ValueError):
    """A Last-Event-ID or ``since`` EventStreams would refuse, with its HTTP status."""

    def __init__(self, status: int, kind: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail


class _Kafka:
    """The stream's topics: messages in the order they were produced, offsets per partition."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.messages: list[Message] = []
        self.ends: dict[tuple[str, int], int] = {(topic, 0): 0 for topic in TOPICS}

    def produce(self, topic: str, values: Iterable[Mapping[str, Any]]) -> None:
        """Append ``values`` to ``topic`` (partition 0), all with the current time."""
        stamp = int(time.time() * 1000)
        with self.changed:
            for value in values:
                offset = self.ends[(topic, 0)]
                self.ends[(topic, 0)] = offset + 1
                self.messages.append(Message(topic, 0, offset, stamp, value))
            self.changed.notify_all()

    def offset_for_time(self, topic: str, partition: int, moment: int) -> int:
        """Kafka's offsetsForTimes: the first offset stamped at or after ``moment``, or -1."""
        with self.changed:
            for message in self.messages:
                if (message.topic, message.partition) == (
                    topic,
                    partition,
                ) and message.timestamp >= moment:
                    return message.offset
        return -1

    def end(self, topic: str, partition: int) -> int:
        with self.changed:
            return self.ends[(topic, partition)]


def _since(value: str) -> int:
    """``since`` as EventStreams reads it: Unix milliseconds, or a date (Date.parse)."""
    value = value.strip()
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AssignmentError(
            400,
            "invalid_timestamp",
            "Invalid timestamp",
            "since timestamp is not a UTC milliseconds unix epoch and was not parseable: "
            f"'{value}'",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def assignments_for(
    kafka: _Kafka, last_event_id: str | None, since: str | None
) -> list[dict[str, Any]]:
    """The partitions and offsets a connection starts from (KafkaSSE's _init)."""
    if last_event_id is not None:
        try:
            wanted = json.loads(last_event_id)
        except ValueError as error:
            raise AssignmentError(
                400, "InvalidAssignmentError", "Bad Last-Event-ID", str(error)
            ) from None
        valid = (
            isinstance(wanted, list)
            and wanted
            and all(
                isinstance(entry, dict)
                and isinstance(entry.get("topic"), str)
                and isinstance(entry.get("partition"), int)
                and (
                    isinstance(entry.get("offset"), int) or isinstance(entry.get("timestamp"), int)
                )
                for entry in wanted
            )
        )
        if not valid:
            raise AssignmentError(
                400,
                "InvalidAssignmentError",
                "Bad Last-Event-ID",
                "Must provide either an array topic names, or  an array of objects with "
                "topic, partition and offset|timestamp.",
            )
        unavailable = sorted({e["topic"] for e in wanted} - set(TOPICS))
        if unavailable:
            raise AssignmentError(
                404,
                "TopicNotAvailableError",
                "Topic not available",
                f"Topics {', '.join(unavailable)} are not available for consumption.",
            )
        with_offsets = [
            {"topic": e["topic"], "partition": e["partition"], "offset": e["offset"]}
            for e in wanted
            if "timestamp" not in e
        ]
        from_times = [
            {
                "topic": e["topic"],
                "partition": e["partition"],
                "offset": kafka.offset_for_time(e["topic"], e["partition"], e["timestamp"]),
            }
            for e in wanted
            if "timestamp" in e
        ]
        return with_offsets + from_times
    moment = _since(since) if since is not None else None
    return [
        {
            "topic": topic,
            "partition": 0,
            "offset": kafka.offset_for_time(topic, 0, moment) if moment is not None else -1,
        }
        for topic in TOPICS
    ]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests' output stays readable

    def _error(self, status: int, body: Mapping[str, Any]) -> None:
        data = _dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        stand_in = self.server.stand_in
        parts = urlsplit(self.path)
        last_id = self.headers.get("Last-Event-ID")
        problem: dict[str, Any] | None = None
        assignments: list[dict[str, Any]] = []
        if not parts.path.startswith("/v2/stream/"):
            problem = {"status": 404, "type": "not_found", "title": "Not found"}
        elif invalid := [
            s for s in parts.path.removeprefix("/v2/stream/").split(",") if s != STREAM
        ]:
            problem = {
                "status": 400,
                "type": "not_found",
                "title": "Stream Not Found",
                "detail": f"Invalid streams: {','.join(invalid)}",
            }
        else:
            since = parse_qs(parts.query).get("since", [None])[-1]
            try:
                assignments = assignments_for(stand_in.kafka, last_id, since)
            except AssignmentError as error:
                problem = {
                    "status": error.status,
                    "type": error.kind,
                    "title": error.title,
                    "detail": error.detail,
                }
        status = int(problem["status"]) if problem else 200
        stand_in.record(RecordedRequest(self.path, last_id, status))
        if problem:
            self._error(status, problem)
        else:
            self._stream(assignments)

    def _chunk(self, text: str) -> None:
        data = text.encode("utf-8")
        self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, assignments: list[dict[str, Any]]) -> None:
        stand_in = self.server.stand_in
        kafka = stand_in.kafka
        # The id lists every assigned partition, in assignment order.
        latest: dict[tuple[str, int], dict[str, Any]] = {
            (a["topic"], a["partition"]): dict(a) for a in assignments
        }
        start = {
            key: a["offset"] if a["offset"] >= 0 else kafka.end(*key) for key, a in latest.items()
        }
        self.send_response(200)
        self.send_header("Content-Type", EVENT_TYPE)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "keep-alive")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        connection = stand_in.opened(self.connection)
        try:
            self._chunk(":ok\n\n")
            index = 0
            while not connection.dropped.is_set():
                with kafka.changed:
                    if index >= len(kafka.messages):
                        kafka.changed.wait(0.1)
                    pending = kafka.messages[index:]
                index += len(pending)
                for message in pending:
                    key = (message.topic, message.partition)
                    if key not in start or message.offset < start[key]:
                        continue
                    latest[key] = {
                        "topic": message.topic,
                        "partition": message.partition,
                        "timestamp": message.timestamp + 1,
                    }
                    value = dict(message.value)
                    meta = dict(value.get("meta") or {})
                    meta.update(
                        topic=message.topic, partition=message.partition, offset=message.offset
                    )
                    value["meta"] = meta
                    self._chunk(
                        f"event: message\nid: {_dumps(list(latest.values()))}\n"
                        f"data: {_dumps(value)}\n\n"
                    )
                    stand_in.sent(connection)
                    if connection.dropped.is_set():
                        break
        except OSError:
            pass  # the client went away, or the connection was dropped
        finally:
            stand_in.closed(connection)
            self.close_connection = True


class _Connection:
    """One open stream: dropping it closes its socket at once, mid-stream."""

    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock
        self.dropped = threading.Event()

    def drop(self) -> None:
        self.dropped.set()
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], stand_in: EventStreamsServer) -> None:
        self.stand_in = stand_in
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A dropped connection fails its last writes: that is the point of dropping it.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class EventStreamsServer(ThreadedServer):
    """The stand-in, serving the changes of ``wikis`` (see the module's docstring)."""

    _thread_name = "eventstreams stand-in"

    def __init__(
        self,
        wikis: Sequence[LocalWiki],
        *,
        canary_every: float | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__()
        self.wikis = tuple(wikis)
        self.canary_every = canary_every
        self.host = host
        self.kafka = _Kafka()
        self._port = 0
        self._lock = threading.Lock()
        self._connections: list[_Connection] = []
        self._requests: list[RecordedRequest] = []
        self._drop_after: int | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._held = threading.Event()

    @property
    def url(self) -> str:
        """The stream's URL (the port stays the same while the stand-in refuses)."""
        return f"http://{self.host}:{self._port or self.port}{PATH}"

    def _bind(self) -> _Server:
        server = _Server((self.host, self._port), self)
        self._port = int(server.server_address[1])
        return server

    # -- the whole stand-in ----------------------------------------------------------------

    def start(self) -> EventStreamsServer:
        """Install the wikis' feeds, follow them (from their current end) and serve."""
        if not self._threads:
            self._stopping.clear()
            files = {install_feed(wiki): feed_path(wiki).stat().st_size for wiki in self.wikis}
            self._threads = [threading.Thread(target=self._follow, args=(files,), daemon=True)]
            if self.canary_every:
                self._threads.append(threading.Thread(target=self._canaries, daemon=True))
            for thread in self._threads:
                thread.start()
        super().start()
        return self

    def stop(self) -> None:
        self.refuse()
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def _follow(self, files: dict[Path, int]) -> None:
        """Produce every line the wikis append to their feed files, as it comes."""
        partial = dict.fromkeys(files, b"")
        while not self._stopping.wait(FOLLOW_EVERY):
            if self._held.is_set():
                continue
            for path, offset in files.items():
                with path.open("rb") as fh:
                    fh.seek(offset)
                    data = fh.read()
                if not data:
                    continue
                files[path] = offset + len(data)
                lines = (partial[path] + data).split(b"\n")
                partial[path] = lines.pop()
                events = [json.loads(line) for line in lines if line.strip()]
                if events:
                    self.kafka.produce(TOPICS[0], events)

    def _canaries(self) -> None:
        assert self.canary_every is not None
        while not self._stopping.wait(self.canary_every):
            for topic in TOPICS:
                self.kafka.produce(topic, [canary_event()])

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Produce nothing while the block runs, then all its events at once: one Kafka
        time for all of them, as for the messages a producer sends in one batch."""
        self._held.set()
        try:
            yield
        finally:
            self._held.clear()

    # -- connections -----------------------------------------------------------------------

    def refuse(self) -> None:
        """Stop listening and drop every open connection (the stream is down)."""
        super().stop()
        self.disconnect()

    def accept(self) -> None:
        """Listen again, on the same port."""
        super().start()

    def disconnect(self) -> None:
        """Drop every open connection now."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.drop()

    def disconnect_after(self, count: int) -> None:
        """Drop the connection that sends the ``count``-th message from now, after it."""
        with self._lock:
            self._drop_after = count

    def opened(self, sock: socket.socket) -> _Connection:
        connection = _Connection(sock)
        with self._lock:
            self._connections.append(connection)
        return connection

    def closed(self, connection: _Connection) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)

    def sent(self, connection: _Connection) -> None:
        with self._lock:
            if self._drop_after is None:
                return
            self._drop_after -= 1
            if self._drop_after > 0:
                return
            self._drop_after = None
        connection.drop()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)


def canary_event() -> dict[str, Any]:
    """A canary event: the recentchange schema's example, ``meta.domain`` ``canary``."""
    return {
        "$schema": "/mediawiki/recentchange/1.0.1",
        "meta": {
            "dt": _iso_now(),
            "stream": "mediawiki.recentchange",
            "domain": "canary",
            "id": str(uuid.uuid4()),
        },
    }
