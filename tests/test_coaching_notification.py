"""``Notification.kind`` and its JSON form (SPEC §10)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_wiseparts_goals import Notification, NotificationKind


def test_kinds() -> None:
    assert [kind.value for kind in NotificationKind] == ["review", "status", "milestone", "digest"]


def test_as_json_turns_decimals_and_dates_into_strings() -> None:
    note = Notification(
        kind=NotificationKind.MILESTONE,
        recipient_id="rep",
        goal_id=3,
        message="Half way.",
        data={
            "percent": 50,
            "actual": Decimal("50.00"),
            "on": date(2026, 2, 10),
            "l": [Decimal(1)],
        },
    )
    assert note.as_json() == {
        "kind": "milestone",
        "recipient_id": "rep",
        "goal_id": 3,
        "message": "Half way.",
        "data": {"percent": 50, "actual": "50.00", "on": "2026-02-10", "l": ["1"]},
    }
