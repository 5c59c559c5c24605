"""The only code that talks to wikis: sites, queries, pageviews and the edit loop."""
