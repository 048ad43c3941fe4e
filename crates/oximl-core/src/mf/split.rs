//! Train/test splits of [`Ratings`]; both parts keep the id maps of the whole set (a model trained on one part
//! scores the other with the same indices). Seeded, so a split is reproducible.

use super::ratings::Ratings;
use crate::{Error, Result};
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// A split as data (what C's `split_json` and Python's split functions carry): `{"method": "random",
/// "test_fraction": 0.2, "seed": 0}`, `{"method": "per_user_fraction", ...}` or `{"method": "leave_last_k",
/// "k": 1}`.
///
/// ```
/// use oximl_core::mf::{Ratings, split::Split};
/// let r = Ratings::from_triplets((0..10).map(|i| (i, i, 1.0)), Default::default()).unwrap();
/// let s: Split = serde_json::from_str(r#"{"method": "random", "test_fraction": 0.3}"#).unwrap();
/// let (train, test) = s.apply(&r).unwrap();
/// assert_eq!((train.len(), test.len()), (7, 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Split {
    /// [`random`].
    Random {
        /// Fraction of the ratings in the test part.
        test_fraction: f32,
        /// Seed of the shuffle.
        #[serde(default)]
        seed: u64,
    },
    /// [`per_user_fraction`].
    PerUserFraction {
        /// Fraction of each user's ratings in the test part.
        test_fraction: f32,
        /// Seed of the shuffle.
        #[serde(default)]
        seed: u64,
    },
    /// [`leave_last_k`].
    LeaveLastK {
        /// Latest ratings per user in the test part.
        k: usize,
    },
}

impl Split {
    /// The `(train, test)` parts of `ratings`.
    ///
    /// ```
    /// use oximl_core::mf::{Ratings, split::Split};
    /// let r = Ratings::from_triplets((0..4).map(|i| (i, i, 1.0)), Default::default()).unwrap();
    /// assert!(Split::LeaveLastK { k: 1 }.apply(&r).is_err()); // no timestamps
    /// ```
    pub fn apply(&self, ratings: &Ratings) -> Result<(Ratings, Ratings)> {
        match *self {
            Split::Random { test_fraction, seed } => random(ratings, test_fraction, seed),
            Split::PerUserFraction { test_fraction, seed } => per_user_fraction(ratings, test_fraction, seed),
            Split::LeaveLastK { k } => leave_last_k(ratings, k),
        }
    }
}

fn check_fraction(fraction: f32) -> Result<()> {
    if fraction.is_finite() && fraction > 0.0 && fraction < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid("test_fraction", format!("must be in (0, 1), got {fraction}")))
    }
}

fn parts(r: &Ratings, test: &[bool]) -> Result<(Ratings, Ratings)> {
    let (te, tr): (Vec<usize>, Vec<usize>) = (0..r.len()).partition(|&k| test[k]);
    if te.is_empty() || tr.is_empty() {
        return Err(Error::invalid("ratings", "too few ratings to split into two non-empty parts"));
    }
    Ok((r.subset(&tr), r.subset(&te)))
}

/// A random `(train, test)` split with `test_fraction` of the ratings (rounded) in the test part.
///
/// ```
/// use oximl_core::mf::{Ratings, split};
/// let r = Ratings::from_triplets((0..10).map(|i| (i, i, 1.0)), Default::default()).unwrap();
/// let (train, test) = split::random(&r, 0.3, 1).unwrap();
/// assert_eq!((train.len(), test.len()), (7, 3));
/// assert!(split::random(&r, 1.5, 1).is_err());
/// ```
pub fn random(ratings: &Ratings, test_fraction: f32, seed: u64) -> Result<(Ratings, Ratings)> {
    check_fraction(test_fraction)?;
    let n = ratings.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let take = ((n as f64 * f64::from(test_fraction)).round() as usize).clamp(1, n.saturating_sub(1).max(1));
    let mut test = vec![false; n];
    for &k in &order[..take] {
        test[k] = true;
    }
    parts(ratings, &test)
}

/// Per user, a random `test_fraction` of their ratings (rounded down, keeping at least one in training) goes to
/// the test part.
///
/// ```
/// use oximl_core::mf::{Ratings, split};
/// let r = Ratings::from_triplets((0..10).map(|i| ("u", i, 1.0)), Default::default()).unwrap();
/// let (train, test) = split::per_user_fraction(&r, 0.2, 1).unwrap();
/// assert_eq!((train.len(), test.len()), (8, 2));
/// ```
pub fn per_user_fraction(ratings: &Ratings, test_fraction: f32, seed: u64) -> Result<(Ratings, Ratings)> {
    check_fraction(test_fraction)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut test = vec![false; ratings.len()];
    for mut positions in by_user_positions(ratings) {
        positions.shuffle(&mut rng);
        let take = ((positions.len() as f64 * f64::from(test_fraction)) as usize).min(positions.len() - 1);
        for &k in &positions[..take] {
            test[k] = true;
        }
    }
    parts(ratings, &test)
}

/// Per user, their `k` latest ratings by timestamp go to the test part (users with `k` or fewer ratings keep
/// them all in training). Needs timestamps.
///
/// ```
/// use oximl_core::mf::{RatingsBuilder, split};
/// let mut b = RatingsBuilder::new(Default::default()).unwrap();
/// for t in 0..5 { b.push_at("u", t, 1.0, 100 - t as i64).unwrap(); }
/// let (train, test) = split::leave_last_k(&b.build().unwrap(), 1).unwrap();
/// assert_eq!(test.items().id(test.item_indices()[0] as usize), Some("0")); // latest timestamp
/// assert_eq!(train.len(), 4);
/// ```
pub fn leave_last_k(ratings: &Ratings, k: usize) -> Result<(Ratings, Ratings)> {
    if k == 0 {
        return Err(Error::invalid("k", "must be at least 1"));
    }
    let Some(time) = ratings.timestamps() else {
        return Err(Error::invalid("ratings", "leave_last_k needs timestamps"));
    };
    let mut test = vec![false; ratings.len()];
    for mut positions in by_user_positions(ratings) {
        if positions.len() <= k {
            continue;
        }
        positions.sort_by_key(|&p| (time[p], p));
        for &p in &positions[positions.len() - k..] {
            test[p] = true;
        }
    }
    parts(ratings, &test)
}

/// Positions of each user's ratings, in rating order.
fn by_user_positions(ratings: &Ratings) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); ratings.users().len()];
    for (k, &u) in ratings.user_indices().iter().enumerate() {
        out[u as usize].push(k);
    }
    out
}

/// A `(train, test)` split at given rating positions (e.g. a predefined split read as one set so that both parts
/// share id maps). Positions must be in range; they may overlap.
///
/// ```
/// use oximl_core::mf::{Ratings, split};
/// let r = Ratings::from_triplets((0..4).map(|i| (i, i, 1.0)), Default::default()).unwrap();
/// let (train, test) = split::by_positions(&r, &[0, 1, 2], &[3]).unwrap();
/// assert_eq!((train.len(), test.len()), (3, 1));
/// assert!(split::by_positions(&r, &[0], &[9]).is_err());
/// ```
pub fn by_positions(ratings: &Ratings, train: &[usize], test: &[usize]) -> Result<(Ratings, Ratings)> {
    let n = ratings.len();
    if let Some(&p) = train.iter().chain(test).find(|&&p| p >= n) {
        return Err(Error::invalid("positions", format!("{p} is out of range for {n} ratings")));
    }
    if train.is_empty() || test.is_empty() {
        return Err(Error::invalid("positions", "both parts must be non-empty"));
    }
    Ok((ratings.subset(train), ratings.subset(test)))
}
