"""`/dialer subscribe|unsubscribe`: which channels get notifications."""
