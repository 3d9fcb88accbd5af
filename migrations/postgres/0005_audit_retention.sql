-- Audit retention (AILERON_AUDIT_RETENTION): events are expired oldest first by their time.
CREATE INDEX audit_events_at ON audit_events (at);
