"""The served OpenAPI document: valid, and property-based calls against it find no 5xx.

Schemathesis generates requests (valid and invalid) from the document and sends them to the
app in-process (WSGI); the app reads the real content wiki and writes a real SQLite store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api_support import (
    OPERATIONS,
    PROGRAM,
    Clock,
    add_token,
    api_config,
    bearer,
    program_text,
    wiki_entry,
)
from gadget_api import create_app
from gadget_api.context import EXTENSION
from harness import Farm

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def app(wikis: Farm, tmp_path: Path) -> Flask:
    # Only wikis that answer: a wiki that is down is a 503, not bad input.
    config = api_config(tmp_path, [wiki_entry(wikis.content), wiki_entry(wikis.media)])
    app = create_app(config, clock=Clock())
    wikis.content.admin_client().edit(PROGRAM, program_text(rows=("Alice", "Bob")))
    return app


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


@pytest.fixture
def auth_headers(app: Flask, wikis: Farm) -> dict[str, str]:
    store = app.extensions[EXTENSION].store
    return bearer(add_token(store, "Carol", wikis.content.host))


@pytest.fixture
def api_schema(app: Flask, document: dict[str, Any]) -> Any:
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    return schema


@pytest.mark.wiki
def test_the_document_is_valid_openapi(document: dict[str, Any], wikis: Farm) -> None:
    validate(document)
    assert document["paths"]["/programs/{wiki}/{title}/join"]["post"]["parameters"][0]["schema"][
        "enum"
    ] == [wikis.content.host, wikis.media.host]


# The operations (api_support.OPERATIONS) are driven through hypothesis directly: the
# schemathesis pytest plugin's lazy loader does not work with this pytest.


def test_every_operation_is_exercised(document: dict[str, Any]) -> None:
    served = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert served == set(OPERATIONS)


#: Operations with parameters or a body, which negative generation can get wrong.
PROGRAM_OPERATIONS = [operation for operation in OPERATIONS if "{" in operation[0]]
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE


@pytest.mark.wiki
@pytest.mark.parametrize(
    ("path", "method", "mode", "on_the_program"),
    [(*op, POSITIVE, False) for op in OPERATIONS]
    + [(*op, NEGATIVE, False) for op in PROGRAM_OPERATIONS]
    # Random titles are rarely programs: also aim everything else at the real one.
    + [(*op, POSITIVE, True) for op in PROGRAM_OPERATIONS],
)
def test_no_server_errors(
    api_schema: Any,
    auth_headers: dict[str, str],
    wikis: Farm,
    path: str,
    method: str,
    mode: GenerationMode,
    on_the_program: bool,
) -> None:
    fixed = {"wiki": wikis.content.host, "title": PROGRAM} if on_the_program else None
    strategy = api_schema[path][method].as_strategy(generation_mode=mode, path_parameters=fixed)

    @given(case=strategy)
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case: Any) -> None:
        case.call_and_validate(headers=auth_headers, checks=CHECKS)

    call()
