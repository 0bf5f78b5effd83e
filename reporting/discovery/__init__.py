"""Meetings and expected people from Webex itself (rules 14-17 of ATTENDANCE_RULES.md).

- `match`: which listed instances a ``match:`` entry selects (rule 16);
- `people`: invitees and registrants as the API lists them, read into plain records;
- `rosters`: the roster of each instance: CSVs, invitees and approved registrants (rule 14).
"""
