"""Where people work: the Home tab ("My tasks"), direct messages (assignments, the morning
digest), link previews, channel defaults, and tasks from an emoji or a whole thread."""
