"""The PDF's URL fetcher: WeasyPrint may read files inside the template folders, nothing
else (no network, no `file://` elsewhere, no `data:`: nothing in a report needs them).

Only the PDF workers import it: it is the one module outside WeasyPrint that needs
WeasyPrint at import time.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse


class BlockedURLError(ValueError):
    """WeasyPrint was asked for a resource outside the allowed template folders."""


class SafeURLFetcher(URLFetcher):  # type: ignore[misc]
    """Serves `file:` URLs inside `roots` and refuses everything else.

    WeasyPrint catches the exception, logs a warning and renders without the resource, so
    a hostile `<img src="file:///etc/passwd">` smuggled into a user template or any URL a
    stylesheet names is simply missing from the PDF. Refused URLs are kept in `blocked`
    so tests (and logs) can see what was asked for.
    """

    def __init__(self, roots: Iterable[Path]) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)
        self._roots = tuple(Path(r).resolve() for r in roots)
        self.blocked: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
            path = Path(unquote(parts.path)).resolve()
            if path.is_file() and any(path.is_relative_to(root) for root in self._roots):
                return URLFetcherResponse(
                    path.as_uri(), path.read_bytes(), {"Content-Type": _mime(path)}
                )
        self.blocked.append(url)
        raise BlockedURLError(f"resource not allowed in reports: {url[:200]}")


def _mime(path: Path) -> str:
    return {
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".ttf": "font/ttf",
        ".otf": "font/otf",
    }.get(path.suffix.lower(), "application/octet-stream")
