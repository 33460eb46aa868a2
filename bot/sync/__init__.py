"""Synced threads: a task's Slack thread follows the task in Oracle. A feature: uses the flows,
the adapters, the domain and the journal.

``changes`` compares what a thread last showed with a task's row now (pure); ``store`` keeps
the tracked tasks and the poller's cursor in the journal's database; ``poller`` asks Oracle
what changed (``updatedTime``, paged: calls grow with the changed tasks, not the tracked ones)
and posts one line per change in the task's thread, updating the task message in place.
"""
