"""programs-bot: wiki-native tracking of Wikimedia programs and events."""

from pathlib import Path

#: The checkout's root: templates and messages live beside the package, not inside it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
