//! fastText's character n-grams ([`Subwords`]): the bucket rows of a fastText model and the vectors they give
//! words, in the vocabulary or not, exactly as fastText and gensim compute them.
//!
//! The n-grams of a word are the substrings of `<word>` of `minn..=maxn` characters (whole UTF-8 characters; the
//! single characters `<` and `>` are not n-grams), in order of start then length; n-gram `g` uses bucket row
//! `fnv1a(g) % bucket`, where `fnv1a` is fastText's 32-bit FNV-1a over the UTF-8 bytes with each byte
//! sign-extended first (fastText hashes `char`s, signed on x86; gensim's `ft_hash_bytes` does the same).
//! An unknown word's vector is the mean of its n-gram rows (zero if it has no n-gram); a known word's vector, as
//! gensim's `load_facebook_vectors` computes it, is the mean of its own row and its n-gram rows.

use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut1};

/// fastText's hash of an n-gram: 32-bit FNV-1a over its bytes, each sign-extended as a C `char`.
///
/// ```
/// use oximl_core::embed::subwords::ft_hash;
/// assert_eq!(ft_hash(b""), 2166136261);
/// assert_eq!(ft_hash(b"a"), 0xe40c292c); // FNV-1a of an ASCII byte
/// assert_ne!(ft_hash("é".as_bytes()), 0); // bytes > 127 are sign-extended
/// ```
pub fn ft_hash(bytes: &[u8]) -> u32 {
    bytes.iter().fold(2166136261u32, |h, &b| (h ^ (b as i8 as i32 as u32)).wrapping_mul(16777619))
}

/// Calls `f` with each character n-gram of `<word>` of `minn..=maxn` characters, in fastText's order.
///
/// ```
/// let mut grams = Vec::new();
/// oximl_core::embed::subwords::for_each_ngram("ab", 1, 2, |g| grams.push(String::from_utf8(g.to_vec()).unwrap()));
/// assert_eq!(grams, ["<a", "a", "ab", "b", "b>"]);
/// ```
pub fn for_each_ngram(word: &str, minn: usize, maxn: usize, mut f: impl FnMut(&[u8])) {
    let mut bracketed = Vec::with_capacity(word.len() + 2);
    bracketed.push(b'<');
    bracketed.extend_from_slice(word.as_bytes());
    bracketed.push(b'>');
    let b = &bracketed[..];
    let continuation = |byte: u8| byte & 0xC0 == 0x80;
    for i in (0..b.len()).filter(|&i| !continuation(b[i])) {
        let mut j = i;
        for n in 1..=maxn {
            if j >= b.len() {
                break;
            }
            j += 1;
            while j < b.len() && continuation(b[j]) {
                j += 1;
            }
            if n >= minn && !(n == 1 && (i == 0 || j == b.len())) {
                f(&b[i..j]);
            }
        }
    }
}

/// The subword part of a fastText model: n-gram lengths and the `bucket` rows of n-gram vectors.
///
/// ```
/// use oximl_core::embed::subwords::Subwords;
/// let s = Subwords::new(1, 2, ndarray::Array2::ones((10, 3))).unwrap();
/// let mut v = ndarray::Array1::zeros(3);
/// assert!(s.vector_into("zebra", v.view_mut()));
/// assert_eq!(v.to_vec(), [1.0, 1.0, 1.0]); // the mean of rows of ones
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Subwords {
    minn: usize,
    maxn: usize,
    ngrams: Array2<f32>,
}

impl Subwords {
    /// Subwords from n-gram lengths and the bucket matrix (one row per bucket, at least one).
    ///
    /// ```
    /// use oximl_core::embed::subwords::Subwords;
    /// assert!(Subwords::new(3, 6, ndarray::Array2::zeros((0, 3))).is_err());
    /// assert!(Subwords::new(6, 3, ndarray::Array2::zeros((1, 3))).is_err());
    /// ```
    pub fn new(minn: usize, maxn: usize, ngrams: Array2<f32>) -> Result<Subwords> {
        if ngrams.nrows() == 0 || ngrams.ncols() == 0 {
            return Err(Error::shape("at least one bucket row and one column", format!("{:?}", ngrams.dim())));
        }
        if maxn > 0 && minn > maxn {
            return Err(Error::invalid("minn", format!("{minn} is above maxn {maxn}")));
        }
        if ngrams.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite("an n-gram vector".into()));
        }
        Ok(Subwords { minn, maxn, ngrams })
    }

    /// The shortest n-gram, in characters.
    ///
    /// ```
    /// assert_eq!(oximl_core::embed::subwords::Subwords::new(3, 6, ndarray::Array2::zeros((1, 2))).unwrap().minn(), 3);
    /// ```
    pub fn minn(&self) -> usize {
        self.minn
    }

    /// The longest n-gram, in characters (0: no n-grams).
    ///
    /// ```
    /// assert_eq!(oximl_core::embed::subwords::Subwords::new(3, 6, ndarray::Array2::zeros((1, 2))).unwrap().maxn(), 6);
    /// ```
    pub fn maxn(&self) -> usize {
        self.maxn
    }

    /// The n-gram vectors, one row per bucket.
    ///
    /// ```
    /// assert_eq!(oximl_core::embed::subwords::Subwords::new(3, 6, ndarray::Array2::zeros((7, 2))).unwrap().ngrams().nrows(), 7);
    /// ```
    pub fn ngrams(&self) -> ArrayView2<'_, f32> {
        self.ngrams.view()
    }

    /// The bucket rows of `word`'s n-grams, in fastText's order (repeats kept).
    ///
    /// ```
    /// use oximl_core::embed::subwords::Subwords;
    /// let s = Subwords::new(3, 3, ndarray::Array2::zeros((100, 1))).unwrap();
    /// assert_eq!(s.buckets("ab").len(), 2); // "<ab", "ab>"
    /// ```
    pub fn buckets(&self, word: &str) -> Vec<usize> {
        let mut rows = Vec::new();
        let buckets = self.ngrams.nrows() as u64;
        for_each_ngram(word, self.minn, self.maxn, |g| rows.push((u64::from(ft_hash(g)) % buckets) as usize));
        rows
    }

    /// Adds `word`'s n-gram rows to `sum` in order (`f32`, as gensim) and returns how many there were.
    pub(crate) fn add_ngrams(&self, word: &str, mut sum: ArrayViewMut1<'_, f32>) -> usize {
        let rows = self.buckets(word);
        for &r in &rows {
            sum += &self.ngrams.row(r);
        }
        rows.len()
    }

    /// Writes the vector of an out-of-vocabulary `word` into `out` (length = the columns): the mean of its
    /// n-gram rows, as gensim's `FastTextKeyedVectors`; zero, and `false`, if it has no n-gram.
    ///
    /// ```
    /// use oximl_core::embed::subwords::Subwords;
    /// let s = Subwords::new(5, 5, ndarray::Array2::ones((3, 1))).unwrap();
    /// let mut v = ndarray::Array1::zeros(1);
    /// assert!(!s.vector_into("ab", v.view_mut())); // "<ab>" is shorter than 5
    /// ```
    pub fn vector_into(&self, word: &str, mut out: ArrayViewMut1<'_, f32>) -> bool {
        out.fill(0.0);
        let n = self.add_ngrams(word, out.view_mut());
        if n > 0 {
            out.mapv_inplace(|x| x / n as f32);
        }
        n > 0
    }

    /// [`Subwords::vector_into`] into a new vector.
    ///
    /// ```
    /// use oximl_core::embed::subwords::Subwords;
    /// let s = Subwords::new(1, 3, ndarray::Array2::ones((3, 2))).unwrap();
    /// assert_eq!(s.vector("x").to_vec(), [1.0, 1.0]);
    /// ```
    pub fn vector(&self, word: &str) -> Array1<f32> {
        let mut v = Array1::zeros(self.ngrams.ncols());
        self.vector_into(word, v.view_mut());
        v
    }
}
