"""Everything that speaks to Webex: the client, its models, and the sandbox simulator."""
