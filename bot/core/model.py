"""The domain: what a program page says, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Window:
    """The program's time window, both ends inclusive, in UTC."""

    start: datetime
    end: datetime

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment <= self.end


@dataclass(frozen=True)
class Scope:
    """Which pages count; empty means every page on the listed wikis."""

    categories: tuple[str, ...] = ()
    category_depth: int = 0
    templates: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()

    @property
    def is_everything(self) -> bool:
        return not (self.categories or self.templates or self.articles)


@dataclass(frozen=True)
class Notice:
    """A problem found on a page or in its data, shown on the page and on the command line.

    ``key`` names a message in ``i18n/bot/<lang>.json``; ``params`` fill its $1, $2, ...
    """

    key: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventRef:
    """An Event Registration (Extension:CampaignEvents) as a program page names it: its id
    on a wiki (by host; empty for the program page's own wiki)."""

    event_id: int
    wiki: str = ""


@dataclass(frozen=True)
class ProgramDetails:
    """The organizer-owned parameters of {{Program details}}, checked and typed."""

    name: str
    organizer: str
    facilitators: tuple[str, ...]
    window: Window | None
    wikis: tuple[str, ...]
    registration: str
    campaign: str
    scope: Scope
    count_facilitators: bool
    #: An Event Registration whose participants count too.
    event: EventRef | None = None
    #: Hashtags (without "#", as written) whose edits count, whoever made them.
    hashtags: tuple[str, ...] = ()
    #: Goals: (figure, target), in the order written (bot.core.goals).
    goals: tuple[tuple[str, int], ...] = ()
    #: Written by the Programs & Events Dashboard (its parameters; without ``wikis`` the
    #: page's own wiki counts).
    dashboard: bool = False

    @property
    def has_sources(self) -> bool:
        """Whether participants come from elsewhere than the page's rows too."""
        return self.event is not None or bool(self.hashtags)


@dataclass(frozen=True)
class ParticipantRow:
    """One {{Participant table row}} as written; ``position`` is its index among the rows."""

    position: int
    username: str
    joined: str
    stats: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True)
class ProgramPage:
    """What the bot read from a program page."""

    details: ProgramDetails
    rows: tuple[ParticipantRow, ...]
    notices: tuple[Notice, ...]

    @property
    def listed(self) -> tuple[str, ...]:
        """The participants the page lists: its rows, then the facilitators when the
        program counts them, each once."""
        names = [row.username for row in self.rows]
        if self.details.count_facilitators:
            names += [name for name in self.details.facilitators if name not in names]
        return tuple(names)

    @property
    def counted(self) -> tuple[str, ...]:
        """The names the last refresh counted, as the page shows them.

        A row whose statistics the bot filled in (even with zeros) was counted; the bot
        empties the statistics of names with no account on any listed wiki, and a row added
        since the last refresh has none yet. The facilitators have no row: with
        ``count_facilitators`` they are taken as counted.
        """
        names = [row.username for row in self.rows if any(value for _, value in row.stats)]
        if self.details.count_facilitators:
            names += [name for name in self.details.facilitators if name not in names]
        return tuple(names)


@dataclass(frozen=True)
class CampaignDetails:
    """The organizer-owned parameters of {{Campaign details}}, checked and typed.

    The dates are only shown and compared with the programs' dates: each program is
    counted in its own window.
    """

    name: str
    start: datetime | None
    end: datetime | None
    description: str

    @property
    def window(self) -> Window | None:
        if self.start is None or self.end is None or self.end < self.start:
            return None
        return Window(self.start, self.end)


@dataclass(frozen=True)
class CampaignPage:
    """What the bot read from a campaign page."""

    details: CampaignDetails
    notices: tuple[Notice, ...]
