"""The task domain, pure: the command grammar, dates, drafts, the task model, requests, and
Slack's text format that commands arrive in. Uses nothing of the bot outside this package."""
