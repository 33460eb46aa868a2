"""Stand-ins for the outside world, for tests, the demo and the benchmark: the embedded Oracle
B2C sandbox (``sandbox``) and the local Slack Web API fake (``slack_fake``). Infrastructure:
uses nothing of the bot, so that it answers as Oracle and Slack do, not as our code expects."""
