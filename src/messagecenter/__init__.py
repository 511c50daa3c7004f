"""Message Center: one place for every message about a marketplace account.

Start at docs/architecture.md for the map of the apps.
"""
