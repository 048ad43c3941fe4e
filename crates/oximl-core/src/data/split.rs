//! A seeded train/test split, optionally stratified by class, as scikit-learn's `train_test_split`.

use crate::{Error, Result};
use ndarray::{Array, Array2, ArrayView, ArrayView2, AsArray, Axis, Ix2, RemoveAxis};
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::seq::SliceRandom;
use std::collections::BTreeMap;

/// Splits sample indices `0..n_samples` into `(train, test)`, both in a seeded random order.
///
/// The test side gets `ceil(test_fraction · n_samples)` samples (as scikit-learn). With `strata` (one group id per
/// sample, e.g. the class), each group is split in proportion to its size (the rounding is shared out by largest
/// remainder, ties broken by the seed); every group needs at least 2 members and each side at least as many samples as
/// there are groups (as scikit-learn). A fraction outside `(0, 1)` or one that leaves a side empty is [`Error::InvalidArgument`]; a `strata`
/// of the wrong length [`Error::Shape`]. The same arguments always give the same split.
///
/// ```
/// let (train, test) = oximl_core::data::split_indices(10, 0.3, 42, None)?;
/// assert_eq!((train.len(), test.len()), (7, 3));
/// let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// # Ok::<(), oximl_core::Error>(())
/// ```
pub fn split_indices(
    n_samples: usize,
    test_fraction: f64,
    seed: u64,
    strata: Option<&[usize]>,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(Error::invalid("test_fraction", format!("{test_fraction} is not strictly between 0 and 1")));
    }
    let n_test = (test_fraction * n_samples as f64).ceil() as usize;
    let n_train = n_samples.saturating_sub(n_test);
    if n_test == 0 || n_train == 0 {
        return Err(Error::invalid(
            "test_fraction",
            format!("{test_fraction} of {n_samples} samples leaves {n_train} for training and {n_test} for testing"),
        ));
    }
    split_indices_by_count(n_samples, n_test, seed, strata)
}

/// [`split_indices`] with the test side's size given as a count, `1 ≤ n_test < n_samples` (else
/// [`Error::InvalidArgument`]); the same split as a fraction that rounds up to `n_test`.
///
/// ```
/// use oximl_core::data::{split_indices, split_indices_by_count};
/// assert_eq!(split_indices_by_count(10, 3, 42, None)?, split_indices(10, 0.3, 42, None)?);
/// assert!(split_indices_by_count(10, 10, 42, None).is_err());
/// # Ok::<(), oximl_core::Error>(())
/// ```
pub fn split_indices_by_count(
    n_samples: usize,
    n_test: usize,
    seed: u64,
    strata: Option<&[usize]>,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if n_test == 0 || n_test >= n_samples {
        return Err(Error::invalid("n_test", format!("{n_test} test samples of {n_samples}: each side needs one")));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut test) = match strata {
        None => {
            let mut perm: Vec<usize> = Vec::new();
            perm.try_reserve_exact(n_samples)
                .map_err(|_| Error::invalid("n_samples", format!("{n_samples} sample indices do not fit in memory")))?;
            perm.extend(0..n_samples);
            perm.shuffle(&mut rng);
            let train = perm.split_off(n_test);
            (train, perm)
        }
        Some(groups) => stratified(groups, n_samples, n_test, &mut rng)?,
    };
    train.shuffle(&mut rng);
    test.shuffle(&mut rng);
    Ok((train, test))
}

fn stratified(groups: &[usize], n_samples: usize, n_test: usize, rng: &mut StdRng) -> Result<(Vec<usize>, Vec<usize>)> {
    if groups.len() != n_samples {
        return Err(Error::shape(format!("{n_samples} group labels"), format!("{}", groups.len())));
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &g) in groups.iter().enumerate() {
        members.entry(g).or_default().push(i);
    }
    let n_groups = members.len();
    if let Some((g, m)) = members.iter().find(|(_, m)| m.len() < 2) {
        return Err(Error::invalid(
            "stratify",
            format!("class {g} has {} member; each class needs at least 2 to be split", m.len()),
        ));
    }
    let n_train = n_samples - n_test;
    if n_test < n_groups || n_train < n_groups {
        return Err(Error::invalid(
            "test_fraction",
            format!("{n_train} training and {n_test} test samples cannot both hold each of {n_groups} classes"),
        ));
    }
    // Test share per group: floor(n_test · size / n), then the remaining ones by largest remainder.
    let (nt, n) = (n_test as u128, n_samples as u128);
    let mut take: Vec<(usize, u128)> =
        members.values().map(|m| ((nt * m.len() as u128 / n) as usize, nt * m.len() as u128 % n)).collect();
    let mut left = n_test - take.iter().map(|(t, _)| t).sum::<usize>();
    let mut order: Vec<usize> = (0..n_groups).collect();
    order.shuffle(rng);
    order.sort_by(|&a, &b| take[b].1.cmp(&take[a].1));
    for g in order {
        if left == 0 {
            break;
        }
        take[g].0 += 1;
        left -= 1;
    }
    let (mut train, mut test) = (Vec::with_capacity(n_train), Vec::with_capacity(n_test));
    for (mut m, (t, _)) in members.into_values().zip(take) {
        m.shuffle(rng);
        test.extend_from_slice(&m[..t]);
        train.extend_from_slice(&m[t..]);
    }
    Ok((train, test))
}

/// Splits `x` and `y` row-wise into `(x_train, x_test, y_train, y_test)`, seeded and deterministic, like
/// scikit-learn's `train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y if stratify)`.
///
/// `y` may be 1-D (labels or targets) or 2-D (e.g. one-hot rows). With `stratify`, rows with equal `y` form a
/// class and each class keeps its proportion on both sides. Errors: rows of `x` and `y` that differ
/// ([`Error::Shape`]), a bad fraction or a class too small to split ([`Error::InvalidArgument`], see
/// [`split_indices`]), a NaN or infinite `y` when stratifying ([`Error::NonFinite`]).
///
/// ```
/// use ndarray::{array, Array2};
/// let x = Array2::from_shape_fn((8, 2), |(i, j)| (i * 2 + j) as f32);
/// let y = array![0.0f32, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
/// let (x_train, x_test, y_train, y_test) = oximl_core::data::train_test_split(&x, &y, 0.5, 1, true)?;
/// assert_eq!((x_train.nrows(), x_test.nrows()), (4, 4));
/// assert_eq!(y_test.sum(), 2.0); // two of each class on each side
/// # let _ = y_train;
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[allow(clippy::type_complexity)]
pub fn train_test_split<'a, 'b, D: RemoveAxis>(
    x: impl AsArray<'a, f32, Ix2>,
    y: impl AsArray<'b, f32, D>,
    test_fraction: f64,
    seed: u64,
    stratify: bool,
) -> Result<(Array2<f32>, Array2<f32>, Array<f32, D>, Array<f32, D>)> {
    let x: ArrayView2<'a, f32> = x.into();
    let y: ArrayView<'b, f32, D> = y.into();
    let n = x.nrows();
    if y.ndim() == 0 || y.len_of(Axis(0)) != n {
        return Err(Error::shape(format!("y with {n} rows (as x)"), format!("y of shape {:?}", y.shape())));
    }
    let strata = if stratify { Some(row_ids(y.view())?) } else { None };
    let (train, test) = split_indices(n, test_fraction, seed, strata.as_deref())?;
    Ok((x.select(Axis(0), &train), x.select(Axis(0), &test), y.select(Axis(0), &train), y.select(Axis(0), &test)))
}

/// One id per row of `y`: equal rows (bit for bit, `-0.0 == 0.0`) share an id.
fn row_ids<D: RemoveAxis>(y: ArrayView<'_, f32, D>) -> Result<Vec<usize>> {
    if let Some(v) = y.iter().find(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("cannot stratify on a label {v}")));
    }
    Ok(group_ids(y.axis_iter(Axis(0)).map(|row| row.iter().map(|&v| (v + 0.0).to_bits()).collect::<Vec<u32>>())))
}

/// Numbers labels by first appearance: equal labels get one id, the first label 0, the next new one 1, ... These
/// are the `strata` ids [`train_test_split`] passes to [`split_indices`] (so any labels numbered this way give
/// the same split as the Rust `train_test_split` with `stratify: true`).
///
/// ```
/// assert_eq!(oximl_core::data::group_ids(["b", "a", "b", "c"]), vec![0, 1, 0, 2]);
/// ```
pub fn group_ids<K: Ord>(labels: impl IntoIterator<Item = K>) -> Vec<usize> {
    let mut ids: BTreeMap<K, usize> = BTreeMap::new();
    labels
        .into_iter()
        .map(|key| {
            let next = ids.len();
            *ids.entry(key).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_indices;

    #[test]
    fn an_impossible_sample_count_is_an_error_not_an_abort() {
        let e = split_indices(usize::MAX / 2, 0.5, 0, None).unwrap_err();
        assert!(matches!(e, crate::Error::InvalidArgument { .. }), "{e}");
    }

    #[test]
    fn stratified_shares_add_up_and_follow_largest_remainder() {
        // Groups of 5, 3, 2 with 4 test samples: exact shares 2.0, 1.2, 0.8 → 2, 1, 1.
        let groups = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2];
        for seed in 0..20 {
            let (train, test) = split_indices(10, 0.4, seed, Some(&groups)).unwrap();
            assert_eq!((train.len(), test.len()), (6, 4));
            let count = |g: usize| test.iter().filter(|&&i| groups[i] == g).count();
            assert_eq!((count(0), count(1), count(2)), (2, 1, 1));
        }
    }

    #[test]
    fn ties_in_the_remainder_are_broken_by_the_seed() {
        // Three groups of 4 and 4 test samples: shares 1.33 each, one group gets the extra sample.
        let groups: Vec<usize> = (0..12).map(|i| i / 4).collect();
        let mut winners = std::collections::BTreeSet::new();
        for seed in 0..30 {
            let (_, test) = split_indices(12, 1.0 / 3.0, seed, Some(&groups)).unwrap();
            let counts: Vec<usize> = (0..3).map(|g| test.iter().filter(|&&i| groups[i] == g).count()).collect();
            assert_eq!(counts.iter().sum::<usize>(), 4);
            winners.insert(counts.iter().position(|&c| c == 2).unwrap());
        }
        assert!(winners.len() > 1, "the extra sample should not always go to the same group");
    }
}
