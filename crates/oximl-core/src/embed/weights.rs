//! Weights per word for sentence sums ([`WordWeights`]): smooth inverse frequency or the caller's own.

use super::vectors::KeyedVectors;
use crate::{Error, Result};
use ndarray::Array1;
use std::collections::HashMap;

/// Where a word's probability `p(w)` for SIF weights comes from.
///
/// ```
/// use std::collections::HashMap;
/// use oximl_core::embed::Probabilities;
/// let counts = HashMap::from([("the".to_string(), 1000.0), ("cat".to_string(), 10.0)]);
/// let _ = Probabilities::Counts(&counts);
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Probabilities<'a> {
    /// From the row order, for files sorted by decreasing frequency (word2vec, GloVe and fastText files are):
    /// Zipf's law, `p(rank r) = (1/r) / Hₙ` with `r` from 1 and `Hₙ = Σ 1/r` over the `n` words.
    Zipf,
    /// From counts (or frequencies) per word: `p(w) = count(w) / Σ counts`. Table words missing from the map get
    /// `p = 0` (weight 1).
    Counts(&'a HashMap<String, f64>),
}

/// One weight per word of a table, multiplying its vector in sentence sums.
///
/// ```
/// use ndarray::array;
/// use oximl_core::embed::{KeyedVectors, Probabilities, WordWeights};
/// let kv = KeyedVectors::new(vec!["the".into(), "cat".into()], array![[1.0f32, 0.0], [0.0, 1.0]]).unwrap();
/// let w = WordWeights::sif(&kv, 1e-3, Probabilities::Zipf).unwrap();
/// assert!(w.as_array()[0] < w.as_array()[1]); // frequent words weigh less
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct WordWeights(pub(crate) Array1<f32>);

impl WordWeights {
    /// Smooth inverse frequency (Arora et al. 2017): `a / (a + p(w))`; `a` is usually `1e-3`..`1e-4` and must be
    /// positive and finite.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use oximl_core::embed::{KeyedVectors, Probabilities, WordWeights};
    /// let kv = KeyedVectors::new(vec!["a".into(), "b".into()], ndarray::array![[1.0f32], [1.0]]).unwrap();
    /// let counts = HashMap::from([("a".to_string(), 3.0), ("b".to_string(), 1.0)]);
    /// let w = WordWeights::sif(&kv, 0.25, Probabilities::Counts(&counts)).unwrap();
    /// assert_eq!(w.as_array().to_vec(), [0.25, 0.5]); // 0.25/(0.25+0.75), 0.25/(0.25+0.25)
    /// ```
    pub fn sif(kv: &KeyedVectors, a: f64, probabilities: Probabilities<'_>) -> Result<WordWeights> {
        if !(a.is_finite() && a > 0.0) {
            return Err(Error::invalid("a", format!("must be positive and finite, got {a}")));
        }
        let p: Vec<f64> = match probabilities {
            Probabilities::Zipf => {
                let h: f64 = (1..=kv.len()).map(|r| 1.0 / r as f64).sum();
                (1..=kv.len()).map(|r| 1.0 / (r as f64 * h)).collect()
            }
            Probabilities::Counts(counts) => {
                if let Some((w, c)) = counts.iter().find(|(_, c)| !(c.is_finite() && **c >= 0.0)) {
                    return Err(Error::invalid("counts", format!("count of {w:?} is {c}, not a finite number ≥ 0")));
                }
                let total: f64 = counts.values().sum();
                if !(total > 0.0 && total.is_finite()) {
                    return Err(Error::invalid("counts", format!("the counts sum to {total}")));
                }
                kv.words().iter().map(|w| counts.get(w).map_or(0.0, |c| c / total)).collect()
            }
        };
        Ok(WordWeights(p.iter().map(|p| (a / (a + p)) as f32).collect()))
    }

    /// Caller-supplied weights per word (e.g. IDF); table words missing from the map get `default`. Every weight
    /// must be finite.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use oximl_core::embed::{KeyedVectors, WordWeights};
    /// let kv = KeyedVectors::new(vec!["a".into(), "b".into()], ndarray::array![[1.0f32], [1.0]]).unwrap();
    /// let w = WordWeights::from_map(&kv, &HashMap::from([("b".to_string(), 2.5)]), 1.0).unwrap();
    /// assert_eq!(w.as_array().to_vec(), [1.0, 2.5]);
    /// ```
    pub fn from_map(kv: &KeyedVectors, weights: &HashMap<String, f32>, default: f32) -> Result<WordWeights> {
        let w: Array1<f32> = kv.words().iter().map(|w| weights.get(w).copied().unwrap_or(default)).collect();
        Self::from_array(kv, w)
    }

    /// Weights in table row order (`kv.len()` finite values).
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, WordWeights};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert!(WordWeights::from_array(&kv, ndarray::array![2.0]).is_ok());
    /// assert!(WordWeights::from_array(&kv, ndarray::array![1.0, 2.0]).is_err());
    /// ```
    pub fn from_array(kv: &KeyedVectors, weights: Array1<f32>) -> Result<WordWeights> {
        if weights.len() != kv.len() {
            return Err(Error::shape(format!("{} weights (one per word)", kv.len()), weights.len().to_string()));
        }
        if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
            return Err(Error::NonFinite(format!("the weight of word {:?}", kv.words()[i])));
        }
        Ok(WordWeights(weights))
    }

    /// The weights, in table row order.
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, WordWeights};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert_eq!(WordWeights::from_array(&kv, ndarray::array![3.0]).unwrap().as_array()[0], 3.0);
    /// ```
    pub fn as_array(&self) -> &Array1<f32> {
        &self.0
    }
}
