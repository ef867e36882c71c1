"""Demand seasonality: weekly rhythm and retail holidays."""

from __future__ import annotations

from datetime import date, timedelta

_WEEKDAY = (0.95, 0.93, 0.97, 1.0, 1.06, 1.12, 0.97)  # Monday .. Sunday


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(days=22)


def seasonality(day: date) -> float:
    """Relative demand on ``day`` (1.0 is an ordinary Wednesday)."""
    factor = _WEEKDAY[day.weekday()]
    bf = black_friday(day.year)
    if day == bf:
        factor *= 2.6
    elif day == bf + timedelta(days=3):  # Cyber Monday
        factor *= 2.0
    elif bf - timedelta(days=6) <= day <= bf + timedelta(days=6):
        factor *= 1.3
    elif day.month == 12 and day.day <= 21:
        factor *= 1.25 + 0.02 * day.day
    elif day.month == 12 and 24 <= day.day <= 26:
        factor *= 0.7
    elif day.month == 1 and day.day <= 7:
        factor *= 1.2
    elif day.month == 2 and 7 <= day.day <= 14:
        factor *= 1.1
    return factor
