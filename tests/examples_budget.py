"""How many examples the long property tests draw.

CI (where the environment sets ``CI``) draws every example; a developer's run draws a tenth,
so the suite stays quick on a laptop while CI still searches the whole budget.
"""

from __future__ import annotations

import os


def examples(full: int) -> int:
    return full if os.environ.get("CI") else max(50, full // 10)
