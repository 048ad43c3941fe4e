//! Optimizers (SGD with momentum and Nesterov, Adam/AdamW with AMSGrad, RMSprop), learning-rate schedules,
//! global gradient clipping and weight penalties. The update rules are Keras' (see each type).
//!
//! Hyper-parameters are validated once, by [`Optimizer::check`], before training starts.

mod regularizer;
mod schedule;

pub use regularizer::Regularizer;
pub use schedule::Schedule;

use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Keras' defaults for the fields a configuration leaves out: the one place they are written.
mod defaults {
    pub fn sgd_rate() -> f32 {
        0.01
    }
    pub fn rate() -> f32 {
        1e-3
    }
    pub fn beta_1() -> f32 {
        0.9
    }
    pub fn beta_2() -> f32 {
        0.999
    }
    pub fn epsilon() -> f32 {
        1e-7
    }
    pub fn rho() -> f32 {
        0.9
    }
    /// Keras' `AdamW` weight decay.
    pub const ADAMW_WEIGHT_DECAY: f32 = 0.004;
}

/// An optimizer and its hyper-parameters. As JSON (C and Python configure it so), only `name` and
/// `learning_rate` are required: `{"name": "adam", "learning_rate": 0.001, "amsgrad": true}`.
///
/// ```
/// use oximl_core::optim::Optimizer;
/// let sgd = Optimizer::sgd(0.01).momentum(0.9).nesterov(true);
/// assert!(sgd.check().is_ok());
/// assert!(Optimizer::adam(-1.0).check().is_err());
/// assert_eq!(Optimizer::from_name("adam").unwrap(), Optimizer::adam(1e-3));
/// let json: Optimizer = serde_json::from_str(r#"{"name": "adam", "learning_rate": 0.001}"#).unwrap();
/// assert_eq!(json, Optimizer::adam(1e-3));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Optimizer {
    /// `v ← μ·v − lr·g; w ← w + v` (Nesterov: `w ← w + μ·v − lr·g`); decoupled weight decay `w ← w − lr·λ·w`.
    Sgd {
        /// The base learning rate (Keras' default if left out: 0.01 for SGD, 0.001 otherwise).
        #[serde(default = "defaults::sgd_rate")]
        learning_rate: f32,
        /// How the rate changes with the step.
        #[serde(default)]
        schedule: Schedule,
        /// If set, gradients are scaled so that their global L2 norm is at most this (Keras' `global_clipnorm`).
        #[serde(default, alias = "global_clipnorm")]
        clipnorm: Option<f32>,
        /// μ in [0, 1).
        #[serde(default)]
        momentum: f32,
        /// Nesterov momentum.
        #[serde(default)]
        nesterov: bool,
        /// Decoupled weight decay λ ≥ 0.
        #[serde(default)]
        weight_decay: f32,
    },
    /// Adam (AdamW when `weight_decay > 0`): `m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
    /// w ← w − lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε)`, with `v ← max(v̂, v)` for AMSGrad.
    Adam {
        /// The base learning rate.
        #[serde(default = "defaults::rate")]
        learning_rate: f32,
        /// How the rate changes with the step.
        #[serde(default)]
        schedule: Schedule,
        /// The global gradient-norm clip.
        #[serde(default, alias = "global_clipnorm")]
        clipnorm: Option<f32>,
        /// β₁ in [0, 1).
        #[serde(default = "defaults::beta_1")]
        beta_1: f32,
        /// β₂ in [0, 1).
        #[serde(default = "defaults::beta_2")]
        beta_2: f32,
        /// ε > 0.
        #[serde(default = "defaults::epsilon")]
        epsilon: f32,
        /// Use the running maximum of `v`.
        #[serde(default)]
        amsgrad: bool,
        /// Decoupled weight decay λ ≥ 0 (AdamW).
        #[serde(default)]
        weight_decay: f32,
    },
    /// RMSprop: `s ← ρs + (1−ρ)g²; Δ = lr·g/√(s + ε)`; with momentum `u ← μu + Δ; w ← w − u`, else `w ← w − Δ`.
    #[serde(rename = "rmsprop")]
    RmsProp {
        /// The base learning rate.
        #[serde(default = "defaults::rate")]
        learning_rate: f32,
        /// How the rate changes with the step.
        #[serde(default)]
        schedule: Schedule,
        /// The global gradient-norm clip.
        #[serde(default, alias = "global_clipnorm")]
        clipnorm: Option<f32>,
        /// ρ in [0, 1).
        #[serde(default = "defaults::rho")]
        rho: f32,
        /// μ in [0, 1).
        #[serde(default)]
        momentum: f32,
        /// ε > 0.
        #[serde(default = "defaults::epsilon")]
        epsilon: f32,
    },
}

impl Optimizer {
    /// SGD with Keras' defaults (no momentum).
    ///
    /// ```
    /// assert_eq!(oximl_core::optim::Optimizer::sgd(0.1).learning_rate(), 0.1);
    /// ```
    pub fn sgd(learning_rate: f32) -> Optimizer {
        Optimizer::Sgd {
            learning_rate,
            schedule: Schedule::Constant,
            clipnorm: None,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }

    /// Adam with Keras' defaults (β₁ 0.9, β₂ 0.999, ε 1e-7).
    ///
    /// ```
    /// assert!(oximl_core::optim::Optimizer::adam(1e-3).check().is_ok());
    /// ```
    pub fn adam(learning_rate: f32) -> Optimizer {
        Optimizer::Adam {
            learning_rate,
            schedule: Schedule::Constant,
            clipnorm: None,
            beta_1: defaults::beta_1(),
            beta_2: defaults::beta_2(),
            epsilon: defaults::epsilon(),
            amsgrad: false,
            weight_decay: 0.0,
        }
    }

    /// AdamW: Adam with decoupled weight decay (Keras' default λ = 0.004).
    ///
    /// ```
    /// assert!(oximl_core::optim::Optimizer::adamw(1e-3, 0.004).check().is_ok());
    /// ```
    pub fn adamw(learning_rate: f32, weight_decay: f32) -> Optimizer {
        Optimizer::adam(learning_rate).weight_decay(weight_decay)
    }

    /// RMSprop with Keras' defaults (ρ 0.9, no momentum, ε 1e-7).
    ///
    /// ```
    /// assert!(oximl_core::optim::Optimizer::rmsprop(1e-3).check().is_ok());
    /// ```
    pub fn rmsprop(learning_rate: f32) -> Optimizer {
        Optimizer::RmsProp {
            learning_rate,
            schedule: Schedule::Constant,
            clipnorm: None,
            rho: defaults::rho(),
            momentum: 0.0,
            epsilon: defaults::epsilon(),
        }
    }

    /// An optimizer by Keras name (case-insensitive) with Keras' defaults (`sgd` 0.01, `adam`/`rmsprop` 0.001;
    /// `adamw` is Adam with weight decay 0.004).
    ///
    /// ```
    /// assert!(oximl_core::optim::Optimizer::from_name("nadam").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<Optimizer> {
        match name.to_ascii_lowercase().as_str() {
            "adamw" => {
                Ok(crate::nn::by_name::<Optimizer>("optimizer", "adam")?.weight_decay(defaults::ADAMW_WEIGHT_DECAY))
            }
            _ => crate::nn::by_name("optimizer", name),
        }
    }

    /// The rate, schedule and clipping every optimizer has.
    fn common(&self) -> (f32, Schedule, Option<f32>) {
        match *self {
            Optimizer::Sgd { learning_rate, schedule, clipnorm, .. }
            | Optimizer::Adam { learning_rate, schedule, clipnorm, .. }
            | Optimizer::RmsProp { learning_rate, schedule, clipnorm, .. } => (learning_rate, schedule, clipnorm),
        }
    }

    fn common_mut(&mut self) -> (&mut Schedule, &mut Option<f32>) {
        match self {
            Optimizer::Sgd { schedule, clipnorm, .. }
            | Optimizer::Adam { schedule, clipnorm, .. }
            | Optimizer::RmsProp { schedule, clipnorm, .. } => (schedule, clipnorm),
        }
    }

    /// The base learning rate.
    ///
    /// ```
    /// assert_eq!(oximl_core::optim::Optimizer::adam(0.5).learning_rate(), 0.5);
    /// ```
    pub fn learning_rate(&self) -> f32 {
        self.common().0
    }

    /// Changes the base learning rate (what Keras' `ReduceLROnPlateau` and `LearningRateScheduler` do).
    ///
    /// ```
    /// let mut o = oximl_core::optim::Optimizer::adam(0.5);
    /// o.set_learning_rate(0.05);
    /// assert_eq!(o.learning_rate(), 0.05);
    /// ```
    pub fn set_learning_rate(&mut self, rate: f32) {
        match self {
            Optimizer::Sgd { learning_rate, .. }
            | Optimizer::Adam { learning_rate, .. }
            | Optimizer::RmsProp { learning_rate, .. } => *learning_rate = rate,
        }
    }

    /// Sets the learning-rate schedule.
    ///
    /// ```
    /// use oximl_core::optim::{Optimizer, Schedule};
    /// let o = Optimizer::sgd(0.1).schedule(Schedule::Exponential { steps: 100, rate: 0.5 });
    /// assert!(o.check().is_ok());
    /// ```
    pub fn schedule(mut self, schedule: Schedule) -> Optimizer {
        *self.common_mut().0 = schedule;
        self
    }

    /// Clips the global gradient norm to `max_norm`.
    ///
    /// ```
    /// assert!(oximl_core::optim::Optimizer::sgd(0.1).clipnorm(0.0).check().is_err());
    /// ```
    pub fn clipnorm(mut self, max_norm: f32) -> Optimizer {
        *self.common_mut().1 = Some(max_norm);
        self
    }

    /// Sets the momentum (SGD and RMSprop; ignored by Adam, whose β₁ plays that part).
    ///
    /// ```
    /// assert!(oximl_core::optim::Optimizer::sgd(0.1).momentum(1.0).check().is_err());
    /// ```
    pub fn momentum(mut self, value: f32) -> Optimizer {
        if let Optimizer::Sgd { momentum, .. } | Optimizer::RmsProp { momentum, .. } = &mut self {
            *momentum = value;
        }
        self
    }

    /// Turns Nesterov momentum on or off (SGD only).
    ///
    /// ```
    /// let o = oximl_core::optim::Optimizer::sgd(0.1).momentum(0.9).nesterov(true);
    /// assert!(matches!(o, oximl_core::optim::Optimizer::Sgd { nesterov: true, .. }));
    /// ```
    pub fn nesterov(mut self, on: bool) -> Optimizer {
        if let Optimizer::Sgd { nesterov, .. } = &mut self {
            *nesterov = on;
        }
        self
    }

    /// Sets decoupled weight decay (SGD and Adam).
    ///
    /// ```
    /// assert!(oximl_core::optim::Optimizer::sgd(0.1).weight_decay(-0.1).check().is_err());
    /// ```
    pub fn weight_decay(mut self, value: f32) -> Optimizer {
        if let Optimizer::Sgd { weight_decay, .. } | Optimizer::Adam { weight_decay, .. } = &mut self {
            *weight_decay = value;
        }
        self
    }

    /// Turns AMSGrad on or off (Adam only).
    ///
    /// ```
    /// let o = oximl_core::optim::Optimizer::adam(1e-3).amsgrad(true);
    /// assert!(matches!(o, oximl_core::optim::Optimizer::Adam { amsgrad: true, .. }));
    /// ```
    pub fn amsgrad(mut self, on: bool) -> Optimizer {
        if let Optimizer::Adam { amsgrad, .. } = &mut self {
            *amsgrad = on;
        }
        self
    }

    /// Validates every hyper-parameter; training calls it once before any work.
    ///
    /// ```
    /// assert!(oximl_core::optim::Optimizer::adam(f32::NAN).check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        let (learning_rate, schedule, clipnorm) = self.common();
        positive("learning_rate", learning_rate)?;
        schedule.check()?;
        if let Some(n) = clipnorm {
            positive("clipnorm", n)?;
        }
        match *self {
            Optimizer::Sgd { momentum, weight_decay, .. } => {
                unit("momentum", momentum)?;
                non_negative("weight_decay", weight_decay)
            }
            Optimizer::Adam { beta_1, beta_2, epsilon, weight_decay, .. } => {
                unit("beta_1", beta_1)?;
                unit("beta_2", beta_2)?;
                positive("epsilon", epsilon)?;
                non_negative("weight_decay", weight_decay)
            }
            Optimizer::RmsProp { rho, momentum, epsilon, .. } => {
                unit("rho", rho)?;
                unit("momentum", momentum)?;
                positive("epsilon", epsilon)
            }
        }
    }

    /// The global clipping norm, if any.
    pub(crate) fn max_norm(&self) -> Option<f32> {
        self.common().2
    }

    /// How many state vectors the optimizer keeps per parameter tensor.
    pub(crate) fn slots(&self) -> usize {
        match *self {
            Optimizer::Sgd { momentum, .. } => usize::from(momentum > 0.0),
            Optimizer::Adam { amsgrad, .. } => 2 + usize::from(amsgrad),
            Optimizer::RmsProp { momentum, .. } => 1 + usize::from(momentum > 0.0),
        }
    }

    /// Updates one parameter tensor `w` from its gradient `g` (already clipped), at step `state.step`: in chunks
    /// on the library's pool when the tensor is long, each chunk's loop vectorized for the CPU.
    pub(crate) fn update(&self, state: &mut OptimizerState, index: usize, w: &mut [f32], g: &[f32]) {
        let t = state.step;
        let (learning_rate, schedule, _) = self.common();
        let lr = schedule.rate(learning_rate, t);
        let slots = state.slots_for(index, self.slots(), w.len());
        let run = |(w, g, mut slots): Chunk<'_>| {
            oximl_kernel::vectorized(
                #[inline(always)]
                || self.update_chunk(lr, t, w, g, &mut slots),
            )
        };
        if w.len() < oximl_kernel::PAR_MIN_ELEMENTS {
            run((w, g, slots.iter_mut().map(|s| s.as_mut_slice()).collect()));
            return;
        }
        let size = oximl_kernel::CHUNK_ELEMENTS;
        let mut chunks: Vec<Chunk<'_>> =
            w.chunks_mut(size).zip(g.chunks(size)).map(|(w, g)| (w, g, Vec::new())).collect();
        for slot in slots.iter_mut() {
            for (chunk, part) in chunks.iter_mut().zip(slot.chunks_mut(size)) {
                chunk.2.push(part);
            }
        }
        oximl_kernel::install(|| chunks.into_par_iter().for_each(run));
    }

    /// The update rule on one chunk (`slots` are the chunk's parts of the state vectors).
    #[inline(always)]
    fn update_chunk(&self, lr: f32, t: u64, w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        match *self {
            Optimizer::Sgd { momentum, nesterov, weight_decay, .. } => {
                decay(w, lr * weight_decay);
                match slots {
                    [] => w.iter_mut().zip(g).for_each(|(w, &g)| *w -= lr * g),
                    [v, ..] => {
                        for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(g) {
                            *v = momentum * *v - lr * g;
                            *w += if nesterov { momentum * *v - lr * g } else { *v };
                        }
                    }
                }
            }
            Optimizer::Adam { beta_1, beta_2, epsilon, weight_decay, .. } => {
                decay(w, lr * weight_decay);
                let t = (t + 1).min(i32::MAX as u64) as i32;
                let lr_t = lr * (1.0 - beta_2.powi(t)).sqrt() / (1.0 - beta_1.powi(t));
                let (mg, vg) = (1.0 - beta_1, 1.0 - beta_2);
                match slots {
                    [m, v, vmax] => {
                        for ((((w, m), v), vmax), &g) in
                            w.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(vmax.iter_mut()).zip(g)
                        {
                            *m = beta_1 * *m + mg * g;
                            *v = beta_2 * *v + vg * g * g;
                            *vmax = vmax.max(*v);
                            *w -= lr_t * *m / (vmax.sqrt() + epsilon);
                        }
                    }
                    [m, v] => {
                        for (((w, m), v), &g) in w.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                            *m = beta_1 * *m + mg * g;
                            *v = beta_2 * *v + vg * g * g;
                            *w -= lr_t * *m / (v.sqrt() + epsilon);
                        }
                    }
                    _ => {}
                }
            }
            Optimizer::RmsProp { rho, momentum, epsilon, .. } => match slots {
                [s, u] => {
                    for (((w, s), u), &g) in w.iter_mut().zip(s.iter_mut()).zip(u.iter_mut()).zip(g) {
                        *s = rho * *s + (1.0 - rho) * g * g;
                        *u = momentum * *u + lr * g / (*s + epsilon).sqrt();
                        *w -= *u;
                    }
                }
                [s] => {
                    for ((w, s), &g) in w.iter_mut().zip(s.iter_mut()).zip(g) {
                        *s = rho * *s + (1.0 - rho) * g * g;
                        *w -= lr * g / (*s + epsilon).sqrt();
                    }
                }
                _ => {}
            },
        }
    }
}

/// A piece of one parameter tensor's update: weights, gradient, and the same range of each state vector.
type Chunk<'a> = (&'a mut [f32], &'a [f32], Vec<&'a mut [f32]>);

fn decay(w: &mut [f32], factor: f32) {
    if factor > 0.0 {
        w.iter_mut().for_each(|w| *w -= factor * *w);
    }
}

fn positive(name: &str, v: f32) -> Result<()> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(name, format!("must be finite and > 0, got {v}")))
    }
}

fn non_negative(name: &str, v: f32) -> Result<()> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(name, format!("must be finite and ≥ 0, got {v}")))
    }
}

fn unit(name: &str, v: f32) -> Result<()> {
    if (0.0..1.0).contains(&v) { Ok(()) } else { Err(Error::invalid(name, format!("must be in [0, 1), got {v}"))) }
}

/// The optimizer's memory: the step count and the moment vectors of each parameter tensor.
/// Saved with the model when asked, so that training can resume exactly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState {
    /// Steps taken so far.
    pub step: u64,
    /// `slots[tensor][k]`: the k-th state vector of a parameter tensor, in the model's parameter order.
    pub slots: Vec<Vec<Vec<f32>>>,
}

impl OptimizerState {
    fn slots_for(&mut self, index: usize, count: usize, len: usize) -> &mut [Vec<f32>] {
        if self.slots.len() <= index {
            self.slots.resize_with(index + 1, Vec::new);
        }
        let slots = &mut self.slots[index];
        if slots.len() != count || slots.iter().any(|s| s.len() != len) {
            *slots = vec![vec![0.0; len]; count];
        }
        slots
    }
}
