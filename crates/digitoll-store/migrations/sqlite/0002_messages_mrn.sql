-- Lookup of a tenant's messages by MRN (GET /v1/messages/by-mrn/{mrn}).
create index messages_mrn on messages (tenant_id, mrn);
