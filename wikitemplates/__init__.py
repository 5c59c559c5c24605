"""Every page the project puts on a wiki, shipped as the package data ``bot.wikitemplates``."""
