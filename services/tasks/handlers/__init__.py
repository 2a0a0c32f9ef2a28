"""Use cases: a request or an event in, the domain decides, state and outbox messages out in one transaction."""
