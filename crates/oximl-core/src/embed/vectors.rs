//! The table of word vectors ([`KeyedVectors`]): words, their vectors, lookups and the unit-normalized copy used
//! for cosine similarity.

use super::subwords::Subwords;
use crate::{Error, Result};
use compact_str::CompactString;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::sync::OnceLock;

/// How many duplicated words a table met when it was built, with the first few of them. The first occurrence
/// of a word wins; later ones are dropped.
///
/// ```
/// use ndarray::array;
/// use oximl_core::embed::KeyedVectors;
/// let kv = KeyedVectors::new(vec!["a".into(), "a".into()], array![[1.0f32], [2.0]]).unwrap();
/// assert_eq!((kv.len(), kv.duplicates().count), (1, 1));
/// assert_eq!(kv.duplicates().examples, ["a"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Duplicates {
    /// The number of rows dropped because their word came earlier.
    pub count: usize,
    /// Up to [`Duplicates::MAX_EXAMPLES`] of those words, in file order.
    pub examples: Vec<String>,
}

impl Duplicates {
    /// How many duplicated words are kept as examples.
    pub const MAX_EXAMPLES: usize = 10;
}

/// Word vectors, as gensim's `KeyedVectors`: a vocabulary (row `i` is word `i`) and an `f32` matrix with one row
/// per word.
///
/// Words are unique (the first occurrence wins, see [`KeyedVectors::duplicates`]), without ASCII whitespace, and
/// every value is finite. The empty word is a word, as in gensim (fastText models may have it; the text formats
/// cannot write it). A zero vector is allowed: its normalized form stays zero, so its cosine
/// similarity with anything is 0 and it adds nothing to a sentence sum.
///
/// ```
/// use ndarray::array;
/// use oximl_core::embed::KeyedVectors;
/// let kv = KeyedVectors::new(vec!["cat".into(), "dog".into()], array![[3.0f32, 4.0], [0.0, 1.0]]).unwrap();
/// assert_eq!((kv.len(), kv.dim()), (2, 2));
/// assert_eq!(kv.get("cat").unwrap().to_vec(), [3.0, 4.0]);
/// assert_eq!(kv.normalized().row(0).to_vec(), [0.6, 0.8]);
/// ```
pub struct KeyedVectors {
    words: Vec<String>,
    /// Word → row. Words of up to 24 bytes are stored inside the table entry (`CompactString`), so a lookup
    /// touches one cache line of the table instead of also chasing a heap pointer: lookups are half of the
    /// embedding time on a large vocabulary.
    index: FxHashMap<CompactString, usize>,
    vectors: Array2<f32>,
    normalized: OnceLock<Array2<f32>>,
    lowercase: OnceLock<FxHashMap<CompactString, usize>>,
    duplicates: Duplicates,
    invalid_utf8_words: usize,
    subwords: Option<Subwords>,
}

impl std::fmt::Debug for KeyedVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedVectors")
            .field("words", &self.len())
            .field("dim", &self.dim())
            .field("duplicates", &self.duplicates.count)
            .field("invalid_utf8_words", &self.invalid_utf8_words)
            .finish()
    }
}

/// Checks one word of a table; `at` says where it came from (for the message).
pub(crate) fn check_word(word: &str, at: &dyn Fn() -> String) -> Result<()> {
    if word.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(Error::Format(format!("{}: word {word:?} contains whitespace", at())));
    }
    Ok(())
}

impl KeyedVectors {
    /// A table from words and a matrix with one row per word. Duplicated words: the first wins and the others
    /// are counted ([`KeyedVectors::duplicates`]).
    ///
    /// Errors: [`Error::Shape`] if the row count differs from the word count or there are no columns,
    /// [`Error::InvalidArgument`] for a word with ASCII whitespace, [`Error::NonFinite`] for a NaN
    /// or infinite value.
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::embed::KeyedVectors;
    /// assert!(KeyedVectors::new(vec!["a".into()], array![[1.0f32, 2.0]]).is_ok());
    /// assert!(KeyedVectors::new(vec!["a".into()], array![[f32::NAN]]).is_err());
    /// assert!(KeyedVectors::new(vec!["a b".into()], array![[1.0f32]]).is_err());
    /// ```
    pub fn new(words: Vec<String>, vectors: Array2<f32>) -> Result<KeyedVectors> {
        if words.len() != vectors.nrows() {
            return Err(Error::shape(
                format!("{} rows (one per word)", words.len()),
                format!("{} rows", vectors.nrows()),
            ));
        }
        if vectors.ncols() == 0 {
            return Err(Error::shape("at least one column", "0 columns"));
        }
        for (i, w) in words.iter().enumerate() {
            check_word(w, &|| format!("word {i}")).map_err(|e| match e {
                Error::Format(m) => Error::invalid("words", m),
                other => other,
            })?;
        }
        if let Some((i, _)) = vectors.rows().into_iter().enumerate().find(|(_, r)| r.iter().any(|v| !v.is_finite())) {
            return Err(Error::NonFinite(format!("the vector of word {:?} (row {i})", words[i])));
        }
        let dim = vectors.ncols();
        let data = match vectors.as_slice() {
            Some(s) => s.to_vec(),
            None => vectors.iter().copied().collect(),
        };
        Ok(Self::assemble(words, data, dim))
    }

    /// Builds the table from checked parts (`data` = `words.len() × dim` values, row-major), dropping later
    /// duplicates.
    pub(crate) fn assemble(words: Vec<String>, mut data: Vec<f32>, dim: usize) -> KeyedVectors {
        let mut index = FxHashMap::with_capacity_and_hasher(words.len(), FxBuildHasher);
        let mut kept = Vec::with_capacity(words.len());
        let mut duplicates = Duplicates::default();
        for (i, w) in words.into_iter().enumerate() {
            if index.contains_key(w.as_str()) {
                duplicates.count += 1;
                if duplicates.examples.len() < Duplicates::MAX_EXAMPLES {
                    duplicates.examples.push(w);
                }
                continue;
            }
            let row = kept.len();
            if row != i {
                data.copy_within(i * dim..(i + 1) * dim, row * dim);
            }
            index.insert(CompactString::from(w.as_str()), row);
            kept.push(w);
        }
        data.truncate(kept.len() * dim);
        let vectors = match Array2::from_shape_vec((kept.len(), dim), data) {
            Ok(v) => v,
            Err(e) => unreachable!("table of {} × {dim}: {e}", kept.len()),
        };
        KeyedVectors {
            words: kept,
            index,
            vectors,
            normalized: OnceLock::new(),
            lowercase: OnceLock::new(),
            duplicates,
            invalid_utf8_words: 0,
            subwords: None,
        }
    }

    /// Attaches a fastText model's subwords (their columns must equal the table's).
    pub(crate) fn with_subwords(mut self, subwords: Option<Subwords>) -> Self {
        self.subwords = subwords;
        self
    }

    /// The character n-grams of a fastText model (read from a `.bin`), which give unknown words a vector; `None`
    /// for other tables.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert!(kv.subwords().is_none());
    /// ```
    pub fn subwords(&self) -> Option<&Subwords> {
        self.subwords.as_ref()
    }

    /// The vector of `word` as gensim's `kv[word]`: its row if it is in the table, else, for a fastText model,
    /// the mean of its n-gram vectors ([`Subwords::vector`]); `None` for an unknown word of another table.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert_eq!(kv.word_vector("a").unwrap().to_vec(), [1.0]);
    /// assert!(kv.word_vector("b").is_none());
    /// ```
    pub fn word_vector(&self, word: &str) -> Option<Array1<f32>> {
        match self.get(word) {
            Some(v) => Some(v.to_owned()),
            None => self.subwords.as_ref().map(|s| s.vector(word)),
        }
    }

    /// Records how many words of the file were decoded by the `unicode_errors` policy.
    pub(crate) fn with_invalid_utf8_words(mut self, n: usize) -> Self {
        self.invalid_utf8_words = n;
        self
    }

    /// The number of words.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert_eq!(kv.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the table has no word.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec![], ndarray::Array2::zeros((0, 3))).unwrap();
    /// assert!(kv.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The vector length.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32, 0.0]]).unwrap();
    /// assert_eq!(kv.dim(), 2);
    /// ```
    pub fn dim(&self) -> usize {
        self.vectors.ncols()
    }

    /// The vocabulary: word `i` is row `i`.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert_eq!(kv.words(), ["a"]);
    /// ```
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The word of row `i`.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert_eq!((kv.word(0), kv.word(1)), (Some("a"), None));
    /// ```
    pub fn word(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }

    /// The vectors as stored (one row per word).
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[2.0f32]]).unwrap();
    /// assert_eq!(kv.vectors()[[0, 0]], 2.0);
    /// ```
    pub fn vectors(&self) -> ArrayView2<'_, f32> {
        self.vectors.view()
    }

    /// The row of `word`, by exact match.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["Paris".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert_eq!((kv.index_of("Paris"), kv.index_of("paris")), (Some(0), None));
    /// ```
    pub fn index_of(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }

    /// The row of `word`: exact match first, then, with `lowercase_fallback`, a word of the table whose lowercase
    /// form equals the lowercased `word` (a word that is itself lowercase is preferred, then the first in
    /// table order).
    ///
    /// ```
    /// use oximl_core::embed::KeyedVectors;
    /// let kv = KeyedVectors::new(vec!["Paris".into(), "london".into()], ndarray::array![[1.0f32], [2.0]]).unwrap();
    /// assert_eq!(kv.lookup("PARIS", false), None);
    /// assert_eq!(kv.lookup("PARIS", true), Some(0));
    /// assert_eq!(kv.lookup("London", true), Some(1));
    /// ```
    pub fn lookup(&self, word: &str, lowercase_fallback: bool) -> Option<usize> {
        if let Some(&i) = self.index.get(word) {
            return Some(i);
        }
        if !lowercase_fallback {
            return None;
        }
        let map = self.lowercase.get_or_init(|| {
            let mut map = FxHashMap::with_capacity_and_hasher(self.words.len(), FxBuildHasher);
            for (i, w) in self.words.iter().enumerate() {
                let lower = CompactString::from(w.to_lowercase());
                if lower == *w {
                    map.insert(lower, i);
                } else {
                    map.entry(lower).or_insert(i);
                }
            }
            map
        });
        map.get(word.to_lowercase().as_str()).copied()
    }

    /// The vector of `word` (exact match).
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert!(kv.get("a").is_some() && kv.get("b").is_none());
    /// ```
    pub fn get(&self, word: &str) -> Option<ArrayView1<'_, f32>> {
        self.index_of(word).map(|i| self.vectors.row(i))
    }

    /// What was dropped as duplicated when the table was built.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// assert_eq!(kv.duplicates().count, 0);
    /// ```
    pub fn duplicates(&self) -> &Duplicates {
        &self.duplicates
    }

    /// How many words of the file read were not valid UTF-8 and were decoded by
    /// [`LoadOptions::unicode_errors`](super::LoadOptions::unicode_errors) (`"replace"` or `"ignore"`); 0 for a
    /// table built otherwise.
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, LoadOptions, UnicodeErrors};
    /// let o = LoadOptions::default().unicode_errors(UnicodeErrors::Ignore);
    /// let kv = KeyedVectors::read_bytes(b"2 1\nna\xefve 1\nok 2\n", &o).unwrap();
    /// assert_eq!((kv.words()[0].as_str(), kv.invalid_utf8_words()), ("nave", 1));
    /// ```
    pub fn invalid_utf8_words(&self) -> usize {
        self.invalid_utf8_words
    }

    /// The vectors scaled to unit length (computed once, on the library's pool, at first use). A zero vector
    /// stays zero.
    ///
    /// ```
    /// use ndarray::array;
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into(), "z".into()], array![[0.0f32, 2.0], [0.0, 0.0]]).unwrap();
    /// assert_eq!(kv.normalized(), array![[0.0, 1.0], [0.0, 0.0]]);
    /// ```
    pub fn normalized(&self) -> ArrayView2<'_, f32> {
        self.normalized
            .get_or_init(|| {
                let mut n = self.vectors.clone();
                oximl_kernel::install(|| {
                    n.axis_chunks_iter_mut(Axis(0), 256).into_par_iter().for_each(|mut block| {
                        for mut row in block.rows_mut() {
                            normalize(row.view_mut());
                        }
                    })
                });
                n
            })
            .view()
    }
}

/// Scales `v` to unit length with the kernel; a zero vector stays zero. Returns the norm it had.
/// If the `f32` norm under- or overflows (values near 1e-23 or 1e19), it is computed in `f64`.
pub(crate) fn normalize(mut v: ndarray::ArrayViewMut1<'_, f32>) -> f64 {
    let n = oximl_kernel::norm_l2(v.view());
    if n.is_finite() && n > 0.0 && n.is_normal() && n < 1e18 && n > 1e-18 {
        oximl_kernel::scale(1.0 / n, v.view_mut());
        return f64::from(n);
    }
    let max = v.iter().fold(0.0f64, |m, &x| m.max(f64::from(x).abs()));
    if max == 0.0 || !max.is_finite() {
        // Zero stays zero; a non-finite sum cannot happen for finite tables (see the callers).
        return max;
    }
    let n = v.iter().map(|&x| (f64::from(x) / max).powi(2)).sum::<f64>().sqrt() * max;
    v.mapv_inplace(|x| (f64::from(x) / n) as f32);
    n
}
