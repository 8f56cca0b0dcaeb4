"""Channel notifications: `/dialer subscribe|unsubscribe`, which channels get them, and what
they say: the watcher's notices, every campaign thread's parent, a command's outcome."""
