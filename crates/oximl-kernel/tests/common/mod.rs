//! Seeded random arrays for the kernel tests.
use ndarray::{Array, Dimension, ShapeBuilder};
use ndarray_rand::RandomExt;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::Uniform;

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Uniform values in [lo, hi).
pub fn uniform<D: Dimension, Sh: ShapeBuilder<Dim = D>>(
    shape: Sh,
    lo: f64,
    hi: f64,
    rng: &mut StdRng,
) -> Array<f64, D> {
    Array::random_using(shape, Uniform::new(lo, hi).unwrap(), rng)
}
