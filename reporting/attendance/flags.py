"""Flag names and their plain-English meaning (the reports' data-quality section)."""

from __future__ import annotations

UNKNOWN_JOIN = "UNKNOWN_JOIN"
IN_PROGRESS = "IN_PROGRESS"
LEFT_TIME_INFERRED = "LEFT_TIME_INFERRED"
UNKNOWN_LEAVE = "UNKNOWN_LEAVE"
INVALID_INTERVAL = "INVALID_INTERVAL"
DURATION_MISMATCH = "DURATION_MISMATCH"
LOBBY = "LOBBY"
BAD_TIMESTAMP = "BAD_TIMESTAMP"
BAD_RECORD = "BAD_RECORD"
MEETING_WINDOW_INFERRED = "MEETING_WINDOW_INFERRED"
LATE_JOIN = "LATE_JOIN"
EARLY_LEAVE = "EARLY_LEAVE"
NOT_ON_ROSTER = "NOT_ON_ROSTER"
OVERRIDDEN = "OVERRIDDEN"
RESTARTED = "RESTARTED"
UNIDENTIFIED_CALLER = "UNIDENTIFIED_CALLER"

FLAG_EXPLANATIONS: dict[str, str] = {
    BAD_RECORD: (
        "Webex sent a field of this person's record with the wrong type (a time as a "
        "number, a device list as an object); that field was treated as missing. The "
        "data-quality notes name the field."
    ),
    BAD_TIMESTAMP: (
        "Webex sent a time for this person that is not a valid date and time, so that time "
        "was treated as unknown."
    ),
    DURATION_MISMATCH: (
        "A device's reported duration differs by more than 60 seconds from its join and "
        "leave times; the join and leave times were used."
    ),
    EARLY_LEAVE: (
        "The person's last leave was earlier than the meeting end minus the early-leave "
        "grace period."
    ),
    IN_PROGRESS: (
        "The meeting was still in progress when the report was made; time is counted up to "
        "the report's as-of time and the figures may still change."
    ),
    INVALID_INTERVAL: ("A connection ended before it started; that connection was not counted."),
    LATE_JOIN: (
        "The person's first join was later than the meeting start plus the late-join grace period."
    ),
    LEFT_TIME_INFERRED: (
        "Webex did not report when a connection ended; the person's own leave time, or else "
        "the meeting end, was used instead."
    ),
    LOBBY: ("The person waited in the lobby and was never admitted; lobby time is not counted."),
    MEETING_WINDOW_INFERRED: (
        "The meeting's start and end could not be looked up; they were taken from the "
        "earliest join and the latest leave of its participants, and late-join and "
        "early-leave checks were skipped."
    ),
    NOT_ON_ROSTER: "The person attended but is not on the roster for this training.",
    OVERRIDDEN: (
        "A reviewer's decision from the overrides file applies to this row (see its "
        "override columns); the attended time is still what Webex recorded."
    ),
    RESTARTED: (
        "The session was ended and started again; its instances are counted as one "
        "session, over the union of their times."
    ),
    UNIDENTIFIED_CALLER: (
        "A phone caller whose number is not on the roster; who it was is not known."
    ),
    UNKNOWN_JOIN: (
        "Webex did not report when a connection started; that connection was not counted."
    ),
    UNKNOWN_LEAVE: (
        "Webex did not report when a connection ended and no leave or meeting end time was "
        "known; that connection was not counted."
    ),
}

# Bit positions for the per-row flag masks the engine ORs together; rows are turned into
# the sorted `;`-joined text once per distinct mask, not once per row.
ALL_FLAGS: tuple[str, ...] = tuple(sorted(FLAG_EXPLANATIONS))
BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(ALL_FLAGS)}


def flags_text(mask: int) -> str:
    """The `;`-joined, alphabetically sorted flag names of a bit mask."""
    return ";".join(name for name in ALL_FLAGS if mask & BIT[name])
