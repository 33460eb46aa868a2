"""Channel subscriptions: a channel (or a person, in the bot's direct messages) follows the
B2C Service tasks matching a filter, wherever they were created: one card per task, its
changes in the card's thread, overdue told once. Fed by the thread sync's poll
(``bot.sync.poller``): no Oracle call per subscription."""
