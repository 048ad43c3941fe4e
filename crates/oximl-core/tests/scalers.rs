//! Integration tests of the scalers of `oximl_core::data` (standard, min-max, normalizer): values against hand
//! formulas in f64, error paths, and their files (round trips, refusals, atomic saves).

use approx::assert_abs_diff_eq;
use ndarray::{Array2, Axis, array};
use oximl_core::data::{MinMaxScaler, Norm, Normalizer, StandardScaler};
use oximl_core::{Error, Persist};
use support::{mean_std_f64, sample, tmp};

mod support;

#[test]
fn standard_scaler_matches_hand_computed_mean_and_std() -> oximl_core::Result<()> {
    let x = sample(50, 4);
    let (means, stds) = mean_std_f64(&x);
    let mut scaler = StandardScaler::new();
    let z = scaler.fit_transform(&x)?;
    for (a, b) in scaler.mean().unwrap_or_default().iter().zip(&means) {
        assert_abs_diff_eq!(*a, *b, epsilon = 1e-9);
    }
    for (a, b) in scaler.scale().unwrap_or_default().iter().zip(&stds) {
        assert_abs_diff_eq!(*a, *b, epsilon = 1e-9);
    }
    for (j, col) in z.columns().into_iter().enumerate() {
        for (i, &v) in col.iter().enumerate() {
            let expect = (x[[i, j]] as f64 - means[j]) / stds[j];
            assert_abs_diff_eq!(v as f64, expect, epsilon = 1e-6);
        }
        // Each transformed column: mean 0, population std 1.
        let (m, sd) = mean_std_f64(&col.to_owned().insert_axis(Axis(1)));
        assert_abs_diff_eq!(m[0], 0.0, epsilon = 1e-6);
        assert_abs_diff_eq!(sd[0], 1.0, epsilon = 1e-6);
    }
    Ok(())
}

#[test]
fn standard_scaler_constant_column_gets_std_one() -> oximl_core::Result<()> {
    let x = array![[1.0f32, 0.1], [2.0, 0.1], [3.0, 0.1]];
    let mut scaler = StandardScaler::new();
    let z = scaler.fit_transform(&x)?;
    assert_eq!(scaler.scale().map(|s| s[1]), Some(1.0));
    assert!(z.column(1).iter().all(|&v| v.abs() < 1e-7));
    Ok(())
}

#[test]
fn standard_scaler_options_and_round_trip() -> oximl_core::Result<()> {
    let x = sample(40, 3);
    for (wm, ws) in [(true, true), (false, true), (true, false), (false, false)] {
        let mut scaler = StandardScaler::new().with_mean(wm).with_std(ws);
        let z = scaler.fit_transform(&x)?;
        if !wm && !ws {
            assert_eq!(z, x);
        }
        // Round trip: |x| ≤ ~400 here, f32 ulp there is 3e-5; allow 1e-4.
        let back = scaler.inverse_transform(&z)?;
        assert_abs_diff_eq!(back, x, epsilon = 1e-4);
    }
    Ok(())
}

#[test]
fn minmax_scaler_matches_hand_formula_and_round_trips() -> oximl_core::Result<()> {
    let x = sample(30, 3);
    let mut scaler = MinMaxScaler::with_range(-2.0, 3.0)?;
    let z = scaler.fit_transform(&x)?;
    for (j, col) in x.columns().into_iter().enumerate() {
        let lo = col.iter().fold(f64::INFINITY, |a, &b| a.min(b as f64));
        let hi = col.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
        for (i, &v) in col.iter().enumerate() {
            let expect = (v as f64 - lo) / (hi - lo) * 5.0 - 2.0;
            assert_abs_diff_eq!(z[[i, j]] as f64, expect, epsilon = 1e-5);
        }
        let zc = z.column(j);
        assert_abs_diff_eq!(zc.fold(f32::INFINITY, |a, &b| a.min(b)), -2.0, epsilon = 1e-5);
        assert_abs_diff_eq!(zc.fold(f32::NEG_INFINITY, |a, &b| a.max(b)), 3.0, epsilon = 1e-5);
    }
    assert_abs_diff_eq!(scaler.inverse_transform(&z)?, x, epsilon = 1e-4);
    Ok(())
}

#[test]
fn minmax_scaler_constant_column_maps_to_lower_bound_and_clip() -> oximl_core::Result<()> {
    let x = array![[1.0f32, 7.0], [3.0, 7.0]];
    let mut scaler = MinMaxScaler::with_range(0.5, 1.0)?;
    let z = scaler.fit_transform(&x)?;
    assert_eq!(z.column(1).to_vec(), vec![0.5f32, 0.5]);
    assert_eq!(scaler.inverse_transform(&z)?.column(1).to_vec(), vec![7.0f32, 7.0]);
    let mut clipped = MinMaxScaler::new().clip(true);
    clipped.fit(&x)?;
    assert_eq!(clipped.transform(&array![[10.0f32, 7.0], [-10.0, 7.0]])?, array![[1.0f32, 0.0], [0.0, 0.0]]);
    Ok(())
}

#[test]
fn minmax_bad_range_is_invalid_argument() {
    for (lo, hi) in [(1.0, 1.0), (2.0, 1.0), (f32::NAN, 1.0), (0.0, f32::INFINITY)] {
        assert!(matches!(MinMaxScaler::with_range(lo, hi), Err(Error::InvalidArgument { .. })));
    }
}

#[test]
fn normalizer_unit_rows_and_zero_row() -> oximl_core::Result<()> {
    let x = array![[3.0f32, 4.0, 0.0], [0.0, 0.0, 0.0], [1.0, -1.0, 1.0], [1e-30, 0.0, 0.0], [3e38, 3e38, 0.0]];
    let z = Normalizer::new().transform(&x)?;
    for (row, zrow) in x.rows().into_iter().zip(z.rows()) {
        let n = row.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
        for (&a, &b) in row.iter().zip(zrow.iter()) {
            let expect = if n == 0.0 { 0.0 } else { a as f64 / n };
            assert_abs_diff_eq!(b as f64, expect, epsilon = 1e-6);
        }
    }
    assert_eq!(z.row(1).to_vec(), vec![0.0f32; 3]);
    assert_abs_diff_eq!(z[[3, 0]], 1.0, epsilon = 1e-6);
    let l1 = Normalizer::with_norm(Norm::L1).fit_transform(&array![[1.0f32, -3.0]])?;
    assert_eq!(l1, array![[0.25f32, -0.75]]);
    let max = Normalizer::with_norm(Norm::Max).transform(&array![[2.0f32, -4.0]])?;
    assert_eq!(max, array![[0.5f32, -1.0]]);
    Ok(())
}

#[test]
fn scalers_error_paths() {
    let x = sample(5, 3);
    let wrong = sample(5, 2);
    let nan = array![[1.0f32, f32::NAN, 0.0]];
    let inf = array![[1.0f32, 0.0, f32::INFINITY]];
    let empty = Array2::<f32>::zeros((0, 3));

    let unfitted = StandardScaler::new();
    assert!(matches!(unfitted.transform(&x), Err(Error::NotFitted(_))));
    assert!(matches!(unfitted.inverse_transform(&x), Err(Error::NotFitted(_))));
    let mut s = StandardScaler::new();
    assert!(matches!(s.fit(&nan), Err(Error::NonFinite(_))));
    assert!(matches!(s.fit(&inf), Err(Error::NonFinite(_))));
    assert!(matches!(s.fit(&empty), Err(Error::InvalidArgument { .. })));
    assert!(s.fit(&x).is_ok());
    assert!(matches!(s.transform(&wrong), Err(Error::Shape { .. })));
    assert!(matches!(s.inverse_transform(&wrong), Err(Error::Shape { .. })));
    assert!(matches!(s.transform(&nan), Err(Error::NonFinite(_))));
    assert!(matches!(s.inverse_transform(&inf), Err(Error::NonFinite(_))));

    let unfitted = MinMaxScaler::new();
    assert!(matches!(unfitted.transform(&x), Err(Error::NotFitted(_))));
    assert!(matches!(unfitted.inverse_transform(&x), Err(Error::NotFitted(_))));
    let mut m = MinMaxScaler::new();
    assert!(matches!(m.fit(&nan), Err(Error::NonFinite(_))));
    assert!(matches!(m.fit(&empty), Err(Error::InvalidArgument { .. })));
    assert!(m.fit(&x).is_ok());
    assert!(matches!(m.transform(&wrong), Err(Error::Shape { .. })));
    assert!(matches!(m.transform(&inf), Err(Error::NonFinite(_))));

    let mut n = Normalizer::new();
    assert!(matches!(n.fit(&nan), Err(Error::NonFinite(_))));
    assert!(matches!(n.transform(&inf), Err(Error::NonFinite(_))));
}

#[test]
fn scaler_save_load_round_trip_and_refusals() -> oximl_core::Result<()> {
    let x = sample(20, 3);
    let mut s = StandardScaler::new();
    s.fit(&x)?;
    let p = tmp("standard.oximl");
    s.save(&p)?;
    let loaded = StandardScaler::load(&p)?;
    assert_eq!(loaded, s);
    assert_eq!(loaded.transform(&x)?, s.transform(&x)?); // bit for bit
    // The one file format: readable by `io`, the statistics as F64 tensors.
    let file = oximl_core::io::load(&p, "standard_scaler")?;
    assert_eq!(file.tensor::<f64>("mean", &[Some(3)])?.as_slice(), s.mean());
    for unfitted in [StandardScaler::new().with_mean(false), StandardScaler::new()] {
        assert_eq!(StandardScaler::from_bytes(&unfitted.to_bytes()?)?, unfitted);
    }

    let mut m = MinMaxScaler::with_range(-1.0, 1.0)?.clip(true);
    m.fit(&x)?;
    let pm = tmp("minmax.oximl");
    m.save(&pm)?;
    let loaded = MinMaxScaler::load(&pm)?;
    assert_eq!(loaded, m);
    assert_eq!(loaded.transform(&x)?, m.transform(&x)?);
    assert_eq!(MinMaxScaler::from_bytes(&MinMaxScaler::new().to_bytes()?)?, MinMaxScaler::new());

    // Wrong kind, garbage, inconsistent tensors.
    assert!(matches!(StandardScaler::load(&pm), Err(Error::Format(_))));
    assert!(matches!(MinMaxScaler::load(&p), Err(Error::Format(_))));
    let bad = tmp("garbage.json");
    std::fs::write(&bad, "{not json").map_err(|e| Error::io(&bad, e))?;
    assert!(matches!(StandardScaler::load(&bad), Err(Error::Format(_))));
    let short = [1.0f64];
    let config = serde_json::json!({"with_mean": true, "with_std": true, "n_samples_seen": 20});
    let v = ndarray::ArrayView1::from(&short[..]);
    let t = |name| (name, oximl_core::io::TensorRef::new(v));
    let three = ndarray::Array1::from(vec![1.0f64; 3]);
    let full = |name| (name, oximl_core::io::TensorRef::new(three.view()));
    let b = oximl_core::io::to_bytes("standard_scaler", &config, &[full("mean"), full("var"), t("scale")])?;
    assert!(matches!(StandardScaler::from_bytes(&b), Err(Error::Format(_))));
    let b = oximl_core::io::to_bytes("standard_scaler", &config, &[full("mean"), full("var")])?;
    assert!(matches!(StandardScaler::from_bytes(&b), Err(Error::Format(_))));
    let mut unknown = config.clone();
    unknown["with_meen"] = serde_json::json!(true);
    let b = oximl_core::io::to_bytes("standard_scaler", &unknown, &[full("mean"), full("var"), full("scale")])?;
    assert!(matches!(StandardScaler::from_bytes(&b), Err(Error::Format(m)) if m.contains("with_meen")));
    assert!(matches!(StandardScaler::load(tmp("absent.json")), Err(Error::Io { .. })));

    // The JSON files of older oximl still load, with their checks.
    let legacy = |scaler: serde_json::Value| serde_json::json!({"format": "oximl-scaler", "kind": "StandardScaler", "version": 1, "scaler": scaler});
    let mut v = legacy(serde_json::to_value(&s).map_err(|e| Error::Format(e.to_string()))?);
    std::fs::write(&bad, v.to_string()).map_err(|e| Error::io(&bad, e))?;
    assert_eq!(StandardScaler::load(&bad)?, s);
    assert_eq!(StandardScaler::from_bytes(v.to_string().as_bytes())?, s);
    assert!(matches!(MinMaxScaler::load(&bad), Err(Error::Format(_))));
    v["scaler"]["state"]["scale"][0] = serde_json::json!(0.0);
    std::fs::write(&bad, v.to_string()).map_err(|e| Error::io(&bad, e))?;
    assert!(matches!(StandardScaler::load(&bad), Err(Error::Format(_))));
    v["scaler"]["state"]["scale"] = serde_json::json!([1.0]);
    std::fs::write(&bad, v.to_string()).map_err(|e| Error::io(&bad, e))?;
    assert!(matches!(StandardScaler::load(&bad), Err(Error::Format(_))));
    v["version"] = serde_json::json!(99);
    std::fs::write(&bad, v.to_string()).map_err(|e| Error::io(&bad, e))?;
    assert!(matches!(StandardScaler::load(&bad), Err(Error::Format(_))));
    for f in [&p, &pm, &bad] {
        std::fs::remove_file(f).ok();
    }

    // Scalers are plain serde data, e.g. for a model's JSON config.
    let json = serde_json::to_string(&s).map_err(|e| Error::Format(e.to_string()))?;
    let back: StandardScaler = serde_json::from_str(&json).map_err(|e| Error::Format(e.to_string()))?;
    assert_eq!(back, s);
    let json = serde_json::to_string(&Normalizer::with_norm(Norm::Max)).map_err(|e| Error::Format(e.to_string()))?;
    assert_eq!(json, r#"{"norm":"max"}"#);
    assert_eq!(("l1".parse::<Norm>()?, Norm::Max.to_string()), (Norm::L1, "max".to_string()));
    assert!(matches!("L2".parse::<Norm>(), Err(Error::InvalidArgument { .. })));
    Ok(())
}

#[test]
fn scaler_saves_are_atomic() -> oximl_core::Result<()> {
    // The former JSON envelope was written in place (a crash left half a file); now a temporary file is renamed.
    let dir = tmp("atomic_dir");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join("s.oximl");
    let mut s = StandardScaler::new();
    s.fit(&sample(4, 2))?;
    s.save(&path)?;
    std::fs::write(&path, b"old").map_err(|e| Error::io(&path, e))?;
    let before = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
    s.save(&path)?;
    let after = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_ne!(before.ino(), after.ino(), "the file was rewritten in place, not replaced");
    }
    let _ = (before, after);
    assert_eq!(std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?.count(), 1);
    std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(())
}
