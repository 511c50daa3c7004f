"""The Message Center itself: its boxes and folders, the unread counters' keys, the merged
list of everything a person has (conversations, notices, promotions), its counts and
"seen". Conversations and notifications feed it through feeds.py; it never imports them
(docs/architecture.md)."""
