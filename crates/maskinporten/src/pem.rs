//! A minimal RFC 7468 PEM reader: enough for keys and certificates, with
//! buffers that are wiped when dropped.

use base64::Engine;
use zeroize::Zeroizing;

/// One decoded PEM block.
pub(crate) struct PemBlock {
    pub(crate) label: String,
    pub(crate) der: Zeroizing<Vec<u8>>,
    /// RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED` (legacy OpenSSL encryption).
    pub(crate) has_headers: bool,
}

/// Decodes every PEM block in `input`. Text outside blocks is ignored, as
/// OpenSSL does (e.g. "Bag Attributes" lines written by `openssl pkcs12`).
pub(crate) fn parse_all(input: &[u8]) -> Result<Vec<PemBlock>, String> {
    let text = std::str::from_utf8(input).map_err(|_| "the file is not UTF-8 text".to_owned())?;
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((lineno, line)) = lines.next() {
        let line = line.trim();
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let label = label.to_owned();
        let end = format!("-----END {label}-----");
        let mut body = Zeroizing::new(String::new());
        let mut has_headers = false;
        let mut closed = false;
        for (_, line) in lines.by_ref() {
            let line = line.trim();
            if line == end {
                closed = true;
                break;
            }
            if line.contains(':') {
                has_headers = true;
                continue;
            }
            body.push_str(line);
        }
        if !closed {
            return Err(format!(
                "PEM block '{label}' starting on line {} has no END line",
                lineno + 1
            ));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| {
                format!(
                    "PEM block '{label}' starting on line {} is not valid base64: {e}",
                    lineno + 1
                )
            })?;
        blocks.push(PemBlock {
            label,
            der: Zeroizing::new(der),
            has_headers,
        });
    }
    Ok(blocks)
}

/// Encodes DER as PEM with 64-character lines.
pub(crate) fn encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(der));
    let mut out = Zeroizing::new(String::with_capacity(b64.len() + b64.len() / 64 + 64));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bag_attributes() {
        let der = (0u8..=200).collect::<Vec<_>>();
        let pem = encode("CERTIFICATE", &der);
        let with_noise = format!("Bag Attributes\n    localKeyID: 01 02\n{}", pem.as_str());
        let blocks = parse_all(with_noise.as_bytes()).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "CERTIFICATE");
        assert_eq!(blocks[0].der.as_slice(), der.as_slice());
        assert!(!blocks[0].has_headers);
    }

    #[test]
    fn unterminated_block_is_an_error() {
        let err = parse_all(b"-----BEGIN PRIVATE KEY-----\nAAAA\n")
            .err()
            .unwrap();
        assert!(err.contains("no END line"), "{err}");
    }
}
