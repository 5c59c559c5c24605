"""ParticipantClient: a plain ``requests`` client acting as one account of a local wiki.

It deliberately does not use Pywikibot, so tests check the bot against an independent
implementation of the API calls a participant makes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import requests

from .errors import ApiError, LocalWikiError

if TYPE_CHECKING:
    from .wiki import LocalWiki

log = logging.getLogger(__name__)

USER_AGENT = "programs-bot-localwiki/0.1 (test harness)"
#: Errors after which logging in again and retrying once can help.
_RELOGIN_CODES = frozenset({"assertuserfailed", "assertnameduserfailed", "badtoken", "notloggedin"})

Params = Mapping[str, str | int | bool]


class ParticipantClient:
    """Logs in with ``action=clientlogin`` and edits, uploads, moves and deletes pages."""

    def __init__(self, wiki: LocalWiki, username: str, password: str) -> None:
        self.wiki = wiki
        self.username = username
        self._password = password
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        self._csrf: str | None = None
        self.login()

    def __repr__(self) -> str:
        return f"ParticipantClient({self.wiki.name!r}, {self.username!r})"

    def close(self) -> None:
        self.http.close()

    # -- raw API ---------------------------------------------------------------------------

    def _call(
        self, params: Params, *, post: bool, files: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        data: dict[str, str] = {"format": "json", "formatversion": "2", "errorformat": "plaintext"}
        for key, value in params.items():
            if isinstance(value, bool):
                if value:
                    data[key] = "1"
            else:
                data[key] = str(value)
        try:
            if post:
                resp = self.http.post(self.wiki.api_url, data=data, files=files, timeout=60)
            else:
                resp = self.http.get(self.wiki.api_url, params=data, timeout=60)
        except requests.RequestException as exc:
            raise LocalWikiError(f"{self.wiki.name}: request failed: {exc}") from exc
        if resp.status_code != 200:
            raise LocalWikiError(f"{self.wiki.name}: HTTP {resp.status_code}: {resp.text[:500]}")
        try:
            body: dict[str, Any] = resp.json()
        except ValueError as exc:
            raise LocalWikiError(f"{self.wiki.name}: not JSON: {resp.text[:500]}") from exc
        errors = body.get("errors")
        if errors:
            first = errors[0]
            raise ApiError(
                str(first.get("code", "unknown")),
                str(first.get("text", "")),
                action=str(params.get("action", "")),
            )
        return body

    def get(self, params: Params) -> dict[str, Any]:
        """GET api.php with ``params`` (JSON, formatversion 2); raise ApiError on errors."""
        return self._call(params, post=False)

    def post(self, params: Params, *, files: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST to api.php with ``params`` plus a CSRF token; re-login once if it expired."""
        for attempt in (1, 2):
            data = {**params, "token": self.csrf_token(), "assert": "user"}
            try:
                return self._call(data, post=True, files=files)
            except ApiError as exc:
                if attempt == 2 or exc.code not in _RELOGIN_CODES:
                    raise
                log.debug("%r: %s, logging in again", self, exc.code)
                self.login()
        raise AssertionError("unreachable")

    # -- session ---------------------------------------------------------------------------

    def login(self) -> None:
        """Log in (again) with action=clientlogin."""
        self.http.cookies.clear()
        self._csrf = None
        token = self.get({"action": "query", "meta": "tokens", "type": "login"})
        result = self._call(
            {
                "action": "clientlogin",
                "username": self.username,
                "password": self._password,
                "loginreturnurl": self.wiki.url + "/",
                "logintoken": token["query"]["tokens"]["logintoken"],
            },
            post=True,
        )["clientlogin"]
        if result.get("status") != "PASS":
            raise ApiError(
                str(result.get("messagecode", result.get("status", "loginfailed"))),
                str(result.get("message", "")),
                action="clientlogin",
            )

    def csrf_token(self) -> str:
        if self._csrf is None:
            body = self.get({"action": "query", "meta": "tokens", "type": "csrf"})
            self._csrf = str(body["query"]["tokens"]["csrftoken"])
        return self._csrf

    def userinfo(self, *props: str) -> dict[str, Any]:
        """``meta=userinfo`` for this session (e.g. ``userinfo("rights", "groups")``)."""
        params: dict[str, str] = {"action": "query", "meta": "userinfo"}
        if props:
            params["uiprop"] = "|".join(props)
        info: dict[str, Any] = self.get(params)["query"]["userinfo"]
        return info

    # -- writes ----------------------------------------------------------------------------

    def edit(self, title: str, text: str, summary: str = "", *, minor: bool = False) -> int:
        """Replace the page's text; return the new revision id (the current one if unchanged)."""
        result = self.post(
            {"action": "edit", "title": title, "text": text, "summary": summary, "minor": minor}
        )["edit"]
        return self._edit_revid(title, result)

    def append(self, title: str, text: str, summary: str = "") -> int:
        """Append ``text`` to the page (creating it if needed); return the new revision id."""
        result = self.post(
            {"action": "edit", "title": title, "appendtext": text, "summary": summary}
        )["edit"]
        return self._edit_revid(title, result)

    def edit_as_read(
        self,
        title: str,
        change: Callable[[str], str],
        summary: str = "",
        *,
        tries: int = 30,
    ) -> int:
        """Edit as a person in the wiki's editor does: read, change, save against that
        revision; on an edit conflict read again and make the change again."""
        for _ in range(tries):
            revision = self._page(title, "content|ids")
            if revision is None:
                raise LocalWikiError(f"{title!r} does not exist")
            params = {
                "action": "edit",
                "title": title,
                "text": change(str(revision["slots"]["main"]["content"])),
                "baserevid": revision["revid"],
                "summary": summary,
            }
            try:
                return self._edit_revid(title, self.post(params)["edit"])
            except ApiError as error:
                if error.code != "editconflict":
                    raise
        raise LocalWikiError(f"{self.username} could not save {title!r} in {tries} tries")

    def _edit_revid(self, title: str, result: Mapping[str, Any]) -> int:
        if result.get("result") != "Success":
            raise ApiError(str(result.get("result", "editfailed")), str(result), action="edit")
        if "newrevid" in result:
            return int(result["newrevid"])
        revid = self.latest_revid(title)  # a null edit ("nochange") makes no revision
        if revid is None:
            raise LocalWikiError(f"edit of {title!r} left no revision")
        return revid

    def upload(self, filename: str, data: bytes, text: str = "", comment: str = "") -> None:
        """Upload ``data`` as File:``filename``, ignoring warnings (overwrites, duplicates)."""
        result = self.post(
            {
                "action": "upload",
                "filename": filename,
                "text": text,
                "comment": comment,
                "ignorewarnings": True,
            },
            files={"file": (filename, data, "application/octet-stream")},
        )["upload"]
        if result.get("result") != "Success":
            raise ApiError(str(result.get("result", "uploadfailed")), str(result), action="upload")

    def move(
        self, from_title: str, to_title: str, noredirect: bool = False, reason: str = ""
    ) -> None:
        """Move a page (an empty revision by this user is added to it)."""
        self.post(
            {
                "action": "move",
                "from": from_title,
                "to": to_title,
                "noredirect": noredirect,
                "reason": reason,
            }
        )

    def delete(self, title: str, reason: str = "") -> None:
        """Delete a page (needs an admin, e.g. ``wiki.admin_client()``)."""
        self.post({"action": "delete", "title": title, "reason": reason})

    # -- reads -----------------------------------------------------------------------------

    def _page(self, title: str, prop: str) -> dict[str, Any] | None:
        params: dict[str, str] = {
            "action": "query",
            "titles": title,
            "prop": "revisions",
            "rvprop": prop,
        }
        if "content" in prop:
            params["rvslots"] = "main"
        page: dict[str, Any] = self.get(params)["query"]["pages"][0]
        if page.get("missing") or page.get("invalid") or not page.get("revisions"):
            return None
        revision: dict[str, Any] = page["revisions"][0]
        return revision

    def get_text(self, title: str) -> str | None:
        """The page's current wikitext, or None when it does not exist."""
        revision = self._page(title, "content")
        if revision is None:
            return None
        return str(revision["slots"]["main"]["content"])

    def history(self, title: str) -> list[dict[str, Any]]:
        """Every revision of the page, oldest first: revid, parentid, user, text."""
        params: dict[str, Any] = {
            "action": "query",
            "prop": "revisions",
            "titles": title,
            "rvprop": "ids|user|content",
            "rvslots": "main",
            "rvlimit": "max",
            "rvdir": "newer",
        }
        revisions: list[dict[str, Any]] = []
        while True:
            answer = self.get(params)
            for rev in answer["query"]["pages"][0].get("revisions", []):
                revisions.append(
                    {
                        "revid": rev["revid"],
                        "parentid": rev["parentid"],
                        "user": rev["user"],
                        "text": rev["slots"]["main"]["content"],
                    }
                )
            if "continue" not in answer:
                return revisions
            params = {**params, **answer["continue"]}

    def latest_revid(self, title: str) -> int | None:
        """The page's current revision id, or None when it does not exist."""
        revision = self._page(title, "ids")
        return None if revision is None else int(revision["revid"])
