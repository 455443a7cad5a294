"""Sums of usage_events.cost_usd by provider and by month, for the profile's usage chart."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from echogen_desktop.services.records import UsageEvent


@dataclass(frozen=True)
class UsageSummary:
    months: tuple[str, ...]  # "YYYY-MM", oldest first, no gaps between the first and the last
    providers: tuple[str, ...]  # by total cost, largest first
    by_month: dict[str, tuple[float, ...]]  # provider -> cost per month, aligned with months
    totals: dict[str, float]  # provider -> total cost
    counts: dict[str, int]  # provider -> number of events

    @property
    def total(self) -> float:
        return sum(self.totals.values())


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def summarize(events: Iterable[UsageEvent]) -> UsageSummary:
    cells: dict[tuple[str, str], float] = defaultdict(float)
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for event in events:
        month = event.created_at.astimezone().strftime("%Y-%m")  # the user's months, not UTC's
        provider = event.provider or "unknown"
        cells[(provider, month)] += event.cost_usd
        totals[provider] += event.cost_usd
        counts[provider] += 1
    if not totals:
        return UsageSummary((), (), {}, {}, {})
    seen = sorted({month for _, month in cells})
    months = tuple(_month_range(seen[0], seen[-1]))
    providers = tuple(sorted(totals, key=lambda p: (-totals[p], p)))
    by_month = {p: tuple(round(cells.get((p, m), 0.0), 6) for m in months) for p in providers}
    return UsageSummary(months, providers, by_month, dict(totals), dict(counts))
