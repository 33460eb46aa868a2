"""The Slack adapter: Block Kit messages and the task form (pure), posting without losing
anything, people and the allow-lists. Uses the domain, and the Oracle adapter's value types."""
