"""The checks of the identity a wiki gives at sign-in (gadget_api.handshake.identify).

The stand-in provider (harness.oauth_provider) answers as Extension:OAuth does, so it never
sends a forged identity. Here a small server on loopback answers Special:OAuth/identify with
a JWT that breaks one check each time; like the extension it echoes the request's nonce
unless the case says otherwise. Accepting the numeric ``sub`` of older releases of the
extension must leave every other check as strict as mwoauth's.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import mwoauth
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from gadget_api import handshake
from gadget_api.config import WikiConfig

KEY, SECRET = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
ACCESS = mwoauth.AccessToken("a" * 32, "b" * 32)
#: Makes the answer from the claims the extension would send (and the request's nonce).
Answer = Callable[[dict[str, Any]], str]


class IdentifyStub:
    """Answers every POST with ``answer(claims)``; ``claims`` as Extension:OAuth makes them."""

    def __init__(self) -> None:
        self.answer: Answer = lambda claims: jwt.encode(claims, SECRET, algorithm="HS256")
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @Request.application  # type: ignore[misc]
    def _app(self, request: Request) -> Response:
        assert request.args.get("title") == "Special:OAuth/identify"
        nonce = re.search(r'oauth_nonce="(.*?)"', request.headers.get("Authorization", ""))
        now = int(time.time())
        claims = {
            "iss": self.origin,
            "aud": KEY,
            "exp": now + 100,
            "iat": now,
            "sub": "7",
            "username": "Alice",
            "blocked": False,
            "nonce": nonce.group(1) if nonce else "",
        }
        return Response(self.answer(claims), content_type="application/json")

    def wiki(self) -> WikiConfig:
        return WikiConfig(
            host="stub.test",
            api_url=f"{self.origin}/api.php",
            origin="https://stub.test",
            oauth_url=f"{self.origin}/index.php",
            consumer_key=KEY,
            consumer_secret=SECRET,
        )


@pytest.fixture(scope="module")
def stub() -> Iterator[IdentifyStub]:
    running = IdentifyStub()
    running.thread.start()
    yield running
    running.server.shutdown()


def signed(**changes: Any) -> Answer:
    """The extension's claims with ``changes`` (None removes a claim), signed as it signs."""

    def answer(claims: dict[str, Any]) -> str:
        claims.update(changes)
        return jwt.encode(
            {k: v for k, v in claims.items() if v is not None}, SECRET, algorithm="HS256"
        )

    return answer


@pytest.mark.parametrize(
    ("answer", "sub"),
    [(signed(), "7"), (signed(sub=7), "7")],
    ids=["string-sub", "numeric-sub-of-older-releases"],
)
def test_an_identity_is_accepted_with_either_sub(
    stub: IdentifyStub, answer: Answer, sub: str
) -> None:
    stub.answer = answer
    identity = handshake.identify(stub.wiki(), ACCESS, "test")
    assert identity["sub"] == sub and identity["username"] == "Alice"


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (
            lambda c: jwt.encode(c, "another secret, long enough for HS256", algorithm="HS256"),
            "Signature",
        ),
        (lambda c: jwt.encode(c, None, algorithm="none"), "alg value is not allowed"),
        (signed(aud="another consumer"), "Audience doesn't match"),
        (signed(exp=int(time.time()) - 3600), "expired"),
        (signed(iat=int(time.time()) + 3600), "not yet valid"),
        (signed(iss="https://elsewhere.test"), "issuer"),
        (signed(nonce="a nonce of another request"), "nonce"),
        (signed(nonce=None), "nonce"),
        (signed(exp=None), "exp"),
        (signed(sub=None), "sub"),
        (signed(sub=True), "not a user id"),
        (signed(sub=7.5), "not a user id"),
        (signed(sub=[7]), "not a user id"),
        (
            lambda c: '{"error":"mwoauthdatastore-access-token-not-found","message":"No grant."}',
            "mwoauthdatastore-access-token-not-found: No grant.",
        ),
    ],
    ids=[
        "signature",
        "alg-none",
        "audience",
        "expired",
        "issued-in-the-future",
        "issuer",
        "nonce",
        "no-nonce",
        "no-exp",
        "no-sub",
        "boolean-sub",
        "fractional-sub",
        "list-sub",
        "json-error",
    ],
)
def test_an_identity_breaking_any_other_check_is_refused(
    stub: IdentifyStub, answer: Answer, why: str
) -> None:
    stub.answer = answer
    with pytest.raises(mwoauth.OAuthException, match=re.escape(why)):
        handshake.identify(stub.wiki(), ACCESS, "test")
