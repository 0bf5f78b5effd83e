"""The URLs a walk goes along: next links read from ``Link`` headers, and their hygiene.

- `next_link`: the ``rel="next"`` target of a page, strictly read (RFC 8288): a header
  that is not a list of ``<URI>; params`` values could hide a next page, and ending the
  walk there would drop its records silently, so it is reported instead.
- `clean_url`: a URL without userinfo or secret-looking query parameters, for what is
  stored, logged or put into messages.
- `same_page` / `WalkLimit`: what tells a loop of next links, and the most pages a walk
  may take, so a list whose links never end cannot hold a run forever.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from reporting.errors import WebexError
from reporting.logs import redact

PAGE_MAX = 100
MIN_MAX = 10
# Query parameters that could hold a secret if a server ever echoed one into a Link.
SECRET_PARAMS = frozenset({"access_token", "token", "client_secret", "refresh_token"})

Origin = tuple[str, str, int | None]


class WebexRequestError(WebexError):
    """A request that failed for good; ``status`` None for a transport failure."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str = "",
        tracking_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        # The API's own words and URLs go into it; Webex may echo the token in either.
        super().__init__(redact(message), hint=hint)
        self.status = status
        self.url = redact(url)
        self.tracking_id = tracking_id


def clean_url(url: str) -> str:
    """The URL without userinfo or secret-looking query parameters (for store and logs)."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "an unreadable URL"  # e.g. a broken IPv6 host; it may hold anything
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query and any(name in query.lower() for name in SECRET_PARAMS):
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_PARAMS for k, _ in pairs):
            query = urlencode([(k, v) for k, v in pairs if k.lower() not in SECRET_PARAMS])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def origin_text(origin: Origin) -> str:
    """``scheme://host[:port]``: never a URL's userinfo, path or query."""
    scheme, host, port = origin
    if not host:
        return "an unreadable URL"
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + (f":{port}" if port is not None else "")


def smaller_max(url: str) -> str:
    """``url`` asking for half its page size (at least `MIN_MAX`): Webex's advice on 504."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    current = next((v for k, v in pairs if k == "max"), None)
    try:
        size = int(float(current)) if current is not None else PAGE_MAX
    except ValueError:
        size = PAGE_MAX
    smaller = max(MIN_MAX, size // 2)
    pairs = [(k, v) for k, v in pairs if k != "max"] + [("max", str(smaller))]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))


# A walk asks this of each next link twice (is it a loop? then, followed, noted as seen).
@functools.lru_cache(maxsize=1024)
def same_page(url: str, origin: Origin) -> tuple[object, ...]:
    """What makes two URLs ask for the same page: origin, path and the query's pairs in
    any order (a server's link may order them differently from the client)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return (url,)
    return (origin, parts.path, urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True))))


def _page_size(url: str) -> int | None:
    for key, value in parse_qsl(urlsplit(url).query):
        if key == "max":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class WalkLimit:
    """How many pages a walk may take: ``max_items`` in pages of the ``max`` it asked for.

    The page size is read from the walk's own URLs (a 504 halves it); a next link that
    asks for a smaller page than the client does (the server's choice) does not raise
    the limit, the client's smallest ``max`` does."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self.page_size = PAGE_MAX

    def check(self, url: str, pages: int, what: str) -> None:
        size = _page_size(url)
        if size is not None:
            self.page_size = min(self.page_size, max(size, MIN_MAX))
        # One more for the empty last page a list may end with.
        limit = -(-self.max_items // self.page_size) + 1
        if pages > limit:
            raise WebexRequestError(
                f"{what}: the list goes on past {limit} pages of {self.page_size}, more than "
                f"{self.max_items:,} items could fill (the next-page links never end); "
                "stopped there",
                url=clean_url(url),
                hint="rerun later; if it persists, report it to the API's owner",
            )


# One link-value of RFC 8288: `<URI>` then `; param` or `; param=value` (token or quoted).
_NAME = r"[!#$%&\'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_LINK_VALUE = re.compile(
    rf"\s*<([^<>\s]*)>((?:\s*;\s*{_NAME}(?:\s*=\s*(?:{_NAME}|{_QUOTED}))?)*)\s*"
)
_PARAM = re.compile(rf"\s*;\s*({_NAME})(?:\s*=\s*({_NAME}|{_QUOTED}))?")


def next_link(
    headers: Mapping[str, str], url: str, join: Callable[[str, str], str]
) -> tuple[str | None, str | None]:
    """(next URL, None), or (None, why the Link header cannot be read).

    ``join`` reads a link against the page's ``url`` (the wire's own URL parser); it
    raises ValueError for a link that is not a URL."""
    header = headers.get("link", "")
    if not header.strip():
        return None, None
    values = _link_values(header)
    if isinstance(values, str):
        return None, f"not a list of <URI>; rel=... values: {shown(values)}"
    target: str | None = None
    for uri, params in values:
        if "next" in _relations(params):
            target = uri  # the last one, as httpx read it
    if target is None:
        return None, None
    if not target.strip():
        return None, 'its rel="next" link is empty'
    try:
        return join(url, target), None
    except ValueError:
        return None, f"its next link is not a URL: {shown(target)}"


def _link_values(header: str) -> list[tuple[str, str]] | str:
    """The (URI, params) of each link-value, or the first value that is not one."""
    found: list[tuple[str, str]] = []
    position, end = 0, len(header)
    while True:
        while position < end and header[position] in " \t,":
            position += 1
        if position >= end:
            return found
        match = _LINK_VALUE.match(header, position)
        if match is None or (match.end() < end and header[match.end()] != ","):
            bad = (v for v in _split_links(header) if not _LINK_VALUE.fullmatch(v))
            return next(bad, header)
        found.append((match.group(1), match.group(2)))
        position = match.end()


def _relations(params: str) -> list[str]:
    for name, value in _PARAM.findall(params):
        if name.lower() == "rel":
            text = str(value)
            return (text[1:-1] if text.startswith('"') else text).lower().split()
    return []


def _split_links(header: str) -> list[str]:
    """The link-values of a Link header: split at commas outside `<...>` and quotes."""
    values: list[str] = []
    current: list[str] = []
    in_uri = in_quote = escaped = False
    for char in header:
        if in_quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_quote = False
        elif char == "<":
            in_uri = True
        elif char == ">":
            in_uri = False
        elif char == '"' and not in_uri:
            in_quote = True
        elif char == "," and not in_uri:
            values.append("".join(current))
            current = []
            continue
        current.append(char)
    values.append("".join(current))
    return [v for v in values if v.strip()]


def shown_header(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text[:40]) or "none"


def shown(text: str) -> str:
    """Untrusted header text, shortened and without secrets or control characters."""
    cleaned = redact("".join(c if c.isprintable() else "?" for c in text[:80]))
    return repr(clean_url(cleaned) if "://" in cleaned else cleaned)
