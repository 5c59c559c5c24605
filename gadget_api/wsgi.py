"""Entry point for gunicorn: ``gunicorn gadget_api.wsgi:app``.

Importing this module builds the app from the file named by ``PROGRAMS_API_CONFIG``;
that is its only purpose, so nothing else imports it.
"""

from gadget_api import create_app

app = create_app()
