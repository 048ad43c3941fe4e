//! The oximl header (the JSON object in the safetensors metadata) and its checksum.
//!
//! Version 2 (written now): the checksum is the XXH3-64 of the header text up to and including `"checksum":`
//! (the checksum field is written last) followed by every tensor's name, dtype, shape and bytes in name order, so a
//! changed byte in the config, the kind, the version or any tensor is caught. Version 1 files (older oximl) carry
//! a checksum of the tensors only; they still load.

use super::{DType, FORMAT, METADATA_KEY, TensorRef, VERSION};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use xxhash_rust::xxh3::Xxh3Default;

/// The oximl header, in the order it is written (`checksum` last: the checksum covers everything before it).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Header {
    pub(super) format: String,
    pub(super) version: u32,
    pub(super) kind: String,
    pub(super) config: Value,
    pub(super) checksum: String,
}

/// A tensor as the checksum sees it: name, dtype, shape, bytes.
pub(super) type Part<'b> = (&'b str, DType, &'b [usize], &'b [u8]);

/// XXH3-64 (hex) of the signed header text (version 2; `None` for version 1) then the tensors in name order; every
/// part is preceded by its length (little-endian `u64`), so `("ab", "c")` and `("a", "bc")` differ.
pub(super) fn checksum<'b>(signed_header: Option<&str>, tensors: impl Iterator<Item = Part<'b>>) -> String {
    let sorted: BTreeMap<&str, (DType, &[usize], &[u8])> = tensors.map(|(n, d, s, b)| (n, (d, s, b))).collect();
    let mut h = Xxh3Default::new();
    let mut part = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    if let Some(text) = signed_header {
        part(text.as_bytes());
    }
    for (name, (dtype, shape, bytes)) in sorted {
        part(name.as_bytes());
        part(dtype.name().as_bytes());
        let dims: Vec<u8> = shape.iter().flat_map(|&d| (d as u64).to_le_bytes()).collect();
        part(&dims);
        part(bytes);
    }
    format!("{:016x}", h.digest())
}

/// The safetensors metadata of a new file: the version-2 header of `kind`, `config` and `tensors`, checksummed.
/// Refuses an empty kind, a tensor name given twice and data that does not fill its shape.
pub(super) fn metadata(
    kind: &str,
    config: &Value,
    tensors: &[(&str, TensorRef<'_>)],
) -> Result<HashMap<String, String>> {
    if kind.is_empty() {
        return Err(Error::invalid("kind", "must not be empty"));
    }
    let mut seen = HashSet::new();
    for (name, t) in tensors {
        if !seen.insert(*name) {
            return Err(Error::invalid("tensors", format!("tensor name `{name}` appears twice")));
        }
        let elements = t.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if elements.and_then(|e| e.checked_mul(t.dtype.size())) != Some(t.data.len()) {
            return Err(Error::shape(
                format!("{} bytes for tensor `{name}`", t.data.len()),
                format!("shape {:?} of {}", t.shape, t.dtype.name()),
            ));
        }
    }
    let unsigned = Header {
        format: FORMAT.into(),
        version: VERSION,
        kind: kind.into(),
        config: config.clone(),
        checksum: String::new(),
    };
    let text = serde_json::to_string(&unsigned).map_err(|e| Error::invalid("config", e.to_string()))?;
    let signed =
        text.strip_suffix("\"\"}").ok_or_else(|| Error::Format("header does not end in its checksum".into()))?;
    let sum = checksum(Some(signed), tensors.iter().map(|(n, t)| (*n, t.dtype, &t.shape[..], &t.data[..])));
    Ok(HashMap::from([(METADATA_KEY.to_string(), format!("{signed}\"{sum}\"}}"))]))
}

/// Parses the header text `raw` of a file: format, a known version, the fields (no unknown ones); returns it with
/// the part its checksum signs (version 2 and later).
pub(super) fn parse(raw: &str) -> Result<(Header, Option<&str>)> {
    let head: Value =
        serde_json::from_str(raw).map_err(|e| Error::Format(format!("oximl metadata is not valid JSON: {e}")))?;
    if head.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(Error::Format(format!("metadata `format` is not \"{FORMAT}\"")));
    }
    let version = head
        .get("version")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::Format("metadata has no integer `version`".into()))?;
    if version > u64::from(VERSION) {
        return Err(Error::Format(format!(
            "written by a newer oximl (file format version {version}); this build reads versions up to {VERSION}"
        )));
    }
    if version == 0 {
        return Err(Error::Format("file format version 0 does not exist".into()));
    }
    let header: Header = serde_json::from_value(head).map_err(|e| Error::Format(format!("oximl metadata: {e}")))?;
    let signed = match header.version {
        1 => None,
        _ => Some(
            raw.strip_suffix(&format!("\"{}\"}}", header.checksum))
                .filter(|s| s.ends_with("\"checksum\":"))
                .ok_or_else(|| Error::Format("oximl metadata does not end with its checksum".into()))?,
        ),
    };
    Ok((header, signed))
}
