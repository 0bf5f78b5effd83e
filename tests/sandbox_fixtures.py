"""Shared helpers of the sandbox tests: datasets, clients, OpenAPI validation."""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

with warnings.catch_warnings():
    # starlette nags about httpx2; the plain httpx it ships with is what the project uses.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from reporting.webex.sandbox import create_app, generate_dataset, load_dataset

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "webex_api" / "meetings-openapi-subset.json"
HOST = "http://testserver/v1"
DEMO_SERIES = "d75df7ee5c1faa9f52135cb13ccc38b7"


@lru_cache(maxsize=1)
def demo() -> dict[str, Any]:
    return load_dataset(ROOT / "samples" / "demo-dataset.json")


@lru_cache(maxsize=4)
def generated(meetings: int = 12, participants: int = 30, seed: int = 3) -> dict[str, Any]:
    return generate_dataset(meetings, participants, seed)


def client(
    dataset: dict[str, Any], faults: str | None = None, clock: Callable[[], float] | None = None
) -> TestClient:
    app = create_app(copy.deepcopy(dataset), faults, clock)
    return TestClient(app, base_url=HOST, raise_server_exceptions=True)


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@lru_cache(maxsize=1)
def openapi() -> OpenAPI:
    spec = json.loads(SPEC.read_text())
    spec["servers"] = [{"url": HOST}]
    return OpenAPI.from_dict(spec)


def validate(response: Any) -> None:
    """Check a 200 answer against the OpenAPI subset (request and response)."""
    url = response.request.url
    request = MockRequest(
        "http://testserver",
        "get",
        url.path,
        args=dict(url.params),
        headers=dict(response.request.headers),
    )
    mock = MockResponse(
        response.content,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=response.headers["content-type"],
    )
    openapi().validate_response(request, mock)


def error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "errors", "trackingId"}
    assert body["errors"] and "description" in body["errors"][0]
    assert body["trackingId"] == response.headers["trackingid"]
    return body
