//! Background work: the outbox worker.
//!
//! Each worker claims due jobs with a lease (`Store::claim`), does them, and
//! completes or fails them under the lease's fence. Job kinds:
//!
//! * `submit`: send a message to Toll through the tenant's `MovementClient`
//!   for the message's mode; on `202 {requestId}` enqueue a `poll_status` job.
//! * `poll_status`: one validation-status poll; re-enqueued with a growing
//!   delay until Toll has a result (MRN or errors), bounded by `max_polls`.
//! * `webhook_delivery`: one signed POST to a subscriber; retried with the
//!   store's backoff; the outcome is written to the delivery log.
//!
//! Failures are classified (see the crate README's table): retryable ones
//! (network, 5xx, 429 with `Retry-After`, Maskinporten outage) go back to the
//! queue with backoff and are dead-lettered after the store's bound; fatal
//! ones (validation, Maskinporten configuration) settle the message at once.
//! A send whose outcome is unknown is never re-posted blindly: masters and
//! houses are reconciled by the client (lookup by document number), and a
//! transport goes to `dead` with a `needs attention` detail for an operator.

use std::sync::Arc;
use std::time::{Duration, Instant};

use digitoll_client::{DocumentKind, Error as ClientError, Submission};
use digitoll_model::codes::ProcessingStatus;
use digitoll_model::{Mrn, RequestId};
use digitoll_store::{
    AttemptResult, FailOutcome, Failure, Job, JobKind, Message, MessageState, NewJob, Operation,
    Transition, ValidationMode,
};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::message::{ApiKind, ApiMode};
use crate::runtime::{RuntimeError, TenantRuntime};
use crate::state::GatewayState;
use crate::webhook;

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Worker tasks per process.
    pub workers: usize,
    /// Name prefix of this process's workers (lease owner), e.g. the host name.
    pub name: String,
    /// Lease per claim; a crashed worker's jobs come back after it.
    pub lease: Duration,
    /// Jobs claimed at once per worker; they run concurrently.
    pub batch: u32,
    /// How long an idle worker waits for a wake-up before polling again.
    pub idle_wait: Duration,
    /// Delay before the first validation-status poll (Toll: 1–2 s).
    pub poll_first_delay: Duration,
    /// Largest delay between polls.
    pub poll_max_interval: Duration,
    /// Polls before a message is marked failed as "still pending".
    pub max_polls: u32,
    /// Timeout of one webhook POST.
    pub webhook_timeout: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            workers: 4,
            name: format!("gw-{}", std::process::id()),
            lease: Duration::from_secs(120),
            batch: 8,
            idle_wait: Duration::from_secs(5),
            poll_first_delay: Duration::from_secs(1),
            poll_max_interval: Duration::from_secs(30),
            max_polls: 240,
            webhook_timeout: Duration::from_secs(10),
        }
    }
}

/// Runs the configured number of workers until `shutdown` turns true; then
/// each stops claiming, finishes the jobs it holds, and returns.
pub async fn run_workers(state: GatewayState, shutdown: watch::Receiver<bool>) {
    let n = state.config().workers.workers.max(1);
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("{}/w{i}", state.config().workers.name);
        handles.push(tokio::spawn(worker_loop(
            state.clone(),
            name,
            shutdown.clone(),
        )));
    }
    handles.push(tokio::spawn(crate::routing_worker::run(
        state.clone(),
        shutdown.clone(),
    )));
    for h in handles {
        if let Err(e) = h.await {
            tracing::error!(error = %e, "worker task panicked");
        }
    }
}

async fn worker_loop(state: GatewayState, name: String, mut shutdown: watch::Receiver<bool>) {
    let cfg = state.config().workers.clone();
    tracing::info!(worker = %name, "worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let jobs = match state.store().claim(&name, cfg.batch, cfg.lease).await {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(worker = %name, error = %e, "claim failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(cfg.idle_wait) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        };
        if jobs.is_empty() {
            tokio::select! {
                _ = state.store().wait_for_work(cfg.idle_wait) => {}
                () = state.job_due() => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        // The claimed jobs run concurrently (they wait on Toll and on the
        // store's group commit, not on the CPU), and are finished even when
        // shutdown starts meanwhile.
        futures::future::join_all(jobs.into_iter().map(|job| run_job(&state, &name, job))).await;
    }
    tracing::info!(worker = %name, "worker stopped");
}

/// What a job's handler decided.
enum Outcome {
    Done,
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    Fatal {
        error: String,
    },
}

async fn run_job(state: &GatewayState, worker: &str, job: Job) {
    use tracing::Instrument as _;
    let span = tracing::info_span!("job", id = %job.id, kind = %job.kind, tenant = %job.tenant_id, attempt = job.attempts, worker);
    let outcome = async {
        match job.kind {
            JobKind::Submit => submit(state, &job).await,
            JobKind::PollStatus => poll(state, &job).await,
            JobKind::WebhookDelivery => deliver(state, &job).await,
            other @ JobKind::Reconcile => Outcome::Fatal {
                error: format!("unknown job kind '{other}'"),
            },
        }
    }
    .instrument(span)
    .await;
    let store = state.store();
    let retried = matches!(outcome, Outcome::Retry { .. });
    let mut last_error = String::new();
    let res = match outcome {
        Outcome::Done => store.complete(&job).await.map(|()| None),
        Outcome::Retry { error, retry_after } => store
            .fail(
                &job,
                Failure::Retryable {
                    error: {
                        last_error = error.clone();
                        error
                    },
                    retry_after,
                },
            )
            .await
            .inspect(|o| {
                if let FailOutcome::Retrying { delay, .. } = o {
                    state.wake_workers_after(*delay);
                }
            })
            .map(Some),
        Outcome::Fatal { error } => store.fail(&job, Failure::Fatal { error }).await.map(Some),
    };
    match res {
        // Fatal outcomes settled their message already; only an exhausted
        // retry bound needs the message moved to `dead` here.
        Ok(Some(FailOutcome::Dead)) if retried => on_dead(state, &job, last_error).await,
        Ok(_) => {}
        Err(digitoll_store::Error::LeaseLost { .. }) => {
            tracing::warn!(job = %job.id, "lease lost; another worker owns this job now");
        }
        Err(e) => tracing::error!(job = %job.id, error = %e, "cannot record the job's outcome"),
    }
}

/// A job was dead-lettered by the retry bound: settle its message.
async fn on_dead(state: &GatewayState, job: &Job, last_error: String) {
    let Some(mid) = job.message_id else { return };
    if job.kind == JobKind::WebhookDelivery {
        return;
    }
    let detail = format!(
        "dead-lettered after {} attempts: {last_error}",
        job.attempts
    );
    settle(
        state,
        job,
        mid,
        Transition::to(MessageState::Dead).detail(detail.clone()),
        "message.dead",
    )
    .await;
}

/// Applies a state change and emits its webhook event; a conflict (the
/// message already moved on, e.g. a duplicate poll) is not an error.
async fn settle(
    state: &GatewayState,
    job: &Job,
    mid: digitoll_store::MessageId,
    t: Transition,
    event: &str,
) -> Option<Message> {
    let detail = t.detail.clone();
    match state.store().transition(job.tenant_id, mid, t).await {
        Ok(m) => {
            webhook::emit(state.store(), job.tenant_id, &m, event, detail.as_deref()).await;
            Some(m)
        }
        Err(digitoll_store::Error::Conflict(c)) => {
            tracing::info!(message = %mid, conflict = %c, "state already settled");
            None
        }
        Err(e) => {
            tracing::error!(message = %mid, error = %e, "cannot record state");
            None
        }
    }
}

fn parse_mode_kind(m: &Message) -> Result<(ApiMode, ApiKind), String> {
    Ok((m.api.parse()?, m.kind.parse()?))
}

/// How a client error is handled.
enum Class {
    Retryable {
        class: &'static str,
        retry_after: Option<Duration>,
    },
    Rejected(Value),
    Config(String),
    Ambiguous(String),
    Fatal,
}

/// Whether a Maskinporten failure is an outage (network, 5xx, 429), also
/// when wrapped in the client's own retries-exhausted error.
fn mp_retryable(e: &maskinporten::Error) -> bool {
    match e {
        maskinporten::Error::RetriesExhausted { last, .. } => mp_retryable(last),
        other => other.is_retryable(),
    }
}

fn classify(e: &ClientError) -> Class {
    match e {
        ClientError::Rejected { errors, .. } => {
            Class::Rejected(json!({ "validationErrors": errors }))
        }
        ClientError::Failed { errors, .. } => {
            Class::Rejected(json!({ "validationErrorList": errors }))
        }
        ClientError::Maskinporten(mp) if mp_retryable(mp) => Class::Retryable {
            class: "maskinporten",
            retry_after: None,
        },
        ClientError::Maskinporten(mp) => Class::Config(
            match (mp.mp_code(), mp.maskinporten().and_then(|m| m.hint())) {
                (Some(code), Some(hint)) => format!("Maskinporten {}: {hint}", code.as_str()),
                (Some(code), None) => format!("Maskinporten {}: {mp}", code.as_str()),
                _ => format!("Maskinporten: {mp}"),
            },
        ),
        ClientError::Unauthorized { .. } | ClientError::Forbidden { .. } => {
            Class::Config(e.to_string())
        }
        ClientError::Transport { .. } => Class::Retryable {
            class: "network",
            retry_after: None,
        },
        ClientError::UnexpectedStatus {
            status,
            retry_after,
            ..
        } if *status == 429 || *status >= 500 => Class::Retryable {
            class: if *status == 429 {
                "rate_limited"
            } else {
                "http_5xx"
            },
            retry_after: *retry_after,
        },
        ClientError::Ambiguous(ctx) => Class::Ambiguous(format!(
            "{} {}: {}{}",
            ctx.method,
            ctx.path,
            ctx.cause,
            ctx.reconciliation
                .as_ref()
                .map(|r| format!("; {r}"))
                .unwrap_or_default()
        )),
        ClientError::InvalidResponse { .. } => Class::Ambiguous(e.to_string()),
        _ => Class::Fatal,
    }
}

async fn runtime(state: &GatewayState, job: &Job) -> Result<Arc<TenantRuntime>, Outcome> {
    match state.runtimes().get(job.tenant_id).await {
        Ok(rt) => Ok(rt),
        Err(RuntimeError::Store(e @ digitoll_store::Error::Database { .. })) => {
            Err(Outcome::Retry {
                error: e.to_string(),
                retry_after: None,
            })
        }
        Err(e) => Err(Outcome::Fatal {
            error: e.to_string(),
        }),
    }
}

/// The tenant's runtime; for a strict message, rebuilt first when its
/// clients' rule severities differ from the tenant's current ones (a profile
/// changed by another process), so the client's second check uses the same
/// severities as the API's (within the API's own cache TTL).
async fn strict_runtime(
    state: &GatewayState,
    job: &Job,
    mode: ValidationMode,
) -> Result<Arc<TenantRuntime>, Outcome> {
    let rt = runtime(state, job).await?;
    if mode != ValidationMode::Strict {
        return Ok(rt);
    }
    let current = state.auth().tenant(job.tenant_id).await.ok();
    match current.as_ref().and_then(|f| f.validation.as_ref().ok()) {
        Some(v) if v.rules != rt.rules => {
            tracing::info!(tenant = %job.tenant_id, "contract profile changed; rebuilding the tenant's clients");
            state.runtimes().invalidate(job.tenant_id).await;
            runtime(state, job).await
        }
        _ => Ok(rt),
    }
}

fn record_attempt(tenant: &str, api: &str, outcome: &'static str) {
    metrics::counter!(
        "digitoll_gateway_attempts_total",
        "tenant" => tenant.to_owned(),
        "api" => api.to_owned(),
        "outcome" => outcome
    )
    .increment(1);
}

async fn submit(state: &GatewayState, job: &Job) -> Outcome {
    let store = state.store();
    let tenant = job.tenant_id;
    let Some(mid) = job.message_id else {
        return Outcome::Fatal {
            error: "submit job without a message".into(),
        };
    };
    let msg = match store.message(tenant, mid).await {
        Ok(m) => m,
        Err(e @ digitoll_store::Error::NotFound { .. }) => {
            return Outcome::Fatal {
                error: e.to_string(),
            };
        }
        Err(e) => {
            return Outcome::Retry {
                error: e.to_string(),
                retry_after: None,
            };
        }
    };
    if !matches!(
        msg.state,
        MessageState::Received
            | MessageState::Queued
            | MessageState::Failed
            | MessageState::Sending
    ) {
        // Already sent and recorded (a stale claim after a crash): nothing to do.
        return Outcome::Done;
    }
    let (mode, kind) = match parse_mode_kind(&msg) {
        Ok(x) => x,
        Err(error) => return Outcome::Fatal { error },
    };
    let rt = match strict_runtime(state, job, msg.validation_mode).await {
        Ok(rt) => rt,
        Err(Outcome::Fatal { error }) => {
            settle(
                state,
                job,
                mid,
                Transition::to(MessageState::Failed).detail(format!("tenant setup: {error}")),
                "message.failed",
            )
            .await;
            return Outcome::Fatal { error };
        }
        Err(o) => return o,
    };
    let client = rt.client_for(mode.client_mode(), msg.validation_mode);
    let interrupted = msg.state == MessageState::Sending;
    let (target_mrn, body) = split_envelope(&msg);

    // An earlier attempt was interrupted after it may have reached Toll
    // (the worker died or lost its lease while sending): never re-post blindly.
    if interrupted && msg.operation == Operation::Create {
        match crate::message::document_key(kind, &body) {
            Some(key) => {
                let found = match kind {
                    ApiKind::Master => client.lookup_master(&key).await,
                    _ => client.lookup_house(&key).await,
                };
                match found {
                    Ok(lookup) => {
                        if let Some(mrn) = lookup.mrn {
                            settle(
                                state,
                                job,
                                mid,
                                Transition::to(MessageState::Accepted)
                                    .mrn(mrn.as_str())
                                    .detail("reconciled after an interrupted send: Toll has the message; not re-sent"),
                                "message.accepted",
                            )
                            .await;
                            return Outcome::Done;
                        }
                    }
                    Err(ClientError::NotFound { .. }) => {}
                    Err(e) => {
                        return Outcome::Retry {
                            error: format!("lookup before resending an interrupted send: {e}"),
                            retry_after: None,
                        };
                    }
                }
            }
            None => {
                let detail = "needs attention: an earlier send was interrupted and its outcome is unknown; Toll has no lookup for this message, so it was not re-sent. Check at Toll, then retry or cancel the job.";
                settle(
                    state,
                    job,
                    mid,
                    Transition::to(MessageState::Dead).detail(detail),
                    "message.needs_attention",
                )
                .await;
                return Outcome::Fatal {
                    error: detail.into(),
                };
            }
        }
    }

    if let Err(e) = store
        .transition(
            tenant,
            mid,
            Transition::to(MessageState::Sending).detail(format!("attempt {}", job.attempts)),
        )
        .await
    {
        return match e {
            digitoll_store::Error::Conflict(_) => Outcome::Done,
            e => Outcome::Retry {
                error: e.to_string(),
                retry_after: None,
            },
        };
    }
    let attempt_no = match store.begin_attempt(tenant, mid, Some(job.id)).await {
        Ok(n) => n,
        Err(e) => {
            return Outcome::Retry {
                error: e.to_string(),
                retry_after: None,
            };
        }
    };
    let started = Instant::now();
    let doc = kind.document_kind();
    let result: Result<Submission, ClientError> = match msg.operation {
        Operation::Create => client.submit_raw(doc, &body).await,
        Operation::Update | Operation::Delete => match target_mrn.as_deref().map(Mrn::parse) {
            Some(Ok(mrn)) => {
                let r = if msg.operation == Operation::Update {
                    client.update_raw(doc, &mrn, &body).await
                } else {
                    client.delete_raw(doc, &mrn, &body).await
                };
                r.map(|request_id| Submission::Accepted {
                    request_id,
                    resent: false,
                })
            }
            _ => Err(ClientError::InvalidInput {
                field: "mrn".into(),
                reason: "the stored update has no valid target MRN".into(),
            }),
        },
    };
    metrics::histogram!("digitoll_gateway_toll_submit_seconds", "api" => mode.as_str())
        .record(started.elapsed().as_secs_f64());
    let tenant_label = tenant.to_string();
    let finish = |outcome: &str, http: Option<u16>, class: Option<&str>, text: Option<String>| {
        AttemptResult {
            outcome: outcome.into(),
            http_status: http,
            error_class: class.map(Into::into),
            error_text: text,
        }
    };
    match result {
        Ok(Submission::Accepted { request_id, resent }) => {
            record_attempt(&tenant_label, mode.as_str(), "accepted");
            let _ = store
                .finish_attempt(tenant, mid, attempt_no, finish("ok", Some(202), None, None))
                .await;
            let detail = if resent {
                format!(
                    "requestId {request_id} (sent again after a lost response and a lookup that found nothing)"
                )
            } else {
                format!("requestId {request_id}")
            };
            // Enqueue the poll before recording the state: a crash in between
            // leaves a duplicate poll (harmless), never none.
            if let Err(e) = enqueue_poll(state, job, &request_id, doc, 0).await {
                return Outcome::Retry {
                    error: format!("enqueue poll: {e}"),
                    retry_after: None,
                };
            }
            if let Err(e) = store
                .transition(
                    tenant,
                    mid,
                    Transition::to(MessageState::Submitted)
                        .request_id(request_id.to_string())
                        .detail(detail),
                )
                .await
            {
                tracing::warn!(message = %mid, error = %e, "cannot record submitted state");
            }
            Outcome::Done
        }
        Ok(Submission::Reconciled(lookup)) => {
            record_attempt(&tenant_label, mode.as_str(), "reconciled");
            let _ = store
                .finish_attempt(
                    tenant,
                    mid,
                    attempt_no,
                    finish("reconciled", None, Some("lost_response"), None),
                )
                .await;
            match lookup.mrn {
                Some(mrn) => {
                    settle(
                        state,
                        job,
                        mid,
                        Transition::to(MessageState::Accepted)
                            .mrn(mrn.as_str())
                            .detail("the POST's response was lost; a lookup found the message at Toll (not re-sent)"),
                        "message.accepted",
                    )
                    .await;
                    Outcome::Done
                }
                None => {
                    let detail = "needs attention: the POST's response was lost; Toll has the document but reported no MRN";
                    settle(
                        state,
                        job,
                        mid,
                        Transition::to(MessageState::Dead).detail(detail),
                        "message.needs_attention",
                    )
                    .await;
                    Outcome::Fatal {
                        error: detail.into(),
                    }
                }
            }
        }
        Err(e) => {
            let text = e.to_string();
            let http = match &e {
                ClientError::UnexpectedStatus { status, .. } => Some(*status),
                ClientError::Rejected { .. } => Some(400),
                _ => None,
            };
            match classify(&e) {
                Class::Retryable { class, retry_after } => {
                    record_attempt(&tenant_label, mode.as_str(), "retryable");
                    let _ = store
                        .finish_attempt(
                            tenant,
                            mid,
                            attempt_no,
                            finish("retryable", http, Some(class), Some(text.clone())),
                        )
                        .await;
                    let _ = store
                        .transition(
                            tenant,
                            mid,
                            Transition::to(MessageState::Queued)
                                .detail(format!("retrying after {class}: {text}")),
                        )
                        .await;
                    Outcome::Retry {
                        error: text,
                        retry_after,
                    }
                }
                Class::Rejected(errors) => {
                    record_attempt(&tenant_label, mode.as_str(), "rejected");
                    let _ = store
                        .finish_attempt(
                            tenant,
                            mid,
                            attempt_no,
                            finish("rejected", http, Some("validation"), Some(text.clone())),
                        )
                        .await;
                    settle(
                        state,
                        job,
                        mid,
                        Transition::to(MessageState::Rejected)
                            .validation_errors(errors)
                            .detail(text),
                        "message.rejected",
                    )
                    .await;
                    Outcome::Done
                }
                Class::Config(hint) => {
                    record_attempt(&tenant_label, mode.as_str(), "config_error");
                    let _ = store
                        .finish_attempt(
                            tenant,
                            mid,
                            attempt_no,
                            finish("fatal", http, Some("configuration"), Some(hint.clone())),
                        )
                        .await;
                    // A rotated key or fixed client is picked up by the next build.
                    state.runtimes().invalidate(tenant).await;
                    settle(
                        state,
                        job,
                        mid,
                        Transition::to(MessageState::Failed).detail(hint.clone()),
                        "message.failed",
                    )
                    .await;
                    Outcome::Fatal { error: hint }
                }
                Class::Ambiguous(detail) => {
                    record_attempt(&tenant_label, mode.as_str(), "ambiguous");
                    let _ = store
                        .finish_attempt(
                            tenant,
                            mid,
                            attempt_no,
                            finish("ambiguous", http, Some("ambiguous"), Some(detail.clone())),
                        )
                        .await;
                    let detail = format!(
                        "needs attention: the outcome at Toll is unknown and the message was not re-sent ({detail}). Check at Toll, then retry or cancel the job."
                    );
                    settle(
                        state,
                        job,
                        mid,
                        Transition::to(MessageState::Dead).detail(detail.clone()),
                        "message.needs_attention",
                    )
                    .await;
                    Outcome::Fatal { error: detail }
                }
                Class::Fatal => {
                    record_attempt(&tenant_label, mode.as_str(), "fatal");
                    let _ = store
                        .finish_attempt(
                            tenant,
                            mid,
                            attempt_no,
                            finish("fatal", http, Some(e.label()), Some(text.clone())),
                        )
                        .await;
                    settle(
                        state,
                        job,
                        mid,
                        Transition::to(MessageState::Failed).detail(text.clone()),
                        "message.failed",
                    )
                    .await;
                    Outcome::Fatal { error: text }
                }
            }
        }
    }
}

/// Update and delete messages are stored as `{"mrn", "message"}`; creates as the body itself.
pub(crate) fn split_envelope(m: &Message) -> (Option<String>, Value) {
    match m.operation {
        Operation::Create => (None, m.body.clone()),
        _ => (
            m.body.get("mrn").and_then(Value::as_str).map(str::to_owned),
            m.body.get("message").cloned().unwrap_or(Value::Null),
        ),
    }
}

async fn enqueue_poll(
    state: &GatewayState,
    job: &Job,
    request_id: &RequestId,
    doc: DocumentKind,
    polls: u32,
) -> Result<(), digitoll_store::Error> {
    let cfg = &state.config().workers;
    let delay = if polls == 0 {
        cfg.poll_first_delay
    } else {
        cfg.poll_first_delay
            .saturating_mul(1u32 << polls.min(10))
            .min(cfg.poll_max_interval)
    };
    state
        .store()
        .enqueue(NewJob {
            tenant_id: job.tenant_id,
            message_id: job.message_id,
            kind: JobKind::PollStatus,
            payload: Some(json!({
                "request_id": request_id.to_string(),
                "kind": doc.path_segment(),
                "polls": polls,
            })),
            delay: Some(delay),
            max_attempts: None,
        })
        .await?;
    state.wake_workers_after(delay);
    Ok(())
}

async fn poll(state: &GatewayState, job: &Job) -> Outcome {
    let store = state.store();
    let tenant = job.tenant_id;
    let Some(mid) = job.message_id else {
        return Outcome::Fatal {
            error: "poll job without a message".into(),
        };
    };
    let payload = job.payload.clone().unwrap_or(Value::Null);
    let rid = payload
        .get("request_id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<RequestId>().ok());
    let doc = match payload.get("kind").and_then(Value::as_str) {
        Some("transport") => Some(DocumentKind::Transport),
        Some("master-consignment") => Some(DocumentKind::MasterConsignment),
        Some("house-consignment") => Some(DocumentKind::HouseConsignment),
        _ => None,
    };
    let polls = payload.get("polls").and_then(Value::as_u64).unwrap_or(0) as u32;
    let (Some(rid), Some(doc)) = (rid, doc) else {
        return Outcome::Fatal {
            error: "poll job payload lacks request_id or kind".into(),
        };
    };
    let msg = match store.message(tenant, mid).await {
        Ok(m) => m,
        Err(e) => {
            return Outcome::Retry {
                error: e.to_string(),
                retry_after: None,
            };
        }
    };
    if msg.state != MessageState::Submitted {
        return Outcome::Done;
    }
    let mode: ApiMode = match msg.api.parse() {
        Ok(m) => m,
        Err(error) => return Outcome::Fatal { error },
    };
    let rt = match runtime(state, job).await {
        Ok(rt) => rt,
        Err(o) => return o,
    };
    let client = rt.client(mode.client_mode());
    match client.validation_status(doc, &rid).await {
        Ok(None) => {
            if polls + 1 >= state.config().workers.max_polls {
                settle(
                    state,
                    job,
                    mid,
                    Transition::to(MessageState::Failed)
                        .expect_from(MessageState::Submitted)
                        .detail(format!(
                            "Toll had no validation result for request {rid} after {} polls",
                            polls + 1
                        )),
                    "message.failed",
                )
                .await;
                return Outcome::Done;
            }
            match enqueue_poll(state, job, &rid, doc, polls + 1).await {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Retry {
                    error: format!("enqueue poll: {e}"),
                    retry_after: None,
                },
            }
        }
        Ok(Some(status)) => match &status.status {
            ProcessingStatus::Success => {
                let mrn = status
                    .mrn
                    .as_ref()
                    .map(ToString::to_string)
                    .or_else(|| split_envelope(&msg).0);
                let mut t =
                    Transition::to(MessageState::Accepted).expect_from(MessageState::Submitted);
                if let Some(mrn) = &mrn {
                    t = t.mrn(mrn.clone());
                }
                if !status.incomplete_documentation_reason_list.is_empty() {
                    t = t
                        .validation_errors(json!({
                            "incompleteDocumentationReasonList": status.incomplete_documentation_reason_list
                        }))
                        .detail("accepted as INCOMPLETE");
                } else {
                    t = t.detail("accepted");
                }
                settle(state, job, mid, t, "message.accepted").await;
                Outcome::Done
            }
            ProcessingStatus::Failure => {
                settle(
                    state,
                    job,
                    mid,
                    Transition::to(MessageState::Rejected)
                        .expect_from(MessageState::Submitted)
                        .validation_errors(
                            json!({ "validationErrorList": status.validation_error_list }),
                        )
                        .detail("Toll's validation failed"),
                    "message.rejected",
                )
                .await;
                Outcome::Done
            }
            // Toll answered, but its status could not be read (an unknown
            // status word, or a body that did not parse: `status.unparsed`
            // keeps it raw). The outcome at Toll is unknown, so this is
            // neither a rejection nor a reason to stop: poll again within
            // the poll budget, then fail the message with Toll's body kept
            // for the operator.
            ProcessingStatus::Other(other) => {
                let why = match &status.unparsed {
                    Some(u) => format!("Toll's validation status could not be read: {}", u.error),
                    None => format!("Toll answered an unknown validation status {other:?}"),
                };
                tracing::warn!(message = %mid, request_id = %rid, "{why}");
                if polls + 1 >= state.config().workers.max_polls {
                    let raw = status.unparsed.as_ref().map(|u| {
                        json!({ "httpStatus": u.http_status, "body": u.body, "error": u.error })
                    });
                    settle(
                        state,
                        job,
                        mid,
                        Transition::to(MessageState::Failed)
                            .expect_from(MessageState::Submitted)
                            .validation_errors(json!({
                                "status": other,
                                "unparsedTollResponse": raw,
                            }))
                            .detail(format!("{why} (after {} polls)", polls + 1)),
                        "message.failed",
                    )
                    .await;
                    return Outcome::Done;
                }
                match enqueue_poll(state, job, &rid, doc, polls + 1).await {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::Retry {
                        error: format!("enqueue poll: {e}"),
                        retry_after: None,
                    },
                }
            }
        },
        Err(e) => match classify(&e) {
            Class::Retryable { retry_after, .. } => Outcome::Retry {
                error: e.to_string(),
                retry_after,
            },
            _ => Outcome::Retry {
                error: e.to_string(),
                retry_after: None,
            },
        },
    }
}

async fn deliver(state: &GatewayState, job: &Job) -> Outcome {
    let store = state.store();
    let tenant = job.tenant_id;
    let Some(did) = job
        .payload
        .as_ref()
        .and_then(|p| p.get("delivery_id"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<digitoll_store::DeliveryId>().ok())
    else {
        return Outcome::Fatal {
            error: "webhook job without delivery_id".into(),
        };
    };
    // The delivery the job names, then its subscription (url, enabled).
    let delivery = match store.webhook_delivery(tenant, did).await {
        Ok(d) => d,
        // The subscription was deleted (with its deliveries).
        Err(digitoll_store::Error::NotFound { .. }) => return Outcome::Done,
        Err(e) => {
            return Outcome::Retry {
                error: e.to_string(),
                retry_after: None,
            };
        }
    };
    let hook = match store.webhooks(tenant).await {
        Ok(hooks) => hooks.into_iter().find(|h| h.id == delivery.subscription_id),
        Err(e) => {
            return Outcome::Retry {
                error: e.to_string(),
                retry_after: None,
            };
        }
    };
    let Some(hook) = hook else {
        return Outcome::Done;
    };
    if !hook.enabled {
        return Outcome::Done;
    }
    let secret = match store.webhook_secret(tenant, hook.id).await {
        Ok(s) => s,
        Err(e) => {
            return Outcome::Fatal {
                error: e.to_string(),
            };
        }
    };
    let body = match serde_json::to_vec(&delivery.payload) {
        Ok(b) => b,
        Err(e) => {
            return Outcome::Fatal {
                error: e.to_string(),
            };
        }
    };
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let sig = webhook::sign(secrecy::ExposeSecret::expose_secret(&secret), ts, &body);
    let res = state
        .http()
        .post(&hook.url)
        .timeout(state.config().workers.webhook_timeout)
        .header("content-type", "application/json")
        .header(webhook::SIGNATURE_HEADER, sig)
        .header(webhook::EVENT_HEADER, &delivery.event)
        .header(webhook::DELIVERY_HEADER, delivery.id.to_string())
        .body(body)
        .send()
        .await;
    let (status, text) = match res {
        Ok(r) => {
            let status = r.status().as_u16();
            let text: String = r
                .text()
                .await
                .unwrap_or_default()
                .chars()
                .take(500)
                .collect();
            (Some(status), text)
        }
        Err(e) => (None, format!("request failed: {e}")),
    };
    metrics::counter!("digitoll_gateway_webhook_deliveries_total",
        "outcome" => if status.is_some_and(|s| (200..300).contains(&s)) { "delivered" } else { "failed" })
    .increment(1);
    if status.is_some_and(|s| (200..300).contains(&s)) {
        let _ = store
            .record_webhook_delivery(
                tenant,
                did,
                digitoll_store::DeliveryStatus::Delivered,
                status,
                Some(&text),
            )
            .await;
        return Outcome::Done;
    }
    let last = job.attempts >= job.max_attempts;
    let _ = store
        .record_webhook_delivery(
            tenant,
            did,
            if last {
                digitoll_store::DeliveryStatus::Failed
            } else {
                digitoll_store::DeliveryStatus::Pending
            },
            status,
            Some(&text),
        )
        .await;
    Outcome::Retry {
        error: format!(
            "webhook {} answered {}",
            hook.url,
            status.map_or_else(|| "nothing".to_owned(), |s| s.to_string())
        ),
        retry_after: None,
    }
}
