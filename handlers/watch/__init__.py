"""What the campaign watcher announces: its notifications and thread parents (Block Kit)."""
