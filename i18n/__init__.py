"""Messages and template names, shipped as the package data ``bot.i18n`` (see setup.cfg)."""
