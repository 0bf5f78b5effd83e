"""A faithful, fault-injecting simulator of the Webex meetings API.

Public API::

    create_app(dataset, faults=None, clock=None) -> SandboxApp   # ASGI; httpx.ASGITransport
    SandboxServer(dataset, *, faults=None, tokens=None, integrations=(), clock=None,
                  token_lifetime=..., refresh_token_lifetime=...)  # context manager, .base_url
    serve(dataset_path, host="127.0.0.1", port=8765, faults=None, tokens=[...],
          integrations=[...], token_lifetime=...)
    parse_integration_arg("ID:SECRET:REFRESH:ROLE") / parse_lifetime("14d")
    generate_dataset(meetings, participants, seed) -> dict
    load_dataset(path) / save_dataset(data, path) / default_dataset_path()
    parse_faults(spec) -> FaultSpec

The dataset format is documented in `reporting.webex.sandbox.dataset`, the fault SPEC in
`reporting.webex.sandbox.faults`, the reading of the API's vague rules (and of the OAuth
token endpoint, ``POST /v1/access_token``) in `reporting.webex.sandbox.app`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from reporting.webex.sandbox.app import SandboxApp, create_app
from reporting.webex.sandbox.dataset import DatasetError, load_dataset, save_dataset
from reporting.webex.sandbox.faults import FaultSpec, FaultSpecError, parse_faults
from reporting.webex.sandbox.generate import generate_dataset
from reporting.webex.sandbox.server import (
    SandboxServer,
    parse_integration_arg,
    parse_lifetime,
    serve,
)

FAULTS_HELP = (
    "Fault SPEC, comma-separated key=value: seed=N, latency=50ms, slow=2%:3s, "
    "429|423|500|502|503|504=P%, drop=P% (close without answering), rate=300/min "
    "(per-token sliding window; rate=off), retry_after=S, malformed_retry_after=P% "
    "(Retry-After 'rand(30),add(30)'), streak=N (max consecutive faults per request). "
    "E.g. seed=7,latency=50ms,429=5%,503=5%,drop=2%,rate=300/min,retry_after=2"
)


def default_dataset_path() -> Path:
    """samples/demo-dataset.json in a source tree; else the demo rebuilt into a temp file."""
    source = Path(__file__).resolve().parents[3] / "samples" / "demo-dataset.json"
    if source.is_file():
        return source
    from reporting.webex.sandbox.demo import build_demo

    target = Path(tempfile.gettempdir()) / "attendance-demo-dataset.json"
    if not target.is_file():
        save_dataset(build_demo()[0], target)
    return target


__all__ = [
    "FAULTS_HELP",
    "DatasetError",
    "FaultSpec",
    "FaultSpecError",
    "SandboxApp",
    "SandboxServer",
    "create_app",
    "default_dataset_path",
    "generate_dataset",
    "load_dataset",
    "parse_faults",
    "parse_integration_arg",
    "parse_lifetime",
    "save_dataset",
    "serve",
]
