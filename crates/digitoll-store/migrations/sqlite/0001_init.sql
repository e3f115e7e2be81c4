-- digitoll store, SQLite dialect.
-- Conventions: ids are uuid blobs (16 bytes) except the integer job and log ids;
-- times are integer unix milliseconds (UTC) so that comparisons and indexes on
-- run_at / lease_expires_at are plain integer comparisons; json is text.

create table tenants (
    id blob primary key not null,
    org_number text not null,
    name text not null,
    environment text not null check (environment in ('prod', 'test', 'sim')),
    issuer_url text,
    client_id text not null,
    key_kind text not null check (key_kind in ('kid', 'certificate')),
    kid text,
    -- AES-256-GCM under the operator's master key; AAD binds tenant id + column.
    sealed_private_key blob,
    sealed_p12 blob,
    sealed_p12_password blob,
    public_jwk text,
    scopes text not null default '[]',
    enabled integer not null default 1,
    created_at integer not null,
    updated_at integer not null
) strict;
create index tenants_org_number on tenants (org_number);

create table api_keys (
    id blob primary key not null,
    -- null for operator (admin) keys
    tenant_id blob references tenants (id) on delete cascade,
    prefix text not null,
    key_hash blob not null unique,
    label text not null,
    created_at integer not null,
    revoked_at integer
) strict;
create index api_keys_tenant on api_keys (tenant_id);

create table messages (
    id blob primary key not null,
    tenant_id blob not null references tenants (id),
    api text not null,
    kind text not null,
    operation text not null,
    body text not null,
    body_sha256 blob not null,
    document_number text,
    document_type text,
    carrier_id text,
    idempotency_key text,
    state text not null,
    mrn text,
    request_id text,
    validation_errors text,
    created_at integer not null,
    updated_at integer not null
) strict;
create unique index messages_idempotency on messages (tenant_id, idempotency_key)
    where idempotency_key is not null;
create index messages_tenant_created on messages (tenant_id, created_at);
create index messages_document on messages (tenant_id, document_number);

create table message_states (
    id integer primary key,
    message_id blob not null references messages (id) on delete cascade,
    tenant_id blob not null,
    from_state text,
    to_state text not null,
    detail text,
    at integer not null
) strict;
create index message_states_message on message_states (message_id, id);

create table attempts (
    message_id blob not null references messages (id) on delete cascade,
    attempt_no integer not null,
    tenant_id blob not null,
    job_id integer,
    started_at integer not null,
    finished_at integer,
    outcome text,
    http_status integer,
    error_class text,
    error_text text,
    primary key (message_id, attempt_no)
) strict;

create table jobs (
    id integer primary key autoincrement,
    tenant_id blob not null references tenants (id),
    message_id blob references messages (id),
    kind text not null,
    payload text,
    state text not null check (state in ('ready', 'leased', 'done', 'dead', 'cancelled')),
    run_at integer not null,
    attempts integer not null default 0,
    max_attempts integer not null,
    lease_owner text,
    lease_expires_at integer,
    last_error text,
    created_at integer not null,
    updated_at integer not null
) strict;
create index jobs_ready on jobs (run_at, id) where state = 'ready';
create index jobs_leased on jobs (lease_expires_at) where state = 'leased';
create index jobs_tenant_state on jobs (tenant_id, state);
create index jobs_message on jobs (message_id);

create table routing_signals (
    id integer primary key,
    tenant_id blob not null references tenants (id),
    feed text not null,
    reference text not null,
    signal text not null,
    control_location text,
    received_at integer not null,
    raw text not null,
    created_at integer not null
) strict;
create index routing_signals_reference on routing_signals (tenant_id, reference);

create table routing_cursors (
    tenant_id blob not null references tenants (id),
    feed text not null,
    marker text not null,
    created_at integer not null,
    updated_at integer not null,
    primary key (tenant_id, feed)
) strict;

create table webhook_subscriptions (
    id blob primary key not null,
    tenant_id blob not null references tenants (id),
    url text not null,
    sealed_secret blob not null,
    events text not null,
    enabled integer not null default 1,
    created_at integer not null,
    updated_at integer not null
) strict;
create index webhook_subscriptions_tenant on webhook_subscriptions (tenant_id);

create table webhook_deliveries (
    id blob primary key not null,
    tenant_id blob not null references tenants (id),
    subscription_id blob not null references webhook_subscriptions (id) on delete cascade,
    message_id blob references messages (id),
    event text not null,
    payload text not null,
    status text not null check (status in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    last_status_code integer,
    last_response text,
    created_at integer not null,
    updated_at integer not null
) strict;
create index webhook_deliveries_subscription on webhook_deliveries (tenant_id, subscription_id, created_at);

create table audit_log (
    id integer primary key,
    tenant_id blob,
    actor text not null,
    action text not null,
    detail text not null,
    at integer not null
) strict;
create index audit_log_tenant on audit_log (tenant_id, id);
