//! Sentence vectors: `w = Σⱼ cⱼ·vⱼ / ‖Σⱼ cⱼ·vⱼ‖` over the known words `j` of a text, with weights `cⱼ = 1` unless
//! [`WordWeights`] are given (SIF, TF-IDF, ...).
//!
//! Sums run in `f32` through the kernel's `segment_sum_rows`, rows added in token order (the rows of a whole block
//! of texts are looked up first, so the kernel can prefetch them), the norm through `norm_l2`; a sum whose `f32`
//! norm would under- or overflow is normalized in `f64`, and a sum that overflows `f32` (vectors near `f32::MAX`) is
//! summed again in `f64`, so finite inputs always give a finite unit vector. A text with no known word has no
//! direction: [`Embedder::sentence_vector`] returns `None` and [`Embedder::embed_batch`] a zero row with
//! `found = false` — never NaN. A sum that is exactly zero (e.g. only zero vectors) gives a zero vector.

use super::tokenize::{TokenizeOptions, for_each_token};
use super::vectors::{KeyedVectors, normalize};
use super::weights::WordWeights;
use crate::{Cancel, Error, Result};
use ndarray::{Array1, Array2, ArrayViewMut1, ArrayViewMut2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What to do with a word that is not in the table.
///
/// ```
/// use oximl_core::embed::OovPolicy;
/// assert_eq!(OovPolicy::default(), OovPolicy::Skip);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OovPolicy {
    /// Ignore it (the default).
    #[default]
    Skip,
    /// Fail with [`Error::InvalidArgument`] naming the word.
    Error,
    /// Count it as a zero vector. The normalized direction is the same as with `Skip`; the difference is that a
    /// text whose words are all unknown gives a zero vector (`Some`, `found = true`) instead of no result.
    Zero,
    /// Give it the vector of its character n-grams ([`KeyedVectors::word_vector`], weight 1 with weights), as
    /// fastText; needs a table read from a fastText model (else [`Error::InvalidArgument`]).
    Subwords,
}

/// How sentence vectors are made, as data: the names and defaults of these settings for every front door (the JSON
/// options of C's `oximl_embeddings_load`, the keywords of Python's `KeyedVectors.embed`). Unknown keys are left to
/// the caller (it is flattened into larger option objects); see [`Embedder::options`].
///
/// ```
/// use oximl_core::embed::{EmbedOptions, OovPolicy};
/// let o: EmbedOptions = serde_json::from_str(r#"{"oov": "zero", "tokenizer": {"lowercase": true}}"#).unwrap();
/// assert_eq!((o.oov, o.lowercase_fallback), (OovPolicy::Zero, false));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmbedOptions {
    /// Unknown words: `"skip"` (default), `"error"`, `"zero"` or `"subwords"` ([`OovPolicy`]).
    pub oov: OovPolicy,
    /// Look unknown words up again lowercased ([`KeyedVectors::lookup`]).
    pub lowercase_fallback: bool,
    /// How texts are split (`{"lowercase": false, "keep_punctuation": false}`).
    pub tokenizer: TokenizeOptions,
}

/// Sentence vectors from a table, with an OOV policy, an optional lowercase fallback, a tokenizer and optional
/// weights.
///
/// ```
/// use ndarray::array;
/// use oximl_core::embed::{Embedder, KeyedVectors};
/// let kv = KeyedVectors::new(vec!["hot".into(), "dog".into()], array![[1.0f32, 0.0], [0.0, 2.0]]).unwrap();
/// let e = Embedder::new(&kv);
/// let v = e.sentence_vector(&["hot", "dog", "unknown"]).unwrap().unwrap();
/// assert!((v[0] - 1.0 / 5f32.sqrt()).abs() < 1e-6 && (v[1] - 2.0 / 5f32.sqrt()).abs() < 1e-6);
/// assert!(e.sentence_vector(&["unknown"]).unwrap().is_none());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Embedder<'a> {
    kv: &'a KeyedVectors,
    oov: OovPolicy,
    lowercase_fallback: bool,
    tokenize: TokenizeOptions,
    weights: Option<&'a WordWeights>,
}

/// The sentence vectors of a batch.
///
/// ```
/// use oximl_core::embed::{Embedder, KeyedVectors};
/// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[2.0f32]]).unwrap();
/// let b = Embedder::new(&kv).embed_batch(&["a a", "zzz"]).unwrap();
/// assert_eq!(b.vectors, ndarray::array![[1.0], [0.0]]);
/// assert_eq!(b.found, [true, false]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// One row per text (zero where `found` is false).
    pub vectors: Array2<f32>,
    /// Whether each text had a vector (see [`Embedder::sentence_vector`]).
    pub found: Vec<bool>,
}

/// Texts per parallel task in [`Embedder::embed_batch`].
const TEXTS_PER_TASK: usize = 64;

/// The table rows of a block of texts, gathered before they are summed: text `i` is segment
/// `rows[offsets[i]..offsets[i + 1]]` (with `weights` alongside when the embedder has weights).
#[derive(Debug)]
struct Gather {
    rows: Vec<usize>,
    weights: Vec<f32>,
    offsets: Vec<usize>,
    found: Vec<bool>,
    /// The n-gram vectors of unknown words ([`OovPolicy::Subwords`]), `dim` values each, and their segments.
    oov_vectors: Vec<f32>,
    oov_segments: Vec<usize>,
}

impl Default for Gather {
    fn default() -> Self {
        Gather {
            rows: Vec::new(),
            weights: Vec::new(),
            offsets: vec![0],
            found: Vec::new(),
            oov_vectors: Vec::new(),
            oov_segments: Vec::new(),
        }
    }
}

impl Gather {
    fn clear(&mut self) {
        self.rows.clear();
        self.weights.clear();
        self.offsets.truncate(1);
        self.found.clear();
        self.oov_vectors.clear();
        self.oov_segments.clear();
    }

    /// The n-gram vectors of the unknown words of segment `s`.
    fn oov_of(&self, s: usize, dim: usize) -> impl Iterator<Item = &[f32]> {
        self.oov_segments
            .iter()
            .zip(self.oov_vectors.chunks_exact(dim))
            .filter_map(move |(o, v)| (*o == s).then_some(v))
    }

    fn end_segment(&mut self, found: bool) {
        self.offsets.push(self.rows.len());
        self.found.push(found);
    }
}

impl<'a> Embedder<'a> {
    /// An embedder with the defaults: skip unknown words, no lowercase fallback, default tokenizer, no weights.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// let _ = oximl_core::embed::Embedder::new(&kv);
    /// ```
    pub fn new(kv: &'a KeyedVectors) -> Self {
        Embedder {
            kv,
            oov: OovPolicy::Skip,
            lowercase_fallback: false,
            tokenize: TokenizeOptions::default(),
            weights: None,
        }
    }

    /// Every setting of `options` at once (OOV policy, lowercase fallback, tokenizer).
    ///
    /// ```
    /// use oximl_core::embed::{EmbedOptions, Embedder, KeyedVectors, OovPolicy};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// let o = EmbedOptions { oov: OovPolicy::Error, ..EmbedOptions::default() };
    /// assert!(Embedder::new(&kv).options(o).sentence_vector(&["b"]).is_err());
    /// ```
    pub fn options(self, options: EmbedOptions) -> Self {
        self.oov(options.oov).lowercase_fallback(options.lowercase_fallback).tokenizer(options.tokenizer)
    }

    /// The policy for unknown words.
    ///
    /// ```
    /// use oximl_core::embed::{Embedder, KeyedVectors, OovPolicy};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert!(Embedder::new(&kv).oov(OovPolicy::Error).sentence_vector(&["b"]).is_err());
    /// assert_eq!(Embedder::new(&kv).oov(OovPolicy::Zero).sentence_vector(&["b"]).unwrap().unwrap()[0], 0.0);
    /// ```
    pub fn oov(mut self, policy: OovPolicy) -> Self {
        self.oov = policy;
        self
    }

    /// Look unknown words up again lowercased ([`KeyedVectors::lookup`]).
    ///
    /// ```
    /// use oximl_core::embed::{Embedder, KeyedVectors};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert!(Embedder::new(&kv).lowercase_fallback(true).sentence_vector(&["A"]).unwrap().is_some());
    /// ```
    pub fn lowercase_fallback(mut self, yes: bool) -> Self {
        self.lowercase_fallback = yes;
        self
    }

    /// The tokenizer of [`Embedder::embed_text`] and [`Embedder::embed_batch`].
    ///
    /// ```
    /// use oximl_core::embed::{Embedder, KeyedVectors, TokenizeOptions};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// let e = Embedder::new(&kv).tokenizer(TokenizeOptions::default().lowercase(true));
    /// assert!(e.embed_text("A!").unwrap().is_some());
    /// ```
    pub fn tokenizer(mut self, options: TokenizeOptions) -> Self {
        self.tokenize = options;
        self
    }

    /// Weights per word ([`WordWeights`], built for this table: [`Error::Shape`] otherwise).
    ///
    /// ```
    /// use oximl_core::embed::{Embedder, KeyedVectors, WordWeights};
    /// let kv = KeyedVectors::new(vec!["a".into(), "b".into()], ndarray::array![[1.0f32, 0.0], [0.0, 1.0]]).unwrap();
    /// let w = WordWeights::from_array(&kv, ndarray::array![3.0, 4.0]).unwrap();
    /// let v = Embedder::new(&kv).weights(&w).unwrap().sentence_vector(&["a", "b"]).unwrap().unwrap();
    /// assert_eq!(v.to_vec(), [0.6, 0.8]);
    /// ```
    pub fn weights(mut self, weights: &'a WordWeights) -> Result<Self> {
        if weights.0.len() != self.kv.len() {
            return Err(Error::shape(format!("{} weights (one per word)", self.kv.len()), weights.0.len().to_string()));
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// Records token `t` (position `pos`) of the current text in `g`; returns whether it counts as found.
    #[inline]
    fn gather(&self, t: &str, pos: usize, g: &mut Gather) -> Result<bool> {
        match self.kv.lookup(t, self.lowercase_fallback) {
            Some(i) => {
                g.rows.push(i);
                if let Some(w) = self.weights {
                    g.weights.push(w.0[i]);
                }
                Ok(true)
            }
            None => match self.oov {
                OovPolicy::Skip => Ok(false),
                OovPolicy::Zero => Ok(true),
                OovPolicy::Subwords => {
                    let sub = self.kv.subwords().ok_or_else(|| {
                        Error::invalid("oov", "\"subwords\" needs a table read from a fastText model (.bin)")
                    })?;
                    let start = g.oov_vectors.len();
                    g.oov_vectors.resize(start + self.kv.dim(), 0.0);
                    sub.vector_into(t, ArrayViewMut1::from(&mut g.oov_vectors[start..]));
                    g.oov_segments.push(g.found.len());
                    Ok(true)
                }
                OovPolicy::Error => {
                    Err(Error::invalid("tokens", format!("word {t:?} (token {pos}) is not in the vocabulary")))
                }
            },
        }
    }

    /// Records the words of `text` (split by the tokenizer) as the next segment of `g`.
    fn gather_text(&self, text: &str, buf: &mut String, g: &mut Gather) -> Result<()> {
        let mut found = false;
        let mut pos = 0;
        for_each_token(text, &self.tokenize, buf, |t| {
            found |= self.gather(t, pos, g)?;
            pos += 1;
            Ok::<(), Error>(())
        })?;
        g.end_segment(found);
        Ok(())
    }

    /// Records the caller's `tokens` as the next segment of `g`.
    fn gather_tokens<S: AsRef<str>>(&self, tokens: &[S], g: &mut Gather) -> Result<()> {
        let mut found = false;
        for (pos, t) in tokens.iter().enumerate() {
            found |= self.gather(t.as_ref(), pos, g)?;
        }
        g.end_segment(found);
        Ok(())
    }

    /// Sums the segments of `g` into the rows of `out` (one per segment) with the kernel and normalizes the rows
    /// that have a vector; the others are zero.
    fn sum_segments(&self, g: &Gather, mut out: ArrayViewMut2<'_, f32>) -> Result<()> {
        let weights = self.weights.map(|_| &g.weights[..]);
        oximl_kernel::reduce::segment_sum_rows(self.kv.vectors(), &g.rows, weights, &g.offsets, out.view_mut())?;
        for (s, v) in g.oov_segments.iter().zip(g.oov_vectors.chunks_exact(self.kv.dim())) {
            out.row_mut(*s).iter_mut().zip(v).for_each(|(o, x)| *o += x);
        }
        for (s, (mut row, &found)) in out.rows_mut().into_iter().zip(&g.found).enumerate() {
            if row.iter().any(|x| !x.is_finite()) {
                // The f32 sum overflowed (finite vectors near f32::MAX): sum again in f64, where it cannot.
                let segment = g.offsets[s]..g.offsets[s + 1];
                let mut sum = self.sum_f64(&g.rows[segment.clone()], weights.map(|w| &w[segment]));
                for v in g.oov_of(s, self.kv.dim()) {
                    sum.iter_mut().zip(v).for_each(|(t, &x)| *t += f64::from(x));
                }
                let max = sum.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                if !max.is_finite() {
                    return Err(Error::NonFinite(format!("the sentence vector of text {s} of the block")));
                }
                let norm = sum.iter().map(|x| (x / max).powi(2)).sum::<f64>().sqrt() * max;
                row.iter_mut().zip(&sum).for_each(|(r, x)| *r = if norm > 0.0 { (x / norm) as f32 } else { 0.0 });
            } else if found {
                normalize(row);
            }
        }
        Ok(())
    }

    /// `Σ cⱼ·vⱼ` over table rows `rows` (weights `c`, or 1), in `f64`.
    fn sum_f64(&self, rows: &[usize], weights: Option<&[f32]>) -> Vec<f64> {
        let mut sum = vec![0.0f64; self.kv.dim()];
        for (j, &r) in rows.iter().enumerate() {
            let c = weights.map_or(1.0, |w| f64::from(w[j]));
            sum.iter_mut().zip(self.kv.vectors().row(r)).for_each(|(s, &x)| *s += c * f64::from(x));
        }
        sum
    }

    /// Writes the sentence vector of `tokens` into `out` (length [`KeyedVectors::dim`]) and returns whether there
    /// was one; `out` is zero when not.
    ///
    /// ```
    /// use oximl_core::embed::{Embedder, KeyedVectors};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[-3.0f32]]).unwrap();
    /// let mut out = ndarray::Array1::zeros(1);
    /// assert!(Embedder::new(&kv).sentence_vector_into(&["a"], out.view_mut()).unwrap());
    /// assert_eq!(out[0], -1.0);
    /// ```
    pub fn sentence_vector_into<S: AsRef<str>>(&self, tokens: &[S], out: ArrayViewMut1<'_, f32>) -> Result<bool> {
        if out.len() != self.kv.dim() {
            return Err(Error::shape(format!("an output of {} values", self.kv.dim()), out.len().to_string()));
        }
        let mut g = Gather::default();
        self.gather_tokens(tokens, &mut g)?;
        self.sum_segments(&g, out.insert_axis(Axis(0)))?;
        Ok(g.found[0])
    }

    /// `Σv / ‖Σv‖` over the known words among the caller's `tokens` (weighted if weights are set); `None` when no
    /// token is known (or, with [`OovPolicy::Zero`], when there is no token).
    ///
    /// ```
    /// use oximl_core::embed::{Embedder, KeyedVectors};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32, 1.0]]).unwrap();
    /// assert!(Embedder::new(&kv).sentence_vector::<&str>(&[]).unwrap().is_none());
    /// ```
    pub fn sentence_vector<S: AsRef<str>>(&self, tokens: &[S]) -> Result<Option<Array1<f32>>> {
        let mut out = Array1::zeros(self.kv.dim());
        Ok(self.sentence_vector_into(tokens, out.view_mut())?.then_some(out))
    }

    fn text_into(&self, text: &str, out: ArrayViewMut1<'_, f32>) -> Result<bool> {
        let mut g = Gather::default();
        self.gather_text(text, &mut String::new(), &mut g)?;
        self.sum_segments(&g, out.insert_axis(Axis(0)))?;
        Ok(g.found[0])
    }

    /// [`Embedder::sentence_vector`] of a text split by the embedder's tokenizer.
    ///
    /// ```
    /// use oximl_core::embed::{Embedder, KeyedVectors};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert_eq!(Embedder::new(&kv).embed_text("a, a.").unwrap().unwrap()[0], 1.0);
    /// assert!(Embedder::new(&kv).embed_text("").unwrap().is_none());
    /// ```
    pub fn embed_text(&self, text: &str) -> Result<Option<Array1<f32>>> {
        let mut out = Array1::zeros(self.kv.dim());
        Ok(self.text_into(text, out.view_mut())?.then_some(out))
    }

    /// Embeds `items` by blocks of [`TEXTS_PER_TASK`] on the pool: `gather` records an item's rows as the next
    /// segment of a block's [`Gather`], then the block is summed by one kernel call and normalized. `cancel` is
    /// polled before each block.
    fn batch<T: Sync>(
        &self,
        items: &[T],
        cancel: &Cancel,
        gather: impl Fn(&T, &mut String, &mut Gather) -> Result<()> + Sync,
    ) -> Result<Batch> {
        let mut vectors = Array2::zeros((items.len(), self.kv.dim()));
        let tasks: Vec<_> =
            vectors.axis_chunks_iter_mut(Axis(0), TEXTS_PER_TASK).zip(items.chunks(TEXTS_PER_TASK)).collect();
        let results: Vec<Result<Vec<bool>>> = oximl_kernel::install(|| {
            tasks
                .into_par_iter()
                .map_init(
                    || (String::new(), Gather::default()),
                    |(buf, g), (block, items)| {
                        cancel.check("embedding the batch")?;
                        g.clear();
                        for item in items {
                            gather(item, buf, g)?;
                        }
                        self.sum_segments(g, block)?;
                        Ok(g.found.clone())
                    },
                )
                .collect()
        });
        let mut found = Vec::with_capacity(items.len());
        for r in results {
            found.extend(r?);
        }
        Ok(Batch { vectors, found })
    }

    /// The sentence vectors of many texts, in parallel on the library's pool, into one contiguous matrix (row `i`
    /// = text `i`). Each text is computed by one thread in token order, so the result is identical for any
    /// thread count. With [`OovPolicy::Error`], the error is the one of the first failing text.
    ///
    /// ```
    /// use oximl_core::embed::{Embedder, KeyedVectors};
    /// let kv = KeyedVectors::new(vec!["x".into(), "y".into()], ndarray::array![[1.0f32, 0.0], [0.0, 1.0]]).unwrap();
    /// let b = Embedder::new(&kv).embed_batch(&["x", "y y", ""]).unwrap();
    /// assert_eq!(b.vectors.dim(), (3, 2));
    /// assert_eq!(b.found, [true, true, false]);
    /// ```
    pub fn embed_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Batch> {
        self.embed_batch_cancellable(texts, &Cancel::new())
    }

    /// [`Embedder::embed_batch`] that stops with [`Error::Cancelled`] soon after `cancel` is cancelled (polled
    /// every block of texts).
    ///
    /// ```
    /// use oximl_core::{Cancel, embed::{Embedder, KeyedVectors}};
    /// let kv = KeyedVectors::new(vec!["x".into()], ndarray::array![[1.0f32]]).unwrap();
    /// let cancel = Cancel::new();
    /// assert!(Embedder::new(&kv).embed_batch_cancellable(&["x"], &cancel).is_ok());
    /// cancel.cancel();
    /// assert!(Embedder::new(&kv).embed_batch_cancellable(&["x"], &cancel).is_err());
    /// ```
    pub fn embed_batch_cancellable<S: AsRef<str> + Sync>(&self, texts: &[S], cancel: &Cancel) -> Result<Batch> {
        self.batch(texts, cancel, |t, buf, g| self.gather_text(t.as_ref(), buf, g))
    }

    /// [`Embedder::embed_batch`] on texts the caller has already split into tokens.
    ///
    /// ```
    /// use oximl_core::embed::{Embedder, KeyedVectors};
    /// let kv = KeyedVectors::new(vec!["x".into()], ndarray::array![[2.0f32]]).unwrap();
    /// let b = Embedder::new(&kv).embed_batch_tokens(&[vec!["x", "x"], vec![]]).unwrap();
    /// assert_eq!(b.found, [true, false]);
    /// ```
    pub fn embed_batch_tokens<S: AsRef<str> + Sync>(&self, texts: &[Vec<S>]) -> Result<Batch> {
        self.embed_batch_tokens_cancellable(texts, &Cancel::new())
    }

    /// [`Embedder::embed_batch_tokens`] that stops with [`Error::Cancelled`] soon after `cancel` is cancelled.
    ///
    /// ```
    /// use oximl_core::{Cancel, embed::{Embedder, KeyedVectors}};
    /// let kv = KeyedVectors::new(vec!["x".into()], ndarray::array![[1.0f32]]).unwrap();
    /// let cancel = Cancel::new();
    /// cancel.cancel();
    /// assert!(Embedder::new(&kv).embed_batch_tokens_cancellable(&[vec!["x"]], &cancel).is_err());
    /// ```
    pub fn embed_batch_tokens_cancellable<S: AsRef<str> + Sync>(
        &self,
        texts: &[Vec<S>],
        cancel: &Cancel,
    ) -> Result<Batch> {
        self.batch(texts, cancel, |t, _, g| self.gather_tokens(t, g))
    }
}
