//! Integration tests of `oximl_core::data`: CSV loading and missing values, scalers, one-hot, split, batches and
//! the shipped datasets. Expected numbers are computed independently here (in f64) or are known facts.

use approx::assert_abs_diff_eq;
use ndarray::{Array1, Array2, Axis, array, s};
use oximl_core::data::{
    Batches, Column, CsvOptions, MinMaxScaler, Norm, Normalizer, StandardScaler, class_indices, datasets, drop_missing,
    missing_report, one_hot, read_csv, read_csv_from, split_indices, train_test_split,
};
use oximl_core::{Error, Persist};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("oximl_data_test_{}_{name}", std::process::id()))
}

/// A deterministic, non-trivial matrix (no RNG needed).
fn sample(rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| ((i * 7 + j * 13) % 17) as f32 * 0.5 - 3.0 + j as f32 * 100.0)
}

// ------------------------------------------------------------------------------------------------ CSV

#[test]
fn csv_header_target_by_name_and_feature_selection() -> oximl_core::Result<()> {
    let text = "a,b,c,label\n1,2,3,0\n4,5,6,1\n7,8,9,2\n";
    let d = read_csv_from(text.as_bytes(), &CsvOptions::new().target("label").features(["c", "a"]))?;
    assert_eq!(d.x, array![[3.0f32, 1.0], [6.0, 4.0], [9.0, 7.0]]);
    assert_eq!(d.y, Some(array![0.0f32, 1.0, 2.0]));
    assert_eq!(d.feature_names, vec!["c", "a"]);
    assert_eq!(d.target_name.as_deref(), Some("label"));
    assert!(d.missing.is_empty());
    Ok(())
}

#[test]
fn csv_header_is_detected_and_all_other_columns_are_features() -> oximl_core::Result<()> {
    let d = read_csv_from("x,y\n1.5,-2e3\n".as_bytes(), &CsvOptions::new())?;
    assert_eq!(d.x, array![[1.5f32, -2000.0]]);
    assert_eq!(d.feature_names, vec!["x", "y"]);
    // No header: the first line is data, names are generated.
    let d = read_csv_from("1,2\n3,4\n".as_bytes(), &CsvOptions::new().target(0usize))?;
    assert_eq!(d.x, array![[2.0f32], [4.0]]);
    assert_eq!(d.y, Some(array![1.0f32, 3.0]));
    assert_eq!(d.feature_names, vec!["column_1"]);
    Ok(())
}

#[test]
fn csv_delimiters_whitespace_and_comments() -> oximl_core::Result<()> {
    let d = read_csv_from("1; 2 ;3\n4;5;6\n".as_bytes(), &CsvOptions::new().delimiter(b';').target(Column::Last))?;
    assert_eq!(d.x, array![[1.0f32, 2.0], [4.0, 5.0]]);
    let d = read_csv_from("# comment\n1\t2\n".as_bytes(), &CsvOptions::new().delimiter(b'\t').comment(Some(b'#')))?;
    assert_eq!(d.x, array![[1.0f32, 2.0]]);
    Ok(())
}

#[test]
fn csv_missing_cells_are_nan_and_reported() -> oximl_core::Result<()> {
    // line 1 header; lines 2..=7 data
    let text = "a,b,y\n1,,0\n2,NA,1\n3,4,?\nNaN,nan,1\n5,6,0\n7,8,1\n";
    let d = read_csv_from(text.as_bytes(), &CsvOptions::new().target("y"))?;
    assert_eq!(d.x.dim(), (6, 2));
    assert!(d.x[[0, 1]].is_nan() && d.x[[1, 1]].is_nan() && d.x[[3, 0]].is_nan() && d.x[[3, 1]].is_nan());
    assert!(d.y.as_ref().is_some_and(|y| y[2].is_nan()));
    assert_eq!(d.missing.per_column, vec![1, 3]);
    assert_eq!(d.missing.target, 1);
    assert_eq!(d.missing.rows, vec![0, 1, 2, 3]);
    assert_eq!(d.missing.lines, vec![2, 3, 4, 5]);
    assert_eq!(d.missing.total(), 5);
    assert_eq!(d.missing.dropped, 0);
    assert!(d.missing.to_string().starts_with("5 missing cells in 4 rows"));
    Ok(())
}

#[test]
fn csv_drop_missing_removes_those_rows() -> oximl_core::Result<()> {
    let text = "a,b,y\n1,,0\n2,NA,1\n3,4,?\nNaN,nan,1\n5,6,0\n7,8,1\n";
    let d = read_csv_from(text.as_bytes(), &CsvOptions::new().target("y").drop_missing(true))?;
    assert_eq!(d.x, array![[5.0f32, 6.0], [7.0, 8.0]]);
    assert_eq!(d.y, Some(array![0.0f32, 1.0]));
    assert_eq!(d.missing.dropped, 4);
    assert_eq!(d.missing.lines, vec![2, 3, 4, 5]);
    Ok(())
}

#[test]
fn csv_custom_missing_markers() -> oximl_core::Result<()> {
    let d = read_csv_from("1,-999\n2,3\n".as_bytes(), &CsvOptions::new().header(false).missing_values(["-999"]))?;
    assert!(d.x[[0, 1]].is_nan());
    assert_eq!(d.missing.per_column, vec![0, 1]);
    // With a custom list, "NA" is no longer a marker: a parse error.
    let e = read_csv_from("1,NA\n".as_bytes(), &CsvOptions::new().header(false).missing_values(["-999"]));
    assert!(matches!(e, Err(Error::Format(_))));
    Ok(())
}

#[test]
fn csv_all_rows_missing_with_drop_is_an_error() {
    let e = read_csv_from("a\nNA\n\"\"\n".as_bytes(), &CsvOptions::new().drop_missing(true));
    assert!(matches!(e, Err(Error::Format(_))), "{e:?}");
}

#[test]
fn csv_non_numeric_cell_names_line_and_column() {
    let text = "a,b\n1,2\n3,abc\n";
    match read_csv_from(text.as_bytes(), &CsvOptions::new()) {
        Err(Error::Format(msg)) => {
            assert!(msg.contains("line 3"), "{msg}");
            assert!(msg.contains("`b`") && msg.contains("index 1"), "{msg}");
            assert!(msg.contains("abc"), "{msg}");
        }
        other => panic!("expected Error::Format, got {other:?}"),
    }
}

#[test]
fn csv_ragged_row_names_the_line() {
    let text = "1,2,3\n4,5,6\n7,8\n";
    match read_csv_from(text.as_bytes(), &CsvOptions::new().header(false)) {
        Err(Error::Format(msg)) => assert!(msg.contains("line 3"), "{msg}"),
        other => panic!("expected Error::Format, got {other:?}"),
    }
}

#[test]
fn csv_bad_column_choices_are_invalid_arguments() {
    let text = "a,b\n1,2\n";
    let cases = [
        CsvOptions::new().target("nope"),
        CsvOptions::new().target(5usize),
        CsvOptions::new().features([0usize, 9]),
        CsvOptions::new().target("a").features(["a", "b"]),
        CsvOptions::new().header(false).target("a"),
    ];
    for opts in cases {
        let e = read_csv_from(text.as_bytes(), &opts);
        assert!(matches!(e, Err(Error::InvalidArgument { .. })), "{opts:?} gave {e:?}");
    }
}

#[test]
fn csv_empty_input_is_an_error() {
    assert!(matches!(read_csv_from("".as_bytes(), &CsvOptions::new()), Err(Error::Format(_))));
    assert!(matches!(read_csv_from("a,b\n".as_bytes(), &CsvOptions::new()), Err(Error::Format(_))));
}

#[test]
fn csv_from_path_plain_and_gzip_and_missing_file() -> oximl_core::Result<()> {
    use std::io::Write;
    let plain = tmp("plain.csv");
    std::fs::write(&plain, "a,y\n1,0\n2,1\n").map_err(|e| Error::io(&plain, e))?;
    let d = read_csv(&plain, &CsvOptions::new().target("y"))?;
    assert_eq!(d.x, array![[1.0f32], [2.0]]);
    let gz = tmp("packed.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(b"a,y\n1,0\n2,1\n").map_err(|e| Error::io(&gz, e))?;
    std::fs::write(&gz, enc.finish().map_err(|e| Error::io(&gz, e))?).map_err(|e| Error::io(&gz, e))?;
    assert_eq!(read_csv(&gz, &CsvOptions::new().target("y"))?.x, d.x);
    std::fs::remove_file(&plain).ok();
    std::fs::remove_file(&gz).ok();
    assert!(matches!(read_csv(tmp("does_not_exist.csv"), &CsvOptions::new()), Err(Error::Io { .. })));
    Ok(())
}

#[test]
fn missing_report_and_drop_missing_on_arrays() -> oximl_core::Result<()> {
    let x = array![[1.0f32, f32::NAN], [2.0, 3.0], [f32::NAN, 4.0], [5.0, 6.0]];
    let y = array![0.0f32, f32::NAN, 1.0, 1.0];
    let r = missing_report(&x, Some(y.view()));
    assert_eq!((r.per_column.clone(), r.target, r.rows.clone()), (vec![1, 1], 1, vec![0, 1, 2]));
    let (x2, y2, removed) = drop_missing(&x, Some(y.view()))?;
    assert_eq!(x2, array![[5.0f32, 6.0]]);
    assert_eq!(y2, Some(array![1.0f32]));
    assert_eq!(removed, vec![0, 1, 2]);
    let short = array![1.0f32];
    assert!(matches!(drop_missing(&x, Some(short.view())), Err(Error::Shape { .. })));
    Ok(())
}

// ------------------------------------------------------------------------------------------------ scalers

fn mean_std_f64(x: &Array2<f32>) -> (Vec<f64>, Vec<f64>) {
    let n = x.nrows() as f64;
    let mut means = vec![];
    let mut stds = vec![];
    for col in x.columns() {
        let m = col.iter().map(|&v| v as f64).sum::<f64>() / n;
        let v = col.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / n;
        means.push(m);
        stds.push(v.sqrt());
    }
    (means, stds)
}

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

// ------------------------------------------------------------------------------------------------ encoding

#[test]
fn sizes_too_large_are_errors_not_panics() -> oximl_core::Result<()> {
    // one_hot allocated rows × n_classes unchecked: an overflow panicked, a huge product aborted.
    for (labels, n_classes) in [(array![0.0f32], usize::MAX), (array![0.0f32, 1.0], 1 << 62), (array![], usize::MAX)] {
        assert!(matches!(one_hot(&labels, n_classes), Err(Error::InvalidArgument { .. })), "{n_classes}");
    }
    // A batch size near usize::MAX overflowed `start + batch_size` on the second batch.
    let x = sample(3, 2);
    let y = Array1::<f32>::zeros(3);
    let mut b = Batches::new(x.view(), y.view(), usize::MAX)?;
    assert_eq!(b.next_batch().map(|(xb, _)| xb.nrows()), Some(3));
    assert!(b.next_batch().is_none());
    assert_eq!(b.n_batches(), 1);
    Ok(())
}

#[test]
fn one_hot_and_its_errors() -> oximl_core::Result<()> {
    let y = one_hot(&array![2.0f32, 0.0, 1.0, 2.0], 3)?;
    assert_eq!(y.dim(), (4, 3));
    assert_eq!(y.sum_axis(Axis(1)), Array1::from_elem(4, 1.0f32));
    assert_eq!(y.row(0).to_vec(), vec![0.0f32, 0.0, 1.0]);
    assert_eq!(class_indices(&array![1.0f32, 0.0], 2)?, vec![1, 0]);
    assert!(matches!(one_hot(&array![3.0f32], 3), Err(Error::InvalidArgument { .. })));
    assert!(matches!(one_hot(&array![-1.0f32], 3), Err(Error::InvalidArgument { .. })));
    assert!(matches!(one_hot(&array![0.5f32], 3), Err(Error::InvalidArgument { .. })));
    assert!(matches!(one_hot(&array![f32::NAN], 3), Err(Error::NonFinite(_))));
    assert!(matches!(one_hot(&array![0.0f32], 0), Err(Error::InvalidArgument { .. })));
    Ok(())
}

// ------------------------------------------------------------------------------------------------ split

fn counts(y: &Array1<f32>) -> BTreeMap<i64, usize> {
    let mut c = BTreeMap::new();
    for &v in y {
        *c.entry(v as i64).or_insert(0) += 1;
    }
    c
}

#[test]
fn split_sizes_partition_and_row_pairing() -> oximl_core::Result<()> {
    let n = 23;
    let x = Array2::from_shape_fn((n, 2), |(i, j)| (i * 10 + j) as f32);
    let y = Array1::from_shape_fn(n, |i| i as f32);
    let (xtr, xte, ytr, yte) = train_test_split(&x, &y, 0.25, 5, false)?;
    // ceil(0.25 · 23) = 6 test rows, as scikit-learn.
    assert_eq!((xtr.nrows(), xte.nrows(), ytr.len(), yte.len()), (17, 6, 17, 6));
    for (xs, ys) in [(&xtr, &ytr), (&xte, &yte)] {
        for (row, &yv) in xs.rows().into_iter().zip(ys) {
            assert_eq!(row[0], yv * 10.0); // each x row still with its own y
        }
    }
    let mut all: Vec<f32> = ytr.iter().chain(yte.iter()).copied().collect();
    all.sort_by(f32::total_cmp);
    assert_eq!(all, y.to_vec());
    Ok(())
}

#[test]
fn split_is_deterministic_per_seed() -> oximl_core::Result<()> {
    let iris = datasets::iris()?;
    for stratify in [false, true] {
        let a = train_test_split(&iris.x, &iris.y, 0.3, 11, stratify)?;
        let b = train_test_split(&iris.x, &iris.y, 0.3, 11, stratify)?;
        let c = train_test_split(&iris.x, &iris.y, 0.3, 12, stratify)?;
        assert_eq!(a, b);
        assert_ne!(a.1, c.1);
    }
    Ok(())
}

#[test]
fn stratified_split_keeps_class_proportions() -> oximl_core::Result<()> {
    // Unbalanced classes: 60 / 30 / 10.
    let y = Array1::from_shape_fn(100, |i| {
        if i < 60 {
            0.0f32
        } else if i < 90 {
            1.0
        } else {
            2.0
        }
    });
    let x = Array2::from_shape_fn((100, 1), |(i, _)| i as f32);
    for seed in 0..5 {
        let (_, _, ytr, yte) = train_test_split(&x, &y, 0.2, seed, true)?;
        assert_eq!(counts(&yte), BTreeMap::from([(0, 12), (1, 6), (2, 2)]));
        assert_eq!(counts(&ytr), BTreeMap::from([(0, 48), (1, 24), (2, 8)]));
    }
    // Iris, 50 per class: 30 % test → 15 per class.
    let iris = datasets::iris()?;
    let (_, _, ytr, yte) = train_test_split(&iris.x, &iris.y, 0.3, 3, true)?;
    assert_eq!(counts(&yte), BTreeMap::from([(0, 15), (1, 15), (2, 15)]));
    assert_eq!(counts(&ytr), BTreeMap::from([(0, 35), (1, 35), (2, 35)]));
    // Proportions off by at most one when they do not divide evenly (7 test of 3 × 10).
    let y = Array1::from_shape_fn(30, |i| (i % 3) as f32);
    let x = Array2::<f32>::zeros((30, 1));
    let (_, _, _, yte) = train_test_split(&x, &y, 0.22, 9, true)?;
    assert_eq!(yte.len(), 7);
    assert!(counts(&yte).values().all(|&c| (2..=3).contains(&c)));
    // One-hot y stratifies too.
    let y1h = one_hot(&y, 3)?;
    let (_, _, _, yte) = train_test_split(&x, &y1h, 0.3, 9, true)?;
    assert_eq!(yte.sum_axis(Axis(0)), array![3.0f32, 3.0, 3.0]);
    Ok(())
}

#[test]
fn split_error_paths() {
    let x = Array2::<f32>::zeros((10, 2));
    let y = Array1::from_shape_fn(10, |i| (i % 2) as f32);
    // Outside (0, 1), and 0.95 of 10 → ceil(9.5) = 10 test rows, nothing left to train on.
    for f in [0.0, 1.0, -0.1, 1.5, f64::NAN, 0.95] {
        let r = train_test_split(&x, &y, f, 0, false);
        assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{f}: {r:?}");
    }
    // 0.01 of 10 → 1 test row: allowed.
    assert!(train_test_split(&x, &y, 0.01, 0, false).is_ok());
    let short = Array1::<f32>::zeros(9);
    assert!(matches!(train_test_split(&x, &short, 0.2, 0, false), Err(Error::Shape { .. })));
    // Stratify: a class with one member; too few test rows for the classes; NaN label.
    let lonely = array![0.0f32, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0];
    assert!(matches!(train_test_split(&x, &lonely, 0.3, 0, true), Err(Error::InvalidArgument { .. })));
    let three = Array1::from_shape_fn(10, |i| (i % 3) as f32);
    assert!(matches!(train_test_split(&x, &three, 0.1, 0, true), Err(Error::InvalidArgument { .. })));
    let mut nan = y.clone();
    nan[0] = f32::NAN;
    assert!(matches!(train_test_split(&x, &nan, 0.3, 0, true), Err(Error::NonFinite(_))));
    assert!(matches!(split_indices(10, 0.5, 0, Some(&[0, 1])), Err(Error::Shape { .. })));
}

// ------------------------------------------------------------------------------------------------ batches

fn epoch_labels<D: ndarray::RemoveAxis>(b: &mut Batches<'_, D>) -> Vec<Vec<f32>> {
    let mut out = vec![];
    while let Some((_, yb)) = b.next_batch() {
        out.push(yb.iter().copied().collect());
    }
    out
}

#[test]
fn batches_in_order_are_views_into_the_data() -> oximl_core::Result<()> {
    let x = Array2::from_shape_fn((10, 3), |(i, j)| (i * 3 + j) as f32);
    let y = Array1::from_shape_fn(10, |i| i as f32);
    let mut b = Batches::new(x.view(), y.view(), 4)?;
    assert_eq!(b.n_batches(), 3);
    let mut start = 0;
    let mut sizes = vec![];
    while let Some((xb, yb)) = b.next_batch() {
        // Zero-copy: the batch points into x's own memory.
        assert_eq!(xb.as_ptr(), x.slice(s![start.., ..]).as_ptr());
        assert_eq!(yb.as_ptr(), y.slice(s![start..]).as_ptr());
        assert_eq!(xb, x.slice(s![start..start + xb.nrows(), ..]));
        start += xb.nrows();
        sizes.push(xb.nrows());
    }
    assert_eq!(sizes, vec![4, 4, 2]);
    b.reset();
    assert_eq!(epoch_labels(&mut b).concat(), y.to_vec());
    let mut dl = Batches::new(x.view(), y.view(), 4)?.drop_last(true);
    assert_eq!(dl.n_batches(), 2);
    assert_eq!(epoch_labels(&mut dl).len(), 2);
    Ok(())
}

#[test]
fn shuffled_batches_cover_every_row_once_with_matching_pairs() -> oximl_core::Result<()> {
    let x = Array2::from_shape_fn((11, 2), |(i, j)| (i * 2 + j) as f32);
    let y = Array1::from_shape_fn(11, |i| i as f32);
    let mut b = Batches::new(x.view(), y.view(), 3)?.shuffle(42);
    for _epoch in 0..2 {
        let mut seen = vec![];
        let mut first_ptr = None;
        while let Some((xb, yb)) = b.next_batch() {
            for (row, &yv) in xb.rows().into_iter().zip(yb) {
                assert_eq!(row[0], yv * 2.0);
                assert_eq!(row[1], yv * 2.0 + 1.0);
            }
            // Gathered into one reused buffer, never into x itself.
            let p = xb.as_ptr();
            assert_eq!(*first_ptr.get_or_insert(p), p);
            seen.extend(yb.iter().map(|&v| v as usize));
        }
        assert_ne!(seen, (0..11).collect::<Vec<_>>(), "shuffled order should differ from identity");
        seen.sort_unstable();
        assert_eq!(seen, (0..11).collect::<Vec<_>>());
        b.reset();
    }
    Ok(())
}

#[test]
fn shuffled_batches_are_deterministic_per_seed() -> oximl_core::Result<()> {
    let x = Array2::<f32>::zeros((50, 2));
    let y = Array1::from_shape_fn(50, |i| i as f32);
    let run = |seed| -> oximl_core::Result<Vec<Vec<Vec<f32>>>> {
        let mut b = Batches::new(x.view(), y.view(), 8)?.shuffle(seed);
        let mut epochs = vec![];
        for _ in 0..3 {
            epochs.push(epoch_labels(&mut b));
            b.reset();
        }
        Ok(epochs)
    };
    let (a, b, c) = (run(1)?, run(1)?, run(2)?);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a[0], a[1], "each epoch gets a new order");
    Ok(())
}

#[test]
fn batches_with_2d_targets() -> oximl_core::Result<()> {
    let x = Array2::from_shape_fn((5, 1), |(i, _)| i as f32);
    let y = one_hot(&array![0.0f32, 1.0, 2.0, 0.0, 1.0], 3)?;
    let mut b = Batches::new(x.view(), y.view(), 2)?.shuffle(0);
    while let Some((xb, yb)) = b.next_batch() {
        assert_eq!(yb.ncols(), 3);
        for (xr, yr) in xb.rows().into_iter().zip(yb.rows()) {
            assert_eq!(yr, y.row(xr[0] as usize));
        }
    }
    Ok(())
}

#[test]
fn batches_error_paths() {
    let x = Array2::<f32>::zeros((4, 2));
    let y = Array1::<f32>::zeros(4);
    assert!(matches!(Batches::new(x.view(), y.view(), 0), Err(Error::InvalidArgument { .. })));
    let ex = Array2::<f32>::zeros((0, 2));
    let ey = Array1::<f32>::zeros(0);
    assert!(matches!(Batches::new(ex.view(), ey.view(), 2), Err(Error::InvalidArgument { .. })));
    let short = Array1::<f32>::zeros(3);
    assert!(matches!(Batches::new(x.view(), short.view(), 2), Err(Error::Shape { .. })));
}

// ------------------------------------------------------------------------------------------------ datasets

#[test]
fn iris_dataset_facts() -> oximl_core::Result<()> {
    let d = datasets::iris()?;
    assert_eq!(d.x.dim(), (150, 4));
    assert_eq!(counts(&d.y), BTreeMap::from([(0, 50), (1, 50), (2, 50)]));
    assert_eq!(d.target_names, vec!["setosa", "versicolor", "virginica"]);
    assert_eq!(d.x.row(0).to_vec(), vec![5.1f32, 3.5, 1.4, 0.2]);
    // Known column means of iris: 5.843, 3.057, 3.758, 1.199.
    let (means, _) = mean_std_f64(&d.x);
    for (m, e) in means.iter().zip([5.843_333, 3.057_333, 3.758, 1.199_333]) {
        assert_abs_diff_eq!(*m, e, epsilon = 1e-5);
    }
    Ok(())
}

#[test]
fn digits_dataset_facts() -> oximl_core::Result<()> {
    let d = datasets::digits()?;
    assert_eq!(d.x.dim(), (1797, 64));
    assert_eq!(d.y.len(), 1797);
    assert!(d.x.iter().all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0));
    let c = counts(&d.y);
    assert_eq!(c.keys().copied().collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
    assert_eq!(c.values().sum::<usize>(), 1797);
    // scikit-learn's first digit is a 0.
    assert_eq!(d.y[0], 0.0);
    assert_eq!(d.x.row(0).slice(s![..8]).to_vec(), vec![0.0f32, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]);
    assert_eq!(d.feature_names[9], "pixel_1_1");
    Ok(())
}

#[test]
fn diabetes_dataset_facts() -> oximl_core::Result<()> {
    let d = datasets::diabetes()?;
    assert_eq!(d.x.dim(), (442, 10));
    assert_eq!(d.y.len(), 442);
    assert_eq!(d.n_classes(), 0);
    assert_eq!(d.x.row(0).to_vec(), vec![59.0f32, 2.0, 32.1, 101.0, 157.0, 93.2, 38.0, 4.0, 4.8598, 87.0]);
    assert_eq!(d.y[0], 151.0);
    // The target ranges over 25..=346.
    assert_eq!(d.y.fold(f32::INFINITY, |a, &b| a.min(b)), 25.0);
    assert_eq!(d.y.fold(f32::NEG_INFINITY, |a, &b| a.max(b)), 346.0);
    Ok(())
}

#[test]
fn datasets_standardized_have_zero_mean_unit_std() -> oximl_core::Result<()> {
    let d = datasets::diabetes()?;
    let z = StandardScaler::new().fit_transform(&d.x)?;
    let (m, sd) = mean_std_f64(&z);
    for (mj, sj) in m.iter().zip(&sd) {
        assert_abs_diff_eq!(*mj, 0.0, epsilon = 1e-5);
        assert_abs_diff_eq!(*sj, 1.0, epsilon = 1e-5);
    }
    Ok(())
}
