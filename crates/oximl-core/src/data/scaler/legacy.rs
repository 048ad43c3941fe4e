//! The JSON files older oximl wrote for scalers (`{"format": "oximl-scaler", "kind": ..., "version": 1,
//! "scaler": {...}}`): still read by `load` and `from_bytes`, never written.

use super::Fitted;
use crate::{Error, Result};
use serde::Deserialize;

/// The envelope of a former scaler file.
#[derive(Deserialize)]
struct Envelope {
    format: String,
    kind: String,
    version: u32,
    scaler: serde_json::Value,
}

const FORMAT: &str = "oximl-scaler";
const VERSION: u32 = 1;

/// The scaler in `bytes` if they are JSON (start with `{`), checking format, kind, version and content; `None`
/// for anything else (left to the oximl file format).
pub(super) fn from_json<T: Fitted>(bytes: &[u8]) -> Option<Result<T>> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let bad = |msg: String| Error::Format(format!("scaler JSON: {msg}"));
    Some((|| {
        let env: Envelope = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if env.format != FORMAT {
            return Err(bad(format!("format `{}`, expected `{FORMAT}`", env.format)));
        }
        if env.kind != T::LEGACY_KIND {
            return Err(bad(format!("a {} was saved here, not a {}", env.kind, T::LEGACY_KIND)));
        }
        if env.version > VERSION {
            return Err(bad(format!("version {} is newer than this library's {VERSION}", env.version)));
        }
        let scaler: T = serde_json::from_value(env.scaler).map_err(|e| bad(e.to_string()))?;
        scaler.validate().map_err(|e| match e {
            Error::Format(msg) => bad(msg),
            other => other,
        })?;
        Ok(scaler)
    })())
}
