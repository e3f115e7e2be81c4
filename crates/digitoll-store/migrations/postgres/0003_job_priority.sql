-- Due jobs are claimed by priority first: status polls and webhook
-- deliveries (0) before new submissions (1), so that under a backlog the
-- messages already sent reach their MRN before more are started.
alter table jobs add column priority integer not null default 0;
update jobs set priority = 1 where kind = 'submit';
create index jobs_ready_priority on jobs (priority, run_at, id) where state = 'ready';
