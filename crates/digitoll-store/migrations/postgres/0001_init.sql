-- digitoll store, PostgreSQL dialect. Same tables and columns as the SQLite
-- migration, with native types: uuid, timestamptz, jsonb, bytea, boolean.

create table tenants (
    id uuid primary key,
    org_number text not null,
    name text not null,
    environment text not null check (environment in ('prod', 'test', 'sim')),
    issuer_url text,
    client_id text not null,
    key_kind text not null check (key_kind in ('kid', 'certificate')),
    kid text,
    -- AES-256-GCM under the operator's master key; AAD binds tenant id + column.
    sealed_private_key bytea,
    sealed_p12 bytea,
    sealed_p12_password bytea,
    public_jwk jsonb,
    scopes jsonb not null default '[]',
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index tenants_org_number on tenants (org_number);

create table api_keys (
    id uuid primary key,
    -- null for operator (admin) keys
    tenant_id uuid references tenants (id) on delete cascade,
    prefix text not null,
    key_hash bytea not null unique,
    label text not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);
create index api_keys_tenant on api_keys (tenant_id);

create table messages (
    id uuid primary key,
    tenant_id uuid not null references tenants (id),
    api text not null,
    kind text not null,
    operation text not null,
    body jsonb not null,
    body_sha256 bytea not null,
    document_number text,
    document_type text,
    carrier_id text,
    idempotency_key text,
    state text not null,
    mrn text,
    request_id text,
    validation_errors jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index messages_idempotency on messages (tenant_id, idempotency_key)
    where idempotency_key is not null;
create index messages_tenant_created on messages (tenant_id, created_at);
create index messages_document on messages (tenant_id, document_number);

create table message_states (
    id bigint generated always as identity primary key,
    message_id uuid not null references messages (id) on delete cascade,
    tenant_id uuid not null,
    from_state text,
    to_state text not null,
    detail text,
    at timestamptz not null default now()
);
create index message_states_message on message_states (message_id, id);

create table attempts (
    message_id uuid not null references messages (id) on delete cascade,
    attempt_no integer not null,
    tenant_id uuid not null,
    job_id bigint,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    outcome text,
    http_status integer,
    error_class text,
    error_text text,
    primary key (message_id, attempt_no)
);

create table jobs (
    id bigint generated always as identity primary key,
    tenant_id uuid not null references tenants (id),
    message_id uuid references messages (id),
    kind text not null,
    payload jsonb,
    state text not null check (state in ('ready', 'leased', 'done', 'dead', 'cancelled')),
    run_at timestamptz not null default now(),
    attempts integer not null default 0,
    max_attempts integer not null,
    lease_owner text,
    lease_expires_at timestamptz,
    last_error text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index jobs_ready on jobs (run_at, id) where state = 'ready';
create index jobs_leased on jobs (lease_expires_at) where state = 'leased';
create index jobs_tenant_state on jobs (tenant_id, state);
create index jobs_message on jobs (message_id);

create table routing_signals (
    id bigint generated always as identity primary key,
    tenant_id uuid not null references tenants (id),
    feed text not null,
    reference text not null,
    signal text not null,
    control_location text,
    received_at timestamptz not null,
    raw jsonb not null,
    created_at timestamptz not null default now()
);
create index routing_signals_reference on routing_signals (tenant_id, reference);

create table routing_cursors (
    tenant_id uuid not null references tenants (id),
    feed text not null,
    marker text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, feed)
);

create table webhook_subscriptions (
    id uuid primary key,
    tenant_id uuid not null references tenants (id),
    url text not null,
    sealed_secret bytea not null,
    events jsonb not null,
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index webhook_subscriptions_tenant on webhook_subscriptions (tenant_id);

create table webhook_deliveries (
    id uuid primary key,
    tenant_id uuid not null references tenants (id),
    subscription_id uuid not null references webhook_subscriptions (id) on delete cascade,
    message_id uuid references messages (id),
    event text not null,
    payload jsonb not null,
    status text not null check (status in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    last_status_code integer,
    last_response text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index webhook_deliveries_subscription on webhook_deliveries (tenant_id, subscription_id, created_at);

create table audit_log (
    id bigint generated always as identity primary key,
    tenant_id uuid,
    actor text not null,
    action text not null,
    detail jsonb not null,
    at timestamptz not null default now()
);
create index audit_log_tenant on audit_log (tenant_id, id);
