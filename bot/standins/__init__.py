"""Stand-ins for the outside world, for tests, the demo and the benchmark: the embedded Oracle
B2C sandbox (``sandbox``) and the local Slack Web API fake (``slack_fake``)."""
