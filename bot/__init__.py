"""programs-bot: wiki-native tracking of Wikimedia programs and events."""
