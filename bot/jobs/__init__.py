"""What the bot does: refreshes, the joins worker, the scheduler, campaigns, deploy."""
