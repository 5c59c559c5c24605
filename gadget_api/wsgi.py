"""Entry point for gunicorn: ``gunicorn gadget_api.wsgi:app``.

Importing this module builds the app from the file named by ``PROGRAMS_API_CONFIG``;
that is its only purpose, so nothing else imports it. A configuration or store that
cannot be used ends the start with one line naming the problem, not a traceback.
"""

import sys

from bot.store import StoreError
from gadget_api import create_app
from gadget_api.errors import ApiConfigError

#: gunicorn's exit status for an app that cannot be loaded: the server stops ("App failed
#: to load") instead of starting the worker again and again.
APP_LOAD_ERROR = 4

try:
    app = create_app()
except (ApiConfigError, StoreError) as error:
    print(f"programs-bot Join API: {error}", file=sys.stderr, flush=True)
    sys.exit(APP_LOAD_ERROR)
