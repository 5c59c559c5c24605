"""The program's activity over time, as the bars of a chart drawn with templates and CSS
(no Graph or Chart extension): edits and articles edited per day, or per week (from
Monday) for a program longer than two months."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.model import Window

#: Programs longer than this are drawn per week.
DAILY_UP_TO = timedelta(days=62)


@dataclass(frozen=True)
class Bar:
    """One period of the chart: from ``start``, its edits and distinct articles edited."""

    start: date
    edits: int
    articles: int


def activity_bars(per_day: Mapping[date, tuple[int, int]], window: Window) -> tuple[str, list[Bar]]:
    """The period (``day`` or ``week``) and one bar per period, from the window's start to
    its last period with an edit (so that a quiet day adds no bar, and no edit); none when
    nothing was counted.

    Articles per week are the sum of each day's distinct articles (an article edited on
    two days of a week counts on both): the chart shows activity, not the totals.
    """
    days = {day: value for day, value in per_day.items() if value[0]}
    if not days:
        return "day", []
    weekly = window.end - window.start > DAILY_UP_TO
    first = window.start.date()
    if weekly:
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if weekly else 1)
    last = max(days)
    bars = []
    start = first
    while start <= last:
        edits = articles = 0
        for offset in range(step.days):
            found = days.get(start + timedelta(days=offset))
            if found:
                edits += found[0]
                articles += found[1]
        bars.append(Bar(start, edits, articles))
        start += step
    return ("week" if weekly else "day"), bars
