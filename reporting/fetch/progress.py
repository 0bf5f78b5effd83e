"""What the fetch tells as it goes: hooks, and a tqdm bar of meetings for the CLI."""

from __future__ import annotations

import sys


class FetchProgress:
    """Hooks the fetch calls as it goes; the base class does nothing."""

    def planned(self, instances: int) -> None:
        """``instances`` more meeting instances are to be fetched."""

    def page(self, instance_id: str) -> None:
        """A participant page was stored."""

    def instance_done(self, instance_id: str, *, ok: bool, reused: bool) -> None:
        """An instance is finished (``reused``: taken from the store without requests)."""

    def retry(self, reason: str, seconds: float) -> None:
        """A request is retried after ``seconds`` (Retry-After or backoff)."""

    def close(self) -> None:
        """The fetch is over."""


class TqdmProgress(FetchProgress):
    """A tqdm bar of meetings on stderr, with pages and retries; silent unless a tty."""

    def __init__(self, enabled: bool | None = None) -> None:
        from tqdm import tqdm

        if enabled is None:
            enabled = sys.stderr.isatty()
        self._bar = tqdm(
            total=0, unit="meeting", desc="fetching", file=sys.stderr, disable=not enabled
        )
        self._pages = 0
        self._retries = 0
        self._waiting = 0.0

    def _postfix(self) -> None:
        text = f"pages={self._pages} retries={self._retries}"
        if self._waiting:
            text += f" waited={self._waiting:.0f}s"
        self._bar.set_postfix_str(text, refresh=False)

    def planned(self, instances: int) -> None:
        self._bar.total = (self._bar.total or 0) + instances
        self._bar.refresh()

    def page(self, instance_id: str) -> None:
        self._pages += 1
        self._postfix()

    def instance_done(self, instance_id: str, *, ok: bool, reused: bool) -> None:
        self._bar.update(1)

    def retry(self, reason: str, seconds: float) -> None:
        self._retries += 1
        self._waiting += seconds
        self._postfix()
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def as_progress(progress: FetchProgress | bool | None) -> FetchProgress:
    if progress is True:
        return TqdmProgress()
    if isinstance(progress, FetchProgress):
        return progress
    return FetchProgress()
