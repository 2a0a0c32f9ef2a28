"""What every service needs to run — broker wiring, outbox relay, idempotent consumption with
tracking, DLQ routing, staff-key lookup, telemetry, error shapes. No business logic lives here."""
