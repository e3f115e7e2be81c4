//! `[response_fields]` of the contract profile: JSON key renames applied to
//! every body the Toll APIs answer, to mimic a Toll that names a field
//! differently from our reading.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

/// Largest answer body renamed (the simulator's answers are small).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Renames the keys of a JSON answer, at every depth.
pub(super) async fn rename_fields(
    renames: Arc<BTreeMap<String, String>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    rename(&mut value, &renames);
    let out = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

fn rename(value: &mut Value, renames: &BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            let old = std::mem::take(map);
            for (key, mut v) in old {
                rename(&mut v, renames);
                let key = renames.get(&key).cloned().unwrap_or(key);
                map.insert(key, v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename(v, renames)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_renamed_at_every_depth() {
        let renames = BTreeMap::from([("mrn".to_owned(), "MRN".to_owned())]);
        let mut v = serde_json::json!({"mrn": "A", "list": [{"mrn": "B", "x": 1}]});
        rename(&mut v, &renames);
        assert_eq!(
            v,
            serde_json::json!({"MRN": "A", "list": [{"MRN": "B", "x": 1}]})
        );
    }
}
