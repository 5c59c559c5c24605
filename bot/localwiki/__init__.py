"""Throw-away MediaWiki 1.39 wikis on loopback, for the test suite and the sandbox demo.

Needs PHP and Debian's ``mediawiki`` package (see .ci/setup). Never imports Pywikibot: it
only writes configuration files for it (pywikibot_config.py).
"""

from .client import ParticipantClient
from .errors import ApiError, LocalWikiError, MediaWikiMissingError
from .farm import (
    CONTENT_NAME,
    FARM_NAMES,
    MEDIA_NAME,
    PARTICIPANTS,
    Farm,
    farm_families,
    start_farm,
)
from .install import create_wiki
from .mediawiki import mediawiki_missing
from .png import tiny_png
from .pywikibot_config import write_pywikibot_config, write_user_config
from .server import free_port, free_ports
from .wiki import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    BOT_APP_ID,
    BOT_USERNAME,
    DEFAULT_USER_PASSWORD,
    LocalWiki,
)

__all__ = [
    "ADMIN_PASSWORD",
    "ADMIN_USERNAME",
    "BOT_APP_ID",
    "BOT_USERNAME",
    "CONTENT_NAME",
    "DEFAULT_USER_PASSWORD",
    "FARM_NAMES",
    "MEDIA_NAME",
    "PARTICIPANTS",
    "ApiError",
    "Farm",
    "LocalWiki",
    "LocalWikiError",
    "MediaWikiMissingError",
    "ParticipantClient",
    "create_wiki",
    "farm_families",
    "free_port",
    "free_ports",
    "mediawiki_missing",
    "start_farm",
    "tiny_png",
    "write_pywikibot_config",
    "write_user_config",
]
