"""The bot's exception tree: every error it raises on purpose is a ProgramsBotError."""


class ProgramsBotError(Exception):
    """Base of every error the bot raises on purpose."""


class NotAProgramError(ProgramsBotError):
    """The page does not use {{Program details}}."""


class NotACampaignError(ProgramsBotError):
    """The page does not use {{Campaign details}}."""


class BadUsernameError(ProgramsBotError):
    """A name that cannot be a MediaWiki username (and would break a row or a marker)."""


class ConfigError(ProgramsBotError):
    """The bot's own configuration is wrong (not the page's content)."""


class UnknownWikiError(ProgramsBotError):
    """A wiki named on a program page is not known to Pywikibot."""


class WikiAccessError(ProgramsBotError):
    """A wiki could not be read or answered with an error."""


class InvalidNameError(WikiAccessError):
    """The wiki refused a request because a name in it cannot be a username (``baduser``)."""


class EditRefusedError(ProgramsBotError):
    """The bot may not edit: {{nobots}}, the emergency stop page, or repeated conflicts."""


class StopPageError(EditRefusedError):
    """The emergency stop page asks the bot to stop editing."""


class ConflictError(ProgramsBotError):
    """Someone saved the page after the bot read it: read it again and re-apply."""


class StoreError(ProgramsBotError):
    """The database could not be used."""


class EventRegistrationError(ProgramsBotError):
    """An Event Registration a program names could not be used.

    ``key`` names the notice the page shows (``notice-<key>`` in ``i18n/bot/``).
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
