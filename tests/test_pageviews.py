"""The pageview source: Wikimedia's per-article REST API client against the local stand-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import requests

from bot.core.errors import ConfigError, WikiAccessError
from bot.wiki.pageviews import (
    DEFAULT_USER_AGENT,
    WIKIMEDIA_BASE_URL,
    NoPageviews,
    PageviewSource,
    WikimediaPageviews,
    article_path,
    is_no_data,
    is_wikimedia_host,
    source_for,
    user_agent_with_contact,
    views_since,
)
from harness.pageviews_server import PageviewsServer

WIKI = "en.wikipedia.org"
NOV = [date(2026, 11, day) for day in range(1, 31)]
UA = user_agent_with_contact("https://en.wikipedia.org/wiki/User:ExampleProgramsBot")


@pytest.fixture(scope="module")
def _server() -> Iterator[PageviewsServer]:
    with PageviewsServer() as server:
        yield server


@pytest.fixture
def server(_server: PageviewsServer) -> PageviewsServer:
    _server.reset()
    return _server


@pytest.fixture
def client(server: PageviewsServer) -> Iterator[WikimediaPageviews]:
    with WikimediaPageviews(server.url, user_agent=UA, backoff=0) as client:
        yield client


def get(server: PageviewsServer, path: str) -> requests.Response:
    return requests.get(server.url + path, headers={"User-Agent": UA}, timeout=5)


# -- the stand-in serves the documented format -----------------------------------------


def test_server_answers_in_the_documented_format(server: PageviewsServer) -> None:
    server.set_views(WIKI, "Marie Curie", {NOV[0]: 12, NOV[1]: 7, NOV[5]: 1})
    answer = get(
        server,
        "/metrics/pageviews/per-article/en.wikipedia.org/all-access/user/"
        "Marie_Curie/daily/20261101/2026110300",
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.content == (
        b'{"items":[{"project":"en.wikipedia","article":"Marie_Curie","granularity":"daily",'
        b'"timestamp":"2026110100","access":"all-access","agent":"user","views":12},'
        b'{"project":"en.wikipedia","article":"Marie_Curie","granularity":"daily",'
        b'"timestamp":"2026110200","access":"all-access","agent":"user","views":7}]}'
    )
    monthly = get(
        server,
        "/metrics/pageviews/per-article/en.wikipedia/all-access/user/"
        "Marie_Curie/monthly/20261101/20261130",
    ).json()
    assert [(i["timestamp"], i["views"]) for i in monthly["items"]] == [("2026110100", 20)]


def test_server_problems(server: PageviewsServer) -> None:
    base = "/metrics/pageviews/per-article/en.wikipedia/all-access/user/"
    missing = get(server, base + "Nobody_reads_this/daily/20261101/20261130")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    problem = missing.json()
    assert problem["type"] == "https://mediawiki.org/wiki/HyperSwitch/errors/not_found"
    assert problem["title"] == "Not found."
    assert problem["detail"].startswith("The date(s) you used are valid, but we either do not")
    assert is_no_data(missing.content)

    for start, end in [
        ("2026113", "20261130"),
        ("20261301", "20261302"),
        ("2026110124", "20261102"),
        ("20261130", "20261101"),
    ]:
        bad = get(server, f"{base}X/daily/{start}/{end}")
        assert bad.status_code == 400, (start, end)
        assert bad.json()["type"] == "https://mediawiki.org/wiki/HyperSwitch/errors/invalid_request"
    assert get(server, base + "X/weekly/20261101/20261102").status_code == 400

    route = get(server, base + "AC/DC/daily/20261101/20261102")  # a bare slash: no such route
    assert route.status_code == 404
    assert not is_no_data(route.content)
    assert server.request_count == 7


def test_no_data_forms() -> None:
    # RESTBase's form and the newer service's form (type about:blank) both mean "no data".
    newer = {
        "detail": "The date(s) you used are valid, but we either do not have data for those "
        "date(s), or the project you asked for is not loaded yet. Please check documentation "
        "for more information",
        "method": "get",
        "status": 404,
        "title": "Not Found",
        "type": "about:blank",
    }
    assert is_no_data(json.dumps(newer).encode())
    assert not is_no_data(b'{"detail": "invalid route", "type": "about:blank"}')
    assert not is_no_data(b"<html>Not Found</html>")
    assert not is_no_data(b"[]")


# -- the client ------------------------------------------------------------------------


def test_views_are_summed_over_the_days_both_included(
    server: PageviewsServer, client: WikimediaPageviews
) -> None:
    server.set_views(WIKI, "Marie Curie", {day: 10 for day in NOV})
    server.set_views(WIKI, "Lise Meitner", {NOV[9]: 3, NOV[19]: 4, NOV[20]: 100})
    server.set_views(WIKI, "Lise Meitner", {NOV[4]: 1000}, agent="spider")  # not users
    views = client.views(WIKI, ["Marie Curie", "Lise Meitner", "Unviewed"], NOV[9], NOV[19])
    assert views == {"Marie Curie": 110, "Lise Meitner": 7, "Unviewed": 0}
    assert list(views) == ["Marie Curie", "Lise Meitner", "Unviewed"]
    assert server.request_count == 3
    assert client.requests_made == 3
    assert {r.user_agent for r in server.requests} == {UA}


def test_the_url_format(server: PageviewsServer, client: WikimediaPageviews) -> None:
    titles = ["AC/DC", "Émilie du Châtelet", "Are You the One?", "100% Pure", "C++ (language)"]
    for title in titles:
        server.set_views(WIKI, title, {NOV[0]: 5})
    assert client.views(WIKI, titles, NOV[0], NOV[0]) == dict.fromkeys(titles, 5)
    paths = sorted(r.path for r in server.requests)
    prefix = "/api/rest_v1/metrics/pageviews/per-article/en.wikipedia.org/all-access/user/"
    assert paths == sorted(
        prefix + article + "/daily/20261101/20261101"
        for article in [
            "AC%2FDC",
            "%C3%89milie_du_Ch%C3%A2telet",
            "Are_You_the_One%3F",
            "100%25_Pure",
            "C%2B%2B_%28language%29",
        ]
    )
    assert article_path("commons.wikimedia.org", "File:A b.png", NOV[0], NOV[2]) == (
        "/metrics/pageviews/per-article/commons.wikimedia.org/all-access/user/"
        "File%3AA_b.png/daily/20261101/20261103"
    )


def test_a_project_is_found_with_or_without_org(
    server: PageviewsServer, client: WikimediaPageviews
) -> None:
    server.set_views("de.wikipedia", "Lise Meitner", {NOV[0]: 2})
    assert client.views("de.wikipedia.org", ["Lise Meitner"], NOV[0], NOV[1]) == {"Lise Meitner": 2}


def test_429_and_5xx_are_retried(server: PageviewsServer) -> None:
    slept: list[float] = []
    server.set_views(WIKI, "Marie Curie", {NOV[0]: 4})
    server.fail_next(429, retry_after="0")
    server.fail_next(503)
    with WikimediaPageviews(server.url, user_agent=UA, backoff=0.25, sleep=slept.append) as c:
        assert c.views(WIKI, ["Marie Curie"], NOV[0], NOV[1]) == {"Marie Curie": 4}
    assert server.request_count == 3
    assert slept == [0.0, 0.5]  # Retry-After, then the backoff's second step


def test_persistent_500_raises(server: PageviewsServer, client: WikimediaPageviews) -> None:
    server.fail_next(500, times=10)
    with pytest.raises(WikiAccessError, match=r"HTTP 500 for 'Marie Curie'.*after 3 attempts"):
        client.views(WIKI, ["Marie Curie"], NOV[0], NOV[1])
    assert server.request_count == 3


def test_other_errors_raise_at_once(server: PageviewsServer, client: WikimediaPageviews) -> None:
    server.fail_next(403)
    with pytest.raises(WikiAccessError, match="HTTP 403"):
        client.views(WIKI, ["Marie Curie"], NOV[0], NOV[1])
    assert server.request_count == 1


def test_a_wrong_base_url_is_an_error_not_zero(server: PageviewsServer) -> None:
    with (
        WikimediaPageviews(server.url + "/nothing", user_agent=UA, backoff=0) as wrong,
        pytest.raises(WikiAccessError, match=r"HTTP 404.*invalid route"),
    ):
        wrong.views(WIKI, ["Marie Curie"], NOV[0], NOV[1])


def test_an_unreachable_server_raises_after_retries() -> None:
    with PageviewsServer() as gone:
        url = gone.url
    with (
        WikimediaPageviews(url, user_agent=UA, backoff=0, timeout=2) as client,
        pytest.raises(WikiAccessError, match="no connection"),
    ):
        client.views(WIKI, ["Marie Curie"], NOV[0], NOV[1])
    assert client.requests_made == 3


def test_titles_go_through_a_small_pool(server: PageviewsServer) -> None:
    titles = [f"Article {n}" for n in range(12)]
    for n, title in enumerate(titles):
        server.set_views(WIKI, title, {NOV[0]: n})
    server.set_delay(0.05)
    with WikimediaPageviews(server.url, user_agent=UA, workers=4) as client:
        views = client.views(WIKI, [*titles, titles[0]], NOV[0], NOV[0])
    assert views == {title: n for n, title in enumerate(titles)}
    assert server.request_count == 12  # one per distinct title
    assert 2 <= server.max_in_flight <= 4


def test_nothing_is_asked_without_titles_or_days(
    server: PageviewsServer, client: WikimediaPageviews
) -> None:
    assert client.views(WIKI, [], NOV[0], NOV[1]) == {}
    assert client.views(WIKI, ["A"], NOV[1], NOV[0]) == {"A": 0}
    assert server.request_count == 0


def test_the_user_agent_must_be_descriptive() -> None:
    for agent in ["", "  ", "python-requests/2.32", "curl/8.0"]:
        with pytest.raises(ConfigError, match="descriptive User-Agent"):
            WikimediaPageviews(user_agent=agent)
    assert DEFAULT_USER_AGENT.startswith("programs-bot/")


# -- choosing a source -----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "en.wikipedia.org",
        "commons.wikimedia.org",
        "meta.wikimedia.org",
        "www.wikidata.org",
        "de.wiktionary.org",
        "fr.wikisource.org",
        "en.wikibooks.org",
        "en.wikinews.org",
        "en.wikiquote.org",
        "en.wikiversity.org",
        "en.wikivoyage.org",
        "www.mediawiki.org",
        "EN.Wikipedia.org",
    ],
)
def test_wikimedia_hosts_get_the_wikimedia_api(host: str) -> None:
    assert is_wikimedia_host(host)
    source = source_for(host)
    assert isinstance(source, WikimediaPageviews)
    assert source.available
    assert source.base_url == WIKIMEDIA_BASE_URL


@pytest.mark.parametrize(
    "host", ["wiki.example.org", "127.0.0.1:8080", "notwikipedia.org", "wikipedia.org.evil.com"]
)
def test_other_hosts_have_no_pageviews(host: str) -> None:
    assert not is_wikimedia_host(host)
    source = source_for(host)
    assert isinstance(source, NoPageviews)
    assert not source.available
    assert source.views(host, ["Anything"], NOV[0], NOV[1]) == {}
    assert views_since(source, host, {"Anything": NOV[0]}, NOV[1]) is None


def test_a_configured_base_url_serves_any_wiki(server: PageviewsServer) -> None:
    server.set_views("wiki.example.org", "Local page", {NOV[2]: 9})
    source = source_for("wiki.example.org", server.url, user_agent=UA)
    assert isinstance(source, WikimediaPageviews)
    assert source.views("wiki.example.org", ["Local page"], NOV[0], NOV[29]) == {"Local page": 9}


def test_views_since_each_articles_first_day(
    server: PageviewsServer, client: WikimediaPageviews
) -> None:
    server.set_views(WIKI, "Early", {NOV[0]: 1, NOV[10]: 2, NOV[20]: 4})
    server.set_views(WIKI, "Late", {NOV[0]: 100, NOV[10]: 2, NOV[20]: 4})
    source: PageviewSource = client
    until = NOV[0] + timedelta(days=25)
    assert views_since(source, WIKI, {"Early": NOV[0], "Late": NOV[10]}, until) == {
        "Early": 7,
        "Late": 6,
    }
