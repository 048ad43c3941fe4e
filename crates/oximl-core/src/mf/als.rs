//! Alternating least squares, parallel over users then over items on oximl's pool (each row's solve is
//! independent and done by one task, so results do not depend on the thread count).
//!
//! - [`Als`]: explicit ratings with weighted-λ regularization (Zhou et al. 2008, as Spark MLlib): minimizes
//!   `Σ (r − μ − b_u − b_i − p_u·q_i)² + λ·(Σ_u n_u·(‖p_u‖² + b_u²) + Σ_i n_i·(‖q_i‖² + b_i²))`; each half-step
//!   solves every row's normal equations exactly (the Gram matrix through the kernel GEMM, Cholesky in f64), so
//!   the objective never increases ([`MfModel::history`] records it).
//! - [`ImplicitAls`]: implicit feedback (Hu, Koren, Volinsky 2008): preference 1 for every observed pair,
//!   confidence `1 + α·r`, all unobserved pairs weight 1; each row takes `cg_steps` conjugate-gradient steps from
//!   its current value with `YᵀY + λI` precomputed once per half-step by the kernel GEMM, as the `implicit`
//!   library does.

use super::model::{Algorithm, MfModel};
use super::ratings::{Csr, Ratings};
use super::{MAX_FACTORS, MAX_ITERATIONS, cholesky_solve, count, non_negative, positive, zeroed};
use crate::{Cancel, Error, Result};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Explicit ALS with weighted-λ regularization, optionally with user and item biases.
///
/// ```
/// use oximl_core::mf::{Als, synthetic::Synthetic};
/// let data = Synthetic { users: 80, items: 50, ratings: 2000, rank: 3, ..Default::default() }.generate().unwrap();
/// let m = Als { factors: 3, iterations: 5, ..Default::default() }.fit(&data.ratings).unwrap();
/// let h = m.history();
/// assert!(h.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-6)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Als {
    /// Number of latent factors (1 ..= [`super::MAX_FACTORS`]).
    pub factors: usize,
    /// Full sweeps, users then items (1 ..= [`super::MAX_ITERATIONS`]).
    pub iterations: usize,
    /// λ, multiplied by each row's number of ratings (> 0).
    pub regularization: f32,
    /// Learn μ, b_u and b_i too.
    pub biased: bool,
    /// Standard deviation of the initial item factors (≥ 0).
    pub init_std: f32,
    /// Seed of the initialization.
    pub seed: u64,
}

impl Default for Als {
    fn default() -> Als {
        Als { factors: 10, iterations: 10, regularization: 0.05, biased: true, init_std: 0.1, seed: 0 }
    }
}

/// Implicit-feedback ALS (confidence `1 + α·r`, conjugate gradient).
///
/// ```
/// use oximl_core::mf::{ImplicitAls, Ratings};
/// let r = Ratings::from_triplets([("a", "x", 3.0), ("a", "y", 1.0), ("b", "x", 2.0), ("c", "z", 1.0)],
///     Default::default()).unwrap();
/// let m = ImplicitAls { factors: 4, ..Default::default() }.fit(&r).unwrap();
/// let top = m.recommend("b", 1, true).unwrap();
/// assert_eq!(top.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImplicitAls {
    /// Number of latent factors (1 ..= [`super::MAX_FACTORS`]).
    pub factors: usize,
    /// Full sweeps (1 ..= [`super::MAX_ITERATIONS`]).
    pub iterations: usize,
    /// λ (≥ 0).
    pub regularization: f32,
    /// α in the confidence `1 + α·r` (≥ 0).
    pub alpha: f32,
    /// Conjugate-gradient steps per row and sweep (1 ..= [`super::MAX_ITERATIONS`]; `implicit` uses 3).
    pub cg_steps: usize,
    /// Standard deviation of the initial factors (> 0).
    pub init_std: f32,
    /// Seed of the initialization.
    pub seed: u64,
}

impl Default for ImplicitAls {
    fn default() -> ImplicitAls {
        ImplicitAls {
            factors: 64,
            iterations: 15,
            regularization: 0.01,
            alpha: 1.0,
            cg_steps: 3,
            init_std: 0.01,
            seed: 0,
        }
    }
}

/// A `rows × cols` factor matrix of zeros (sizes checked, memory reserved fallibly).
fn zero_matrix(rows: usize, cols: usize) -> Result<Array2<f32>> {
    Array2::from_shape_vec((rows, cols), zeroed("factors", rows, cols)?)
        .map_err(|e| Error::shape("factors", e.to_string()))
}

fn random_matrix(rows: usize, cols: usize, std: f32, rng: &mut StdRng) -> Result<Array2<f32>> {
    let normal = Normal::new(0.0f32, std).map_err(|e| Error::invalid("init_std", e.to_string()))?;
    let mut m = zero_matrix(rows, cols)?;
    m.iter_mut().for_each(|v| *v = normal.sample(rng));
    Ok(m)
}

/// Work buffers of one task of an explicit half-step.
struct Buffers {
    z: Vec<f64>,
    t: Vec<f64>,
    a: Array2<f64>,
    b: Array2<f64>,
}

impl Als {
    /// Validates the hyper-parameters (called by [`Als::fit`]).
    ///
    /// ```
    /// assert!(oximl_core::mf::Als { regularization: 0.0, ..Default::default() }.check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        count("factors", self.factors, MAX_FACTORS)?;
        count("iterations", self.iterations, MAX_ITERATIONS)?;
        positive("regularization", self.regularization)?;
        non_negative("init_std", self.init_std)
    }

    /// Trains on `ratings`.
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// assert!(oximl_core::mf::Als { iterations: 0, ..Default::default() }.fit(&r).is_err());
    /// ```
    pub fn fit(&self, ratings: &Ratings) -> Result<MfModel> {
        self.fit_cancellable(ratings, &Cancel::new())
    }

    /// [`Als::fit`], stopped with [`Error::Cancelled`] soon after `cancel` is set (polled for every row solved).
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// let cancel = oximl_core::Cancel::new();
    /// cancel.cancel();
    /// assert_eq!(oximl_core::mf::Als::default().fit_cancellable(&r, &cancel).unwrap_err().code(), 7);
    /// ```
    pub fn fit_cancellable(&self, ratings: &Ratings, cancel: &Cancel) -> Result<MfModel> {
        self.check()?;
        let (nu, ni, k) = (ratings.users().len(), ratings.items().len(), self.factors);
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut x = zero_matrix(nu, k)?;
        let mut y = random_matrix(ni, k, self.init_std, &mut rng)?;
        let (mut bx, mut by) = (Array1::<f32>::zeros(nu), Array1::<f32>::zeros(ni));
        let mean = if self.biased { ratings.mean() } else { 0.0 };
        let mut history = Vec::new();
        for _ in 0..self.iterations {
            let (users, items) = (ratings.by_user(), ratings.by_item());
            self.half_step(mean, users, y.view(), by.as_slice().unwrap_or(&[]), x.view_mut(), &mut bx, cancel)?;
            self.half_step(mean, items, x.view(), bx.as_slice().unwrap_or(&[]), y.view_mut(), &mut by, cancel)?;
            history.push(self.objective(mean, ratings, &x, &y, &bx, &by));
        }
        MfModel::new(Algorithm::Als(self.clone()), ratings, x, y, bx, by, mean, history)
    }

    /// The regularized objective the model minimizes.
    fn objective(
        &self,
        mean: f32,
        r: &Ratings,
        x: &Array2<f32>,
        y: &Array2<f32>,
        bx: &Array1<f32>,
        by: &Array1<f32>,
    ) -> f64 {
        let mut loss = 0.0f64;
        for ((&u, &i), &v) in r.user_indices().iter().zip(r.item_indices()).zip(r.values()) {
            let (u, i) = (u as usize, i as usize);
            let d: f64 = x.row(u).iter().zip(y.row(i)).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum();
            let e = f64::from(v) - f64::from(mean) - f64::from(bx[u]) - f64::from(by[i]) - d;
            loss += e * e;
        }
        let penalty = |csr: &Csr, f: &Array2<f32>, b: &Array1<f32>| -> f64 {
            (0..csr.rows())
                .map(|row| {
                    let sq: f64 = f.row(row).iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>()
                        + f64::from(b[row]) * f64::from(b[row]);
                    csr.row(row).0.len() as f64 * sq
                })
                .sum()
        };
        loss + f64::from(self.regularization) * (penalty(r.by_user(), x, bx) + penalty(r.by_item(), y, by))
    }

    /// Solves every row of `out` (and its bias) given the fixed side `fixed` / `fixed_bias`.
    #[allow(clippy::too_many_arguments)]
    fn half_step(
        &self,
        mean: f32,
        csr: &Csr,
        fixed: ArrayView2<'_, f32>,
        fixed_bias: &[f32],
        mut out: ArrayViewMut2<'_, f32>,
        out_bias: &mut Array1<f32>,
        cancel: &Cancel,
    ) -> Result<()> {
        let k = self.factors;
        let d = if self.biased { k + 1 } else { k };
        let (lambda, biased) = (f64::from(self.regularization), self.biased);
        let rows: Vec<_> = out.rows_mut().into_iter().zip(out_bias.iter_mut()).enumerate().collect();
        let failed = oximl_kernel::install(|| {
            rows.into_par_iter()
                .map_init(
                    || Buffers { z: Vec::new(), t: Vec::new(), a: Array2::zeros((d, d)), b: Array2::zeros((d, 1)) },
                    |buf, (row, (mut xr, xb))| -> Result<()> {
                        cancel.check("ALS fit")?;
                        let (cols, vals) = csr.row(row);
                        let n = cols.len();
                        if n == 0 {
                            xr.fill(0.0);
                            *xb = 0.0;
                            return Ok(());
                        }
                        buf.z.clear();
                        buf.t.clear();
                        for (&c, &v) in cols.iter().zip(vals) {
                            let c = c as usize;
                            buf.z.extend(fixed.row(c).iter().map(|&f| f64::from(f)));
                            let mut t = f64::from(v);
                            if biased {
                                buf.z.push(1.0);
                                t -= f64::from(mean) + f64::from(fixed_bias[c]);
                            }
                            buf.t.push(t);
                        }
                        let z =
                            ArrayView2::from_shape((n, d), &buf.z).map_err(|e| Error::shape("rows", e.to_string()))?;
                        let t =
                            ArrayView2::from_shape((n, 1), &buf.t).map_err(|e| Error::shape("rows", e.to_string()))?;
                        oximl_kernel::gemm(1.0, z.t(), z, 0.0, buf.a.view_mut())?;
                        oximl_kernel::gemm(1.0, z.t(), t, 0.0, buf.b.view_mut())?;
                        let reg = lambda * n as f64;
                        for j in 0..d {
                            buf.a[[j, j]] += reg;
                        }
                        let (Some(a), Some(b)) = (buf.a.as_slice_mut(), buf.b.as_slice_mut()) else {
                            return Err(Error::shape("contiguous buffers", "strided"));
                        };
                        if !cholesky_solve(a, b, d) {
                            return Err(Error::NonFinite(format!("ALS normal equations of row {row} are singular")));
                        }
                        for (o, &s) in xr.iter_mut().zip(b.iter()) {
                            *o = s as f32;
                        }
                        *xb = if biased { b[k] as f32 } else { 0.0 };
                        Ok(())
                    },
                )
                .find_any(|r| r.is_err())
        });
        failed.unwrap_or(Ok(()))
    }
}

impl ImplicitAls {
    /// Validates the hyper-parameters (called by [`ImplicitAls::fit`]).
    ///
    /// ```
    /// assert!(oximl_core::mf::ImplicitAls { alpha: -1.0, ..Default::default() }.check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        count("factors", self.factors, MAX_FACTORS)?;
        count("iterations", self.iterations, MAX_ITERATIONS)?;
        count("cg_steps", self.cg_steps, MAX_ITERATIONS)?;
        non_negative("regularization", self.regularization)?;
        non_negative("alpha", self.alpha)?;
        positive("init_std", self.init_std)
    }

    /// Trains on `ratings`, whose values are interaction strengths (counts, play time, ...; ≥ 0).
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", -1.0)], Default::default()).unwrap();
    /// assert!(oximl_core::mf::ImplicitAls::default().fit(&r).is_err()); // negative strength
    /// ```
    pub fn fit(&self, ratings: &Ratings) -> Result<MfModel> {
        self.fit_cancellable(ratings, &Cancel::new())
    }

    /// [`ImplicitAls::fit`], stopped with [`Error::Cancelled`] soon after `cancel` is set (polled for every row).
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// let cancel = oximl_core::Cancel::new();
    /// cancel.cancel();
    /// let e = oximl_core::mf::ImplicitAls::default().fit_cancellable(&r, &cancel).unwrap_err();
    /// assert_eq!(e.code(), 7);
    /// ```
    pub fn fit_cancellable(&self, ratings: &Ratings, cancel: &Cancel) -> Result<MfModel> {
        self.check()?;
        if let Some(v) = ratings.values().iter().find(|&&v| v < 0.0) {
            return Err(Error::invalid("ratings", format!("implicit feedback must be >= 0, got {v}")));
        }
        let (nu, ni, k) = (ratings.users().len(), ratings.items().len(), self.factors);
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut x = random_matrix(nu, k, self.init_std, &mut rng)?;
        let mut y = random_matrix(ni, k, self.init_std, &mut rng)?;
        for _ in 0..self.iterations {
            self.half_step(ratings.by_user(), y.view(), x.view_mut(), cancel)?;
            self.half_step(ratings.by_item(), x.view(), y.view_mut(), cancel)?;
        }
        MfModel::new(
            Algorithm::ImplicitAls(self.clone()),
            ratings,
            x,
            y,
            Array1::zeros(nu),
            Array1::zeros(ni),
            0.0,
            Vec::new(),
        )
    }

    /// `YᵀY + λI` by the kernel GEMM.
    pub(crate) fn gram(&self, fixed: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let mut g = oximl_kernel::matmul(fixed.t(), fixed)?;
        for j in 0..g.nrows() {
            g[[j, j]] += self.regularization;
        }
        Ok(g)
    }

    fn half_step(
        &self,
        csr: &Csr,
        fixed: ArrayView2<'_, f32>,
        mut out: ArrayViewMut2<'_, f32>,
        cancel: &Cancel,
    ) -> Result<()> {
        let k = self.factors;
        let gram = self.gram(fixed)?;
        let gram = gram.as_slice().ok_or_else(|| Error::shape("contiguous Gram matrix", "strided"))?;
        let fixed = fixed.as_slice().ok_or_else(|| Error::shape("contiguous factors", "strided"))?;
        let out = out.as_slice_mut().ok_or_else(|| Error::shape("contiguous factors", "strided"))?;
        let (alpha, steps) = (self.alpha, self.cg_steps);
        oximl_kernel::install(|| {
            out.par_chunks_mut(k).enumerate().try_for_each_init(
                || vec![0.0f32; 3 * k],
                |buf, (row, x)| {
                    cancel.check("implicit ALS fit")?;
                    let (cols, vals) = csr.row(row);
                    oximl_kernel::vectorized(
                        #[inline(always)]
                        || cg_row(gram, fixed, k, cols, vals, alpha, steps, x, buf),
                    );
                    Ok(())
                },
            )
        })
    }
}

/// `out ← G·v` for a `k × k` row-major `G`.
#[inline(always)]
fn gemv(g: &[f32], v: &[f32], out: &mut [f32]) {
    let k = v.len();
    for (o, grow) in out.iter_mut().zip(g.chunks_exact(k)) {
        *o = super::dot(grow, v);
    }
}

/// `implicit`'s conjugate-gradient update of one row `x` (warm-started from its current value):
/// solves `(YᵀY + λI + Σ_i (c_i − 1)·y_i y_iᵀ)·x = Σ_i c_i·y_i`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn cg_row(
    gram: &[f32],
    fixed: &[f32],
    k: usize,
    cols: &[u32],
    vals: &[f32],
    alpha: f32,
    steps: usize,
    x: &mut [f32],
    buf: &mut [f32],
) {
    let (r, rest) = buf.split_at_mut(k);
    let (p, ap) = rest.split_at_mut(k);
    // r = b − A·x
    gemv(gram, x, r);
    r.iter_mut().for_each(|v| *v = -*v);
    for (&c, &v) in cols.iter().zip(vals) {
        let yi = &fixed[c as usize * k..(c as usize + 1) * k];
        let conf = 1.0 + alpha * v;
        let coef = conf - (conf - 1.0) * super::dot(yi, x);
        r.iter_mut().zip(yi).for_each(|(rv, &yv)| *rv += coef * yv);
    }
    p.copy_from_slice(r);
    let mut rs_old = super::dot(r, r);
    if rs_old < 1e-20 {
        return;
    }
    for _ in 0..steps {
        gemv(gram, p, ap);
        for (&c, &v) in cols.iter().zip(vals) {
            let yi = &fixed[c as usize * k..(c as usize + 1) * k];
            let coef = alpha * v * super::dot(yi, p);
            ap.iter_mut().zip(yi).for_each(|(a, &yv)| *a += coef * yv);
        }
        let pap = super::dot(p, ap);
        if pap.is_nan() || pap <= 0.0 {
            return;
        }
        let step = rs_old / pap;
        x.iter_mut().zip(p.iter()).for_each(|(xv, &pv)| *xv += step * pv);
        r.iter_mut().zip(ap.iter()).for_each(|(rv, &av)| *rv -= step * av);
        let rs_new = super::dot(r, r);
        if rs_new < 1e-20 {
            return;
        }
        let beta = rs_new / rs_old;
        p.iter_mut().zip(r.iter()).for_each(|(pv, &rv)| *pv = rv + beta * *pv);
        rs_old = rs_new;
    }
}
