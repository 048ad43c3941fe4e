//! Tests of the file format as a whole: round trips, truncations, flipped bytes, old files.

use super::header::checksum;
use super::*;
use ndarray::array;
use safetensors::Dtype;
use std::collections::HashMap;

fn sample() -> Vec<u8> {
    let w = array![[1.0f32, -2.0, 3.5], [0.25, 5.0, -6.0]];
    let ids = array![7i64, -8];
    to_bytes(
        "sequential",
        &serde_json::json!({"layers": [3, 2]}),
        &[("w", TensorRef::new(w.view())), ("ids", TensorRef::new(ids.view())), ("name", TensorRef::bytes(b"x"))],
    )
    .unwrap()
}

fn format_err(r: Result<Loaded>) -> String {
    match r {
        Err(Error::Format(m)) => m,
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn round_trip_in_memory_and_on_disk() {
    let dir = std::env::temp_dir().join(format!("oximl-io-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.oximl");
    let w = array![[1.0f32, -2.0, 3.5], [0.25, 5.0, -6.0]];
    let wt = w.t();
    save(
        &path,
        "sequential",
        &serde_json::json!({"a": [1, 2]}),
        &[("w", TensorRef::new(w.view())), ("wt", TensorRef::new(wt))],
    )
    .unwrap();
    let l = load(&path, "sequential").unwrap();
    assert_eq!(l.config()["a"][1], 2);
    assert_eq!(l.matrix::<f32>("w", Some(2), Some(3)).unwrap(), w);
    assert_eq!(l.matrix::<f32>("wt", Some(3), Some(2)).unwrap(), wt);
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
    let l = from_bytes(&sample(), "sequential").unwrap();
    assert_eq!(l.tensor::<i64>("ids", &[Some(2)]).unwrap(), array![7i64, -8].into_dyn());
    assert_eq!(l.bytes("name").unwrap(), b"x");
    assert!(looks_like_oximl(&sample()));
}

#[test]
fn every_truncation_is_a_format_error() {
    let b = sample();
    for n in 0..b.len() {
        format_err(from_bytes(&b[..n], "sequential"));
    }
}

#[test]
fn every_flipped_bit_changes_the_checksum() {
    let data: Vec<u8> = (0..100u8).collect();
    let sum =
        |name: &str, shape: &[usize], bytes: &[u8]| checksum(None, [(name, DType::F32, shape, bytes)].into_iter());
    let base = sum("w", &[25], &data);
    for i in 0..data.len() {
        for bit in 0..8 {
            let mut d = data.clone();
            d[i] ^= 1 << bit;
            assert_ne!(sum("w", &[25], &d), base, "byte {i} bit {bit}");
        }
    }
    assert_ne!(sum("v", &[25], &data), base);
    assert_ne!(sum("w", &[5, 5], &data), base);
    // Parts are length-delimited: moving a byte from the name into the data changes the sum.
    assert_ne!(sum("ab", &[0], b"c"), sum("a", &[0], b"bc"));
}

#[test]
fn every_flipped_bit_anywhere_is_a_format_error() {
    // Version 1 let a flip inside the JSON config load a different model; now every byte is covered.
    let b = sample();
    for i in 0..b.len() {
        for bit in 0..8 {
            let mut c = b.clone();
            c[i] ^= 1 << bit;
            match from_bytes(&c, "sequential") {
                Err(Error::Format(_)) => {}
                Ok(l) => panic!("byte {i} bit {bit} flipped: loaded a changed file (config {})", l.config()),
                Err(e) => panic!("byte {i} bit {bit}: {e}"),
            }
        }
    }
}

#[test]
fn a_changed_config_with_the_old_checksum_is_refused() {
    let b = sample();
    let text = String::from_utf8_lossy(&b).into_owned();
    let at = text.find("layers").unwrap();
    let mut c = b.clone();
    c[at] = b'L';
    let m = format_err(from_bytes(&c, "sequential"));
    assert!(m.contains("checksum"), "{m}");
}

#[test]
fn version_1_files_of_older_oximl_still_load() {
    // Written by oximl before the header was checksummed (also checked through `Sequential` in tests/fixtures.rs).
    for bytes in [
        &include_bytes!("../../../../tests/fixtures/rust_model.oximl")[..],
        include_bytes!("../../../../tests/fixtures/python_model.oximl"),
    ] {
        let l = from_bytes(bytes, "sequential").unwrap();
        assert_eq!(l.version(), 1);
        assert!(!l.names().is_empty());
    }
    assert_eq!(from_bytes(&sample(), "sequential").unwrap().version(), VERSION);
}

#[test]
fn wrong_kind_newer_version_wrong_dtype_and_shape() {
    let m = format_err(from_bytes(&sample(), "mf"));
    assert!(m.contains("`sequential`") && m.contains("`mf`"), "{m}");
    let l = from_bytes(&sample(), "sequential").unwrap();
    assert!(matches!(l.matrix::<f64>("w", None, None), Err(Error::Format(m)) if m.contains("F32")));
    assert!(matches!(l.matrix::<f32>("w", Some(3), None), Err(Error::Format(_))));
    assert!(matches!(l.matrix::<f32>("missing", None, None), Err(Error::Format(_))));
    // A file from a future version: rewrite the metadata by hand.
    let meta = HashMap::from([(
        METADATA_KEY.to_string(),
        serde_json::json!({"format": "oximl", "version": VERSION + 1, "kind": "mf", "config": {}, "checksum": ""})
            .to_string(),
    )]);
    let b = safetensors::serialize(Vec::<(&str, &TensorRef<'_>)>::new(), Some(meta)).unwrap();
    let m = format_err(from_bytes(&b, "mf"));
    assert!(m.contains("newer"), "{m}");
    // A plain safetensors file without our metadata.
    let b = safetensors::serialize(Vec::<(&str, &TensorRef<'_>)>::new(), None).unwrap();
    format_err(from_bytes(&b, "mf"));
    // Unsupported dtype.
    let t = safetensors::tensor::TensorView::new(Dtype::F16, vec![1], &[0, 0]).unwrap();
    let meta = HashMap::from([(
        METADATA_KEY.to_string(),
        serde_json::json!({"format": "oximl", "version": 1, "kind": "mf", "config": {}, "checksum": ""}).to_string(),
    )]);
    let b = safetensors::serialize([("h", t)], Some(meta)).unwrap();
    assert!(format_err(from_bytes(&b, "mf")).contains("dtype"));
    format_err(from_bytes(&b, "mf"));
}

#[test]
fn bad_save_arguments() {
    let a = TensorRef::bytes(b"1");
    assert!(matches!(to_bytes("", &Value::Null, &[]), Err(Error::InvalidArgument { .. })));
    assert!(matches!(to_bytes("k", &Value::Null, &[("a", a.clone()), ("a", a)]), Err(Error::InvalidArgument { .. })));
}

#[test]
fn load_refuses_directories_and_copy_mode_reads_files() {
    let dir = std::env::temp_dir();
    assert!(matches!(load(&dir, "sequential"), Err(Error::Io { .. })));
    let path = dir.join(format!("oximl-io-copy-{}.oximl", std::process::id()));
    std::fs::write(&path, sample()).unwrap();
    let l = load_with(&path, "sequential", ReadMode::Copy).unwrap();
    std::fs::write(&path, b"").unwrap(); // truncated after loading: the copy is unaffected
    assert_eq!(l.matrix::<f32>("w", Some(2), Some(3)).unwrap()[[1, 2]], -6.0);
    std::fs::remove_file(&path).unwrap();
}
