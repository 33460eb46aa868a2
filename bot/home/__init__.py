"""Where people work: the Home tab ("My tasks"), direct messages (assignments, the morning
digest), link previews, channel defaults, and tasks from an emoji or a whole thread. A feature:
uses the flows, the adapters, the domain, the journal, and the thread sync's store and changes."""
