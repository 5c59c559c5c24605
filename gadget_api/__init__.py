"""The Join API behind the gadget: Flask, OAuth through mwoauth, the shared SQL store.

It never edits a wiki (and never imports Pywikibot): joins are recorded in the store and
a worker of the bot writes them onto the program pages. ``bot`` never imports this package.
"""

from gadget_api.app import create_app

__all__ = ["create_app"]
