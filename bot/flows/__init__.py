"""The flows that run a request: creating a task (the worker, the create procedure, the Slack
announcements), the buttons, the form's life, failures in words. Uses the adapters and the
domain; the features plug into them from above (hooks the flows call)."""
