"""The test harness: throw-away MediaWiki wikis on loopback, for the tests and the sandbox.

Needs PHP and a MediaWiki code tree (see .ci/setup): Debian 12's ``mediawiki`` package
(1.39 LTS) by default, or the one ``LOCALWIKI_MEDIAWIKI_DIR`` names (1.43 LTS in
/opt/mediawiki-1.43). Never imports Pywikibot: it only writes configuration files for it
(pywikibot_config.py).
"""

from pathlib import Path

from .client import ParticipantClient
from .errors import ApiError, LocalWikiError, MediaWikiMissingError
from .eventstreams import EventStreamsServer
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
from .mediawiki import mediawiki_missing, mediawiki_version
from .png import tiny_png
from .program_pages import program_page
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

#: The checkout the tests run from (templates, messages and sources are read from it).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

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
    "PROJECT_ROOT",
    "ApiError",
    "EventStreamsServer",
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
    "mediawiki_version",
    "program_page",
    "start_farm",
    "tiny_png",
    "write_pywikibot_config",
    "write_user_config",
]
