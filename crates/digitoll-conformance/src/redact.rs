//! Redaction of secrets before anything is written to a transcript.
//!
//! What counts as a secret on these wires:
//! - headers `Authorization` (Maskinporten and Toll bearer tokens),
//!   `Cookie`, `Set-Cookie`, `Proxy-Authorization`, `X-Api-Key`;
//! - form fields `assertion` (the JWT grant, RFC 7523, Maskinporten's token
//!   request \[D docs.digdir.no `maskinporten_protocol_token`\]),
//!   `client_assertion`, `subject_token` (the Maskinporten token sent to
//!   Toll's token exchange \[D toll.github.io `api/access/...`\]),
//!   `client_secret`, `password`, `access_token`, `refresh_token`, `token`;
//! - the same names as JSON fields anywhere in a body (`access_token` in both
//!   token responses), plus a JWK's private members (`d`, `p`, `q`, `dp`,
//!   `dq`, `qi`) when the object has `kty`;
//! - in any text: compact JWS/JWT (three base64url parts starting `eyJ`) and
//!   PEM private-key blocks.

use digitoll_sim::RecordedBody;
use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

const SECRET_FIELDS: &[&str] = &[
    "assertion",
    "client_assertion",
    "subject_token",
    "client_secret",
    "password",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "private_key",
];

const JWK_PRIVATE: &[&str] = &["d", "p", "q", "dp", "dq", "qi"];

/// A header value, redacted when the header carries a credential
/// (`Bearer [REDACTED]` keeps the scheme).
pub fn header(name: &str, value: &str) -> String {
    if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_owned(),
        }
    } else {
        text(value)
    }
}

/// A decoded body with every secret field and token-looking text replaced.
pub fn body(body: RecordedBody) -> RecordedBody {
    match body {
        RecordedBody::Form(fields) => RecordedBody::Form(
            fields
                .into_iter()
                .map(|(k, v)| {
                    if is_secret_field(&k) {
                        (k, REDACTED.to_owned())
                    } else {
                        let v = text(&v);
                        (k, v)
                    }
                })
                .collect(),
        ),
        RecordedBody::Json(mut v) => {
            json(&mut v);
            RecordedBody::Json(v)
        }
        RecordedBody::Text(t) => RecordedBody::Text(text(&t)),
        other => other,
    }
}

fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.contains(&name.to_ascii_lowercase().as_str())
}

/// Redacts a JSON value in place.
pub fn json(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let is_jwk = map.contains_key("kty");
            for (k, child) in map.iter_mut() {
                if is_secret_field(k) || (is_jwk && JWK_PRIVATE.contains(&k.as_str())) {
                    *child = Value::String(REDACTED.to_owned());
                } else {
                    json(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(json),
        Value::String(s) => {
            let r = text(s);
            if r != *s {
                *s = r;
            }
        }
        _ => {}
    }
}

/// Replaces compact JWTs and PEM private-key blocks in free text.
pub fn text(s: &str) -> String {
    let s = pem_blocks(s);
    jwts(&s)
}

fn pem_blocks(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("-----BEGIN") {
        let header_end = rest[start..].find('\n').map(|i| start + i);
        let is_private = header_end.is_some_and(|e| rest[start..e].contains("PRIVATE KEY"));
        let end = rest[start..]
            .find("-----END")
            .and_then(|e| rest[start + e..].find("-----\n").map(|x| start + e + x + 6))
            .or_else(|| rest[start..].find("-----END").map(|_| rest.len()));
        match (is_private, end) {
            (true, Some(end)) => {
                out.push_str(&rest[..start]);
                out.push_str(REDACTED);
                rest = &rest[end.min(rest.len())..];
            }
            _ => {
                out.push_str(&rest[..start + 10]);
                rest = &rest[start + 10..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn jwts(s: &str) -> String {
    if !s.contains("eyJ") {
        return s.to_owned();
    }
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i] == 'e'
            && chars.get(i + 1) == Some(&'y')
            && chars.get(i + 2) == Some(&'J')
            && (i == 0 || !is_b64(chars[i - 1]));
        if starts {
            // base64url.base64url.base64url
            let mut j = i;
            let mut dots = 0;
            while j < chars.len() && (is_b64(chars[j]) || (chars[j] == '.' && dots < 2)) {
                if chars[j] == '.' {
                    dots += 1;
                }
                j += 1;
            }
            if dots == 2 && j - i > 20 {
                out.push_str(REDACTED);
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_headers_forms_json_and_text_are_replaced() {
        assert_eq!(header("Authorization", "Bearer abc"), "Bearer [REDACTED]");
        assert_eq!(header("content-type", "text/plain"), "text/plain");
        let form = body(RecordedBody::Form(vec![
            ("grant_type".into(), "jwt-bearer".into()),
            ("assertion".into(), "eyJhbGciOi.eyJpc3Mi.c2ln".into()),
        ]));
        assert_eq!(form.form_value("assertion"), Some(REDACTED));
        assert_eq!(form.form_value("grant_type"), Some("jwt-bearer"));
        let mut v = serde_json::json!({"access_token": "x", "nested": [{"token": "y"}],
            "jwk": {"kty": "RSA", "n": "abc", "d": "secret"}, "ok": "keep"});
        json(&mut v);
        assert_eq!(v["access_token"], REDACTED);
        assert_eq!(v["nested"][0]["token"], REDACTED);
        assert_eq!(v["jwk"]["d"], REDACTED);
        assert_eq!(v["jwk"]["n"], "abc");
        assert_eq!(v["ok"], "keep");
        let t = text("token eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl here");
        assert_eq!(t, "token [REDACTED] here");
        let pem = "a\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\nb";
        assert_eq!(text(pem), "a\n[REDACTED]b");
        let cert = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
        assert_eq!(text(cert), cert);
    }
}
