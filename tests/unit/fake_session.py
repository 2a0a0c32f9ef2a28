"""A message handler runs in its consumer's transaction (`uow.bound(session)`) and writes through it
(`uow.tx`). Unit tests bind a handler's unit of work to this stand-in, which the fake stores and outboxes
take and ignore as they would a real session."""

FAKE_SESSION = object()
