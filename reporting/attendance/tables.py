"""Small helpers that build the result tables' columns, shared by the engine's modules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.overrides import Override

I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]

OVERRIDE_COLUMNS: tuple[str, ...] = (
    "where",
    "person",
    "scope",
    "decision",
    "value",
    "reason",
    "reviewer",
    "date",
    "rows",
)


def object_array(values: Sequence[object]) -> Obj:
    """A 1-D object array of `values` (np.array would make a text or 2-D array)."""
    # fromiter stores each value as it is, even a list (slice assignment would unpack it).
    return np.fromiter(values, dtype=object, count=len(values))


def strings(values: Obj | Sequence[object]) -> pd.Series:
    return pd.Series(values, dtype="str")


def strings_from_codes(distinct: Obj | Sequence[object], codes: I64) -> pd.Series:
    """The text column `distinct[codes]`, checked as text once per distinct value (a
    column built value by value checks every row)."""
    return pd.Series(strings(distinct).array.take(codes))


def fold_codes(names: Obj) -> I64:
    """Sort codes of case-folded names; empty names sort last. Names repeat (a person's
    name in every meeting), so each distinct name is folded once."""
    codes, distinct = pd.factorize(names)  # a missing name → -1
    folded = [n.casefold() if n else "\U0010ffff" for n in distinct.tolist()]
    folded_codes, _ = pd.factorize(np.array([*folded, "\U0010ffff"], dtype=object), sort=True)
    result: I64 = folded_codes.astype(np.int64)[codes]  # -1 takes the last: empty
    return result


def overrides_frame(overrides: Sequence[Override], rows: I64 | None) -> pd.DataFrame:
    """Every override given, in file order, with the number of rows it applied to."""
    counts = rows if rows is not None else np.zeros(len(overrides), dtype=np.int64)
    return pd.DataFrame(
        {
            "where": strings([o.where for o in overrides]),
            "person": strings([o.person for o in overrides]),
            "scope": strings([o.scope for o in overrides]),
            "decision": strings([o.decision for o in overrides]),
            "value": strings([o.value for o in overrides]),
            "reason": strings([o.reason for o in overrides]),
            "reviewer": strings([o.reviewer for o in overrides]),
            "date": strings([o.date.isoformat() for o in overrides]),
            "rows": pd.Series(counts, dtype=np.int64),
        },
        columns=list(OVERRIDE_COLUMNS),
    )
