"""The Oracle B2C Service adapter: the Connect REST client and its typed errors, ROQL, the
site's named IDs, look-ups, staff accounts and what the site says of itself. Uses the domain."""
