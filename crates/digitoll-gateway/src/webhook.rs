//! Webhooks: event fan-out to subscriptions, HMAC-SHA256 signatures, and the
//! delivery call made by the worker.
//!
//! The signature header is `Digitoll-Signature: t=<unix seconds>,v1=<hex>`,
//! where `v1` is HMAC-SHA256 under the subscription's secret over
//! `"<t>.<raw body>"`, the scheme Stripe popularised: binding the timestamp
//! lets receivers refuse replays older than a few minutes.

use aws_lc_rs::hmac;
use digitoll_store::{Message, Store, TenantId};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "Digitoll-Signature";
/// The header naming the event.
pub const EVENT_HEADER: &str = "Digitoll-Event";
/// The header carrying the delivery id (stable across retries: deduplicate on it).
pub const DELIVERY_HEADER: &str = "Digitoll-Delivery";

/// Events a subscription can ask for (`*` or an empty list: all).
pub const EVENTS: &[&str] = &[
    "message.accepted",
    "message.rejected",
    "message.failed",
    "message.dead",
    "message.needs_attention",
    "routing_signal",
];

/// The header value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// Checks a signature header against `body`: the MAC must match (compared in
/// constant time) and `t` must be within `tolerance_secs` of `now`.
/// Receivers written in Rust can use this as is.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = Some(v.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now - t).abs() > tolerance_secs {
        return false;
    }
    let Some(given) = decode_hex(&v1) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut msg = t.to_string().into_bytes();
    msg.push(b'.');
    msg.extend_from_slice(body);
    hmac::verify(&key, &msg, &given).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether a subscription's event list includes `event`.
pub(crate) fn wants(events: &[String], event: &str) -> bool {
    events.is_empty() || events.iter().any(|e| e == "*" || e == event)
}

/// The payload of a message event.
pub(crate) fn message_event(event: &str, m: &Message, detail: Option<&str>) -> Value {
    json!({
        "event": event,
        "created_at": OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "data": {
            "message_id": m.id,
            "mode": m.api,
            "kind": m.kind,
            "operation": m.operation,
            "state": m.state,
            "mrn": m.mrn,
            "request_id": m.request_id,
            "document_number": m.document_number,
            "validation_errors": m.validation_errors,
            "validation_mode": m.validation_mode,
            "local_findings": m.local_findings.clone().unwrap_or_else(|| json!([])),
            "detail": detail,
        }
    })
}

/// Records a delivery (and its job) for every subscription of the tenant
/// that wants `event`. Failures are logged: a webhook must never undo the
/// state change it reports.
pub(crate) async fn emit(
    store: &Store,
    tenant: TenantId,
    m: &Message,
    event: &str,
    detail: Option<&str>,
) {
    let hooks = match store.webhooks(tenant).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(tenant = %tenant, error = %e, "cannot list webhooks; event not delivered");
            return;
        }
    };
    let payload = message_event(event, m, detail);
    for hook in hooks
        .iter()
        .filter(|h| h.enabled && wants(&h.events, event))
    {
        if let Err(e) = store
            .create_webhook_delivery(tenant, hook.id, Some(m.id), event, &payload)
            .await
        {
            tracing::warn!(tenant = %tenant, webhook = %hook.id, error = %e, "cannot record webhook delivery");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let h = sign("whsec_x", 1_700_000_000, b"{\"a\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert_eq!(h.len(), "t=1700000000,v1=".len() + 64);
        assert!(verify("whsec_x", &h, b"{\"a\":1}", 1_700_000_100, 300));
        assert!(!verify("whsec_y", &h, b"{\"a\":1}", 1_700_000_100, 300));
        assert!(!verify("whsec_x", &h, b"{\"a\":2}", 1_700_000_100, 300));
        assert!(!verify("whsec_x", &h, b"{\"a\":1}", 1_700_001_000, 300));
        assert!(!verify("whsec_x", "garbage", b"", 0, 300));
    }

    #[test]
    fn event_filter() {
        assert!(wants(&[], "message.accepted"));
        assert!(wants(&["*".into()], "message.dead"));
        assert!(wants(&["message.dead".into()], "message.dead"));
        assert!(!wants(&["message.dead".into()], "message.accepted"));
    }
}
