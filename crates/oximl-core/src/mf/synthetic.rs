//! Seeded synthetic data from a known low-rank model, for tests and benchmarks.
//!
//! - [`Synthetic`]: explicit ratings `r = μ + b_u + b_i + p_u·q_i + ε` with normal biases, factors and noise;
//!   the noise standard deviation is the RMSE floor no model can beat on held-out ratings.
//! - [`SyntheticImplicit`]: implicit interactions, each user's items drawn without replacement with probability
//!   ∝ `exp(sharpness·p_u·q_i + popularity_i)` (Gumbel top-k), strengths 1–5.
//!
//! User `n` has id `"u{n}"` and index `n`, item `n` id `"i{n}"` and index `n` (ids of users or items without a
//! rating are still in the maps).

use super::ratings::{IdMap, Ratings};
use crate::{Error, Result};
use ndarray::{Array1, Array2};
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::seq::SliceRandom;
use ndarray_rand::rand::{Rng, SeedableRng};
use ndarray_rand::rand_distr::{Distribution, Normal};
use std::collections::HashSet;
use std::sync::Arc;

/// Parameters of a synthetic explicit rating set.
///
/// ```
/// use oximl_core::mf::synthetic::Synthetic;
/// let d = Synthetic { users: 20, items: 10, ratings: 100, ..Default::default() }.generate().unwrap();
/// assert_eq!(d.ratings.len(), 100);
/// let (u, i, r) = (d.ratings.user_indices()[0], d.ratings.item_indices()[0], d.ratings.values()[0]);
/// assert!((d.expected(u as usize, i as usize) - r).abs() < 5.0 * d.noise_std);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Synthetic {
    /// Number of users.
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Number of distinct (user, item) ratings (at most users × items).
    pub ratings: usize,
    /// Rank of the true model.
    pub rank: usize,
    /// Global mean μ.
    pub mean: f32,
    /// Standard deviation of user and item biases.
    pub bias_std: f32,
    /// Standard deviation of the interaction term `p_u·q_i`.
    pub signal_std: f32,
    /// Standard deviation of the noise ε (the RMSE floor).
    pub noise_std: f32,
    /// Seed.
    pub seed: u64,
}

impl Default for Synthetic {
    fn default() -> Synthetic {
        Synthetic {
            users: 943,
            items: 1682,
            ratings: 100_000,
            rank: 10,
            mean: 3.5,
            bias_std: 0.3,
            signal_std: 0.8,
            noise_std: 0.3,
            seed: 42,
        }
    }
}

/// Generated ratings and the model they came from.
#[derive(Debug, Clone)]
pub struct SyntheticData {
    /// The ratings (with timestamps), ids `"u{n}"` / `"i{n}"` at index `n`.
    pub ratings: Ratings,
    /// True user factors (users × rank).
    pub user_factors: Array2<f32>,
    /// True item factors (items × rank).
    pub item_factors: Array2<f32>,
    /// True user biases.
    pub user_bias: Array1<f32>,
    /// True item biases.
    pub item_bias: Array1<f32>,
    /// True mean.
    pub mean: f32,
    /// Noise standard deviation.
    pub noise_std: f32,
}

impl SyntheticData {
    /// The noise-free rating of user index `u` for item index `i` (0 when out of range).
    ///
    /// ```
    /// let d = oximl_core::mf::synthetic::Synthetic { users: 3, items: 3, ratings: 4, ..Default::default() }
    ///     .generate().unwrap();
    /// assert!(d.expected(0, 0).is_finite());
    /// ```
    pub fn expected(&self, u: usize, i: usize) -> f32 {
        if u >= self.user_bias.len() || i >= self.item_bias.len() {
            return 0.0;
        }
        let d: f32 = self.user_factors.row(u).iter().zip(self.item_factors.row(i)).map(|(a, b)| a * b).sum();
        self.mean + self.user_bias[u] + self.item_bias[i] + d
    }
}

fn normal(std: f32, name: &str) -> Result<Normal<f32>> {
    Normal::new(0.0, std).map_err(|e| Error::invalid(name, e.to_string()))
}

fn id_maps(users: usize, items: usize) -> Result<(Arc<IdMap>, Arc<IdMap>)> {
    Ok((
        Arc::new(IdMap::from_ids((0..users).map(|n| format!("u{n}")).collect())?),
        Arc::new(IdMap::from_ids((0..items).map(|n| format!("i{n}")).collect())?),
    ))
}

fn check_sizes(users: usize, items: usize, rank: usize) -> Result<()> {
    for (name, v, max) in
        [("users", users, usize::MAX), ("items", items, usize::MAX), ("rank", rank, super::MAX_FACTORS)]
    {
        super::count(name, v, max)?;
    }
    if users > u32::MAX as usize || items > u32::MAX as usize {
        return Err(Error::invalid("users", "at most 2^32 - 1 users and items"));
    }
    Ok(())
}

impl Synthetic {
    /// Draws the model and the ratings.
    ///
    /// ```
    /// let e = oximl_core::mf::synthetic::Synthetic { users: 2, items: 2, ratings: 5, ..Default::default() }.generate();
    /// assert!(e.is_err()); // more ratings than pairs
    /// ```
    pub fn generate(&self) -> Result<SyntheticData> {
        check_sizes(self.users, self.items, self.rank)?;
        let pairs = self.users.saturating_mul(self.items);
        if self.ratings == 0 || self.ratings > pairs {
            return Err(Error::invalid("ratings", format!("must be in 1..={pairs} (users × items)")));
        }
        let mut rng = StdRng::seed_from_u64(self.seed);
        let factor_std = (self.signal_std * self.signal_std / self.rank as f32).sqrt().sqrt();
        let (f, b, e) = (
            normal(factor_std, "signal_std")?,
            normal(self.bias_std, "bias_std")?,
            normal(self.noise_std, "noise_std")?,
        );
        let user_factors = Array2::from_shape_simple_fn((self.users, self.rank), || f.sample(&mut rng));
        let item_factors = Array2::from_shape_simple_fn((self.items, self.rank), || f.sample(&mut rng));
        let user_bias = Array1::from_shape_simple_fn(self.users, || b.sample(&mut rng));
        let item_bias = Array1::from_shape_simple_fn(self.items, || b.sample(&mut rng));
        let chosen: Vec<(u32, u32)> = if self.ratings * 2 > pairs {
            let mut all: Vec<(u32, u32)> =
                (0..self.users as u32).flat_map(|u| (0..self.items as u32).map(move |i| (u, i))).collect();
            all.shuffle(&mut rng);
            all.truncate(self.ratings);
            all
        } else {
            let mut seen = HashSet::with_capacity(self.ratings);
            let mut out = Vec::with_capacity(self.ratings);
            while out.len() < self.ratings {
                let p = (rng.random_range(0..self.users as u32), rng.random_range(0..self.items as u32));
                if seen.insert(p) {
                    out.push(p);
                }
            }
            out
        };
        let mut data = SyntheticData {
            ratings: Ratings::from_triplets([("u", "i", 0.0)], Default::default())?,
            user_factors,
            item_factors,
            user_bias,
            item_bias,
            mean: self.mean,
            noise_std: self.noise_std,
        };
        let value: Vec<f32> =
            chosen.iter().map(|&(u, i)| data.expected(u as usize, i as usize) + e.sample(&mut rng)).collect();
        if value.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite("synthetic ratings".into()));
        }
        let time: Vec<i64> = (0..chosen.len()).map(|_| rng.random_range(0..1_000_000_000i64)).collect();
        let lo = value.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = value.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let (users, items) = id_maps(self.users, self.items)?;
        let (u, i): (Vec<u32>, Vec<u32>) = chosen.into_iter().unzip();
        data.ratings = Ratings::from_parts(users, items, u, i, value, Some(time), (lo, hi));
        Ok(data)
    }
}

/// Parameters of a synthetic implicit-feedback set.
///
/// ```
/// use oximl_core::mf::synthetic::SyntheticImplicit;
/// let r = SyntheticImplicit { users: 30, items: 40, per_user: 5, ..Default::default() }.generate().unwrap();
/// assert_eq!(r.len(), 150);
/// assert!(r.values().iter().all(|&v| (1.0..=5.0).contains(&v)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticImplicit {
    /// Number of users.
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Interactions per user (< items).
    pub per_user: usize,
    /// Rank of the true taste model.
    pub rank: usize,
    /// How strongly taste (vs chance) picks the items.
    pub sharpness: f32,
    /// Standard deviation of the item popularity logits.
    pub popularity_std: f32,
    /// Seed.
    pub seed: u64,
}

impl Default for SyntheticImplicit {
    fn default() -> SyntheticImplicit {
        SyntheticImplicit {
            users: 1000,
            items: 500,
            per_user: 20,
            rank: 10,
            sharpness: 10.0,
            popularity_std: 0.5,
            seed: 42,
        }
    }
}

impl SyntheticImplicit {
    /// Draws the interactions.
    ///
    /// ```
    /// let e = oximl_core::mf::synthetic::SyntheticImplicit { items: 5, per_user: 5, ..Default::default() }.generate();
    /// assert!(e.is_err());
    /// ```
    pub fn generate(&self) -> Result<Ratings> {
        check_sizes(self.users, self.items, self.rank)?;
        if self.per_user == 0 || self.per_user >= self.items {
            return Err(Error::invalid("per_user", format!("must be in 1..{}", self.items)));
        }
        let mut rng = StdRng::seed_from_u64(self.seed);
        let f = normal((1.0 / self.rank as f32).sqrt(), "rank")?;
        let pop = normal(self.popularity_std, "popularity_std")?;
        let uf = Array2::from_shape_simple_fn((self.users, self.rank), || f.sample(&mut rng));
        let itf = Array2::from_shape_simple_fn((self.items, self.rank), || f.sample(&mut rng));
        let popularity: Vec<f32> = (0..self.items).map(|_| pop.sample(&mut rng)).collect();
        let scores = oximl_kernel::matmul(uf.view(), itf.t())?;
        let (mut user, mut item, mut value) = (Vec::new(), Vec::new(), Vec::new());
        let mut keyed: Vec<(f32, u32)> = Vec::with_capacity(self.items);
        for (u, row) in scores.rows().into_iter().enumerate() {
            keyed.clear();
            for (i, (&s, &p)) in row.iter().zip(&popularity).enumerate() {
                let g: f32 = -(-(rng.random::<f32>().max(1e-12)).ln()).ln();
                keyed.push((self.sharpness * s + p + g, i as u32));
            }
            keyed.select_nth_unstable_by(self.per_user - 1, |a, b| b.0.total_cmp(&a.0));
            for &(_, i) in &keyed[..self.per_user] {
                user.push(u as u32);
                item.push(i);
                value.push(rng.random_range(1..=5) as f32);
            }
        }
        let (users, items) = id_maps(self.users, self.items)?;
        Ok(Ratings::from_parts(users, items, user, item, value, None, (1.0, 5.0)))
    }
}
