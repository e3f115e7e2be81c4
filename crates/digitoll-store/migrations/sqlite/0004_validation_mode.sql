-- Per-tenant validation mode and contract profile, and the local findings
-- kept next to Toll's answer (gateway: strict / advisory / off).
--   strict:   local validation refuses what it rejects (422, nothing stored);
--   advisory: local findings are stored with the message and it is sent;
--   off:      no local rule checks.
alter table tenants add column validation_mode text not null default 'strict'
    check (validation_mode in ('strict', 'advisory', 'off'));
-- The tenant's contract profile as TOML text (checked by the gateway when set).
alter table tenants add column contract_profile text;
-- Local findings (JSON array of {rule, path, message, severity, channel}).
alter table messages add column local_findings text;
-- The mode the message was accepted under: the worker sends a strict
-- message through the client's own checks, an advisory/off one without.
alter table messages add column validation_mode text not null default 'strict'
    check (validation_mode in ('strict', 'advisory', 'off'));
