//! Conversions shared by every handle: C strings, JSON options over the core's serde configs, arrays in and
//! out, handles and output slots, arrays of C strings in, ranked `(id, score)` lists out.

use ndarray::{ArrayView2, ArrayViewMut2};
use oximl_core::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ffi::{CStr, CString, c_char};
use std::mem::MaybeUninit;

pub(crate) fn text<'a>(name: &str, s: *const c_char) -> Result<&'a str> {
    if s.is_null() {
        return Err(Error::invalid(name, "NULL string"));
    }
    // SAFETY: the caller passes a NUL-terminated string that outlives the call.
    unsafe { CStr::from_ptr(s) }.to_str().map_err(|e| Error::invalid(name, format!("not UTF-8: {e}")))
}

pub(crate) fn json<T: for<'de> Deserialize<'de>>(name: &str, s: *const c_char) -> Result<T> {
    serde_json::from_str(text(name, s)?).map_err(|e| Error::invalid(name, format!("invalid JSON: {e}")))
}

/// Checks that `len` values of `T` at the non-NULL `p` can be a Rust slice at all: aligned for `T` and at most
/// `isize::MAX` bytes (what any allocation can hold). Anything else would be undefined behaviour to read.
fn sliceable<T>(name: &str, p: *const T, len: usize) -> Result<()> {
    if !p.is_aligned() {
        return Err(Error::invalid(name, format!("the pointer is not aligned to {} bytes", align_of::<T>())));
    }
    if len > isize::MAX as usize / size_of::<T>().max(1) {
        return Err(Error::invalid(name, format!("{len} values are more than any buffer can hold")));
    }
    Ok(())
}

/// A row-major `rows × cols` matrix over caller memory.
pub(crate) fn matrix<'a>(name: &str, data: *const f32, rows: usize, cols: usize) -> Result<ArrayView2<'a, f32>> {
    let len = rows.checked_mul(cols).ok_or_else(|| Error::invalid(name, "rows × cols overflows"))?;
    if data.is_null() {
        return Err(Error::invalid(name, "NULL array"));
    }
    sliceable(name, data, len)?;
    // SAFETY: checked by `sliceable`; the caller guarantees `rows * cols` readable floats at `data` for the duration of the call.
    let slice = unsafe { std::slice::from_raw_parts(data, len) };
    ArrayView2::from_shape((rows, cols), slice).map_err(|e| Error::invalid(name, e.to_string()))
}

/// A row-major output buffer of `rows × cols` floats inside one of `capacity` floats.
pub(crate) fn output<'a>(
    name: &str,
    out: *mut f32,
    capacity: usize,
    rows: usize,
    cols: usize,
) -> Result<ArrayViewMut2<'a, f32>> {
    let len = rows.checked_mul(cols).ok_or_else(|| Error::invalid(name, "rows × cols overflows"))?;
    if out.is_null() {
        return Err(Error::invalid(name, "NULL output buffer"));
    }
    if capacity < len {
        return Err(Error::invalid(name, format!("the buffer holds {capacity} floats, {len} are needed")));
    }
    sliceable(name, out, len)?;
    // SAFETY: checked by `sliceable`; the caller guarantees `capacity` writable floats at `out`, not aliased during the call.
    let slice = unsafe { std::slice::from_raw_parts_mut(out, len) };
    ArrayViewMut2::from_shape((rows, cols), slice).map_err(|e| Error::invalid(name, e.to_string()))
}

/// An opaque handle type of the C API. [`boxed`] hands it to C behind a tag (a number derived from `NAME`) that
/// [`handle`], [`handle_mut`] and [`release`] check first, so that a handle of another type passed by mistake (or,
/// most likely, a freed one) is refused with an error instead of being read as this type.
pub(crate) trait Handle {
    /// The C type name, for error messages.
    const NAME: &'static str;
    /// FNV-1a of [`Handle::NAME`]: distinct per type and never 0, the tag a released handle gets.
    const TAG: u64 = {
        let (name, mut hash, mut i) = (Self::NAME.as_bytes(), 0xcbf2_9ce4_8422_2325u64, 0);
        while i < name.len() {
            hash = (hash ^ name[i] as u64).wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        hash
    };
}

/// What a handle pointer points to: the tag first (at offset 0 whatever `T` is), then the value.
#[repr(C)]
struct Tagged<T> {
    tag: u64,
    value: T,
}

/// The tagged box behind a non-NULL handle pointer of type `T`, refused when the tag is not `T`'s.
fn tagged<T: Handle>(name: &str, p: *const T) -> Result<*mut Tagged<T>> {
    if p.is_null() {
        return Err(Error::invalid(name, "NULL handle"));
    }
    // SAFETY: by the caller's contract `p` came from `boxed` (of some handle type): every such allocation starts
    // with an aligned u64 tag, read here before anything is assumed about the rest.
    match unsafe { p.cast::<u64>().read() } == T::TAG {
        true => Ok(p.cast::<Tagged<T>>().cast_mut()),
        false => {
            Err(Error::invalid(name, format!("not an {} handle (another type of handle, or a freed one)", T::NAME)))
        }
    }
}

pub(crate) fn handle<'a, T: Handle>(name: &str, p: *const T) -> Result<&'a T> {
    // SAFETY: a live `Tagged<T>` (checked tag) that, by the caller's contract, outlives the call.
    Ok(unsafe { &(*tagged(name, p)?).value })
}

pub(crate) fn handle_mut<'a, T: Handle>(name: &str, p: *mut T) -> Result<&'a mut T> {
    // SAFETY: as `handle`, with exclusive access.
    Ok(unsafe { &mut (*tagged(name, p)?).value })
}

/// The caller's output slot, checked before anything is computed for it (so that nothing leaks).
pub(crate) fn out_slot<'a, T>(name: &str, out: *mut T) -> Result<&'a mut std::mem::MaybeUninit<T>> {
    sliceable(name, out, 1)?;
    // SAFETY: non-NULL and, by the caller's contract, writable; it may be uninitialized.
    unsafe { out.cast::<std::mem::MaybeUninit<T>>().as_mut() }
        .ok_or_else(|| Error::invalid(name, "NULL output pointer"))
}

pub(crate) fn write_out<T>(name: &str, out: *mut T, value: T) -> Result<()> {
    out_slot(name, out)?.write(value);
    Ok(())
}

/// The core config `T` from the caller's JSON object merged over `base` (objects merged key by key; NULL JSON =
/// `base` as is; no `base`: the JSON is required and `T`'s serde defaults fill the rest). A key that `T` does not
/// have is an error, so that a misspelt option is not silently ignored.
pub(crate) fn config<T: Serialize + DeserializeOwned>(name: &str, json: *const c_char, base: Option<&T>) -> Result<T> {
    merged(name, object(name, json, base.is_some())?, base)
}

/// The caller's JSON text parsed; NULL is `{}` when `optional`.
pub(crate) fn object(name: &str, json: *const c_char, optional: bool) -> Result<Value> {
    if json.is_null() && optional {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_str(text(name, json)?).map_err(|e| Error::invalid(name, format!("invalid JSON: {e}")))
}

/// [`config`] from an already parsed `patch`.
pub(crate) fn merged<T: Serialize + DeserializeOwned>(name: &str, patch: Value, base: Option<&T>) -> Result<T> {
    let bad = |reason: String| Error::invalid(name, reason);
    let mut value = match base {
        Some(b) => serde_json::to_value(b).map_err(|e| bad(e.to_string()))?,
        None => Value::Object(Default::default()),
    };
    merge(&mut value, &patch);
    let parsed: T = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    let back = serde_json::to_value(&parsed).map_err(|e| bad(e.to_string()))?;
    match unknown_key(&patch, &back) {
        Some(key) => Err(bad(format!("unknown option `{key}`"))),
        None => Ok(parsed),
    }
}

fn merge(dst: &mut Value, patch: &Value) {
    match (dst, patch) {
        (Value::Object(d), Value::Object(p)) => {
            for (k, v) in p {
                merge(d.entry(k.as_str()).or_insert(Value::Null), v);
            }
        }
        (d, p) => *d = p.clone(),
    }
}

/// The first key (dotted path) of `patch` absent from `known`.
fn unknown_key(patch: &Value, known: &Value) -> Option<String> {
    let (Value::Object(p), Value::Object(k)) = (patch, known) else { return None };
    p.iter().find_map(|(key, v)| match k.get(key) {
        None => Some(key.clone()),
        Some(inner) => unknown_key(v, inner).map(|sub| format!("{key}.{sub}")),
    })
}

/// Hands a new handle to C, tagged with its type.
pub(crate) fn boxed<T: Handle>(value: T, out: &mut MaybeUninit<*mut T>) {
    out.write(Box::into_raw(Box::new(Tagged { tag: T::TAG, value })).cast());
}

/// Releases a handle given by [`boxed`]; NULL is a no-op, and so is a pointer without `T`'s tag (a handle of
/// another type, or one already freed), which is left alone rather than freed as a `T`. The tag is zeroed first.
pub(crate) fn release<T: Handle>(p: *mut T) {
    if let Ok(tagged) = tagged("handle", p) {
        // SAFETY: created by `Box::into_raw` in `boxed` (checked tag) and, by contract, freed once.
        let mut tagged = unsafe { Box::from_raw(tagged) };
        // Volatile: a store to memory about to be freed could otherwise be dropped as dead.
        // SAFETY: a valid, exclusively owned u64.
        unsafe { std::ptr::write_volatile(&mut tagged.tag, 0) };
        let _ = crate::catch(move || drop(tagged));
    }
}

/// `n` UTF-8 strings from a C array of `n` pointers (NULL allowed when `n` is 0).
pub(crate) fn strings<'a>(name: &str, array: *const *const c_char, n: usize) -> Result<Vec<&'a str>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if array.is_null() {
        return Err(Error::invalid(name, "NULL array"));
    }
    sliceable(name, array, n)?;
    // SAFETY: checked by `sliceable`; the caller guarantees `n` readable pointers at `array` for the duration of the call.
    let ptrs = unsafe { std::slice::from_raw_parts(array, n) };
    ptrs.iter().enumerate().map(|(i, &p)| text(&format!("{name}[{i}]"), p)).collect()
}

/// `n` values from a C array (NULL allowed when `n` is 0).
pub(crate) fn values<'a, T>(name: &str, array: *const T, n: usize) -> Result<&'a [T]> {
    if n == 0 {
        return Ok(&[]);
    }
    if array.is_null() {
        return Err(Error::invalid(name, "NULL array"));
    }
    sliceable(name, array, n)?;
    // SAFETY: checked by `sliceable`; the caller guarantees `n` readable values at `array` for the duration of the call.
    Ok(unsafe { std::slice::from_raw_parts(array, n) })
}

/// NUL-terminated copies of a handle's ids, so that results can hand out `const char *` valid as long as the
/// handle.
pub(crate) struct CIds(Vec<CString>);

impl CIds {
    pub(crate) fn new(ids: &[String]) -> Result<CIds> {
        ids.iter()
            .map(|s| {
                CString::new(s.as_str()).map_err(|_| Error::invalid("ids", format!("id {s:?} contains a NUL byte")))
            })
            .collect::<Result<_>>()
            .map(CIds)
    }

    pub(crate) fn get(&self, index: Option<usize>) -> Result<*const c_char> {
        index
            .and_then(|i| self.0.get(i))
            .map(|s| s.as_ptr())
            .ok_or_else(|| Error::invalid("id", "result id missing from the handle's id table (please report)"))
    }
}

/// The caller's buffers for up to `needed` ranked `(id, score)` entries, checked before any work: `ids` and
/// `scores` hold `capacity` entries each. When they are NULL or too small, `written` receives `needed`.
pub(crate) struct Ranked<'a> {
    ids: &'a mut [*const c_char],
    scores: &'a mut [f32],
    written: &'a mut MaybeUninit<usize>,
}

impl<'a> Ranked<'a> {
    pub(crate) fn new(
        ids: *mut *const c_char,
        scores: *mut f32,
        capacity: usize,
        needed: usize,
        written: *mut usize,
    ) -> Result<Ranked<'a>> {
        let written = out_slot("written", written)?;
        if ids.is_null() || scores.is_null() || capacity < needed {
            written.write(needed);
            let what = if ids.is_null() || scores.is_null() { "NULL buffer" } else { "buffer too small" };
            return Err(Error::invalid(
                "ids/scores",
                format!("{what}: the buffers hold {capacity} entries, {needed} are needed"),
            ));
        }
        sliceable("ids", ids, needed)?;
        sliceable("scores", scores, needed)?;
        // SAFETY: non-NULL, aligned, and by the caller's contract `capacity >= needed` writable entries each, not aliased.
        let (ids, scores) =
            unsafe { (std::slice::from_raw_parts_mut(ids, needed), std::slice::from_raw_parts_mut(scores, needed)) };
        Ok(Ranked { ids, scores, written })
    }

    /// Writes `entries` (at most `needed` of them) and their count.
    pub(crate) fn fill(self, entries: impl IntoIterator<Item = Result<(*const c_char, f32)>>) -> Result<()> {
        let mut n = 0;
        for (entry, (id, score)) in entries.into_iter().zip(self.ids.iter_mut().zip(self.scores.iter_mut())) {
            (*id, *score) = entry?;
            n += 1;
        }
        self.written.write(n);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oximl_core::mf::RatingsOptions;

    #[test]
    fn impossible_sizes_and_misaligned_pointers_are_refused_before_any_slice_is_made() {
        let mut buf = [0f32; 4];
        let huge = isize::MAX as usize / 4 + 1; // one float more than any buffer can hold
        let e = matrix("x", buf.as_ptr(), huge, 1).unwrap_err();
        assert!(e.to_string().contains("more than any buffer can hold"), "{e}");
        assert!(output("out", buf.as_mut_ptr(), usize::MAX, huge, 1).is_err());
        assert!(values("v", buf.as_ptr(), huge).is_err());
        assert!(strings("s", [c"a".as_ptr()].as_ptr(), usize::MAX / 8 + 1).is_err());
        let odd = buf.as_ptr().cast::<u8>().wrapping_add(1).cast::<f32>();
        let e = matrix("x", odd, 1, 1).unwrap_err();
        assert!(e.to_string().contains("not aligned to 4 bytes"), "{e}");
        assert!(out_slot("n", odd.cast_mut()).is_err());
        assert_eq!(matrix("x", buf.as_ptr(), 2, 2).unwrap().dim(), (2, 2));
    }

    #[test]
    fn config_merges_over_the_base_and_refuses_unknown_keys() {
        let base = RatingsOptions::default();
        let o: RatingsOptions = config("o", c"{\"scale\": [1, 5]}".as_ptr(), Some(&base)).unwrap();
        assert_eq!(o.scale, Some((1.0, 5.0)));
        assert_eq!(config("o", std::ptr::null(), Some(&base)).unwrap(), base);
        let e = config::<RatingsOptions>("o", c"{\"scael\": [1, 5]}".as_ptr(), Some(&base)).unwrap_err();
        assert!(e.to_string().contains("`scael`"), "{e}"); // named by serde (deny_unknown_fields) or by `merged`
        assert!(config::<RatingsOptions>("o", std::ptr::null(), None).is_err());
        assert!(config::<RatingsOptions>("o", c"{\"duplicates\": \"median\"}".as_ptr(), None).is_err());
    }
}
