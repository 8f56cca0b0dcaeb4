"""Workflow Builder custom steps: pause, unpause, start, pause all, campaign status."""
