//! Integration tests of `oximl_core::data`: CSV loading and missing values, one-hot, split, batches and the
//! shipped datasets (the scalers are in `scalers.rs`). Expected numbers are computed independently here (in f64)
//! or are known facts.

use approx::assert_abs_diff_eq;
use ndarray::{Array1, Array2, Axis, array, s};
use oximl_core::Error;
use oximl_core::data::{
    Batches, Column, CsvOptions, StandardScaler, class_indices, datasets, drop_missing, missing_report, one_hot,
    read_csv, read_csv_from, split_indices, train_test_split,
};
use std::collections::BTreeMap;
use support::{mean_std_f64, sample, tmp};

mod support;

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
