//! Cosine similarity and nearest neighbours over the unit-normalized table ([`KeyedVectors::normalized`]).
//!
//! A batch of queries is normalized, then multiplied by the transposed table in one kernel GEMM per block of
//! queries; the `k` best of each row are selected in parallel. Ties are broken by row order, so results are
//! deterministic. Words with a zero vector have similarity 0 with everything.

use super::vectors::{KeyedVectors, normalize};
use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

/// What to find neighbours of: a word of the table (excluded from its own results, as in gensim) or a vector.
///
/// ```
/// use oximl_core::embed::Query;
/// let v = ndarray::array![1.0f32, 0.0];
/// let _ = (Query::from("king"), Query::from(v.view()));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Query<'q> {
    /// A word of the table.
    Word(&'q str),
    /// A vector of the table's dimension.
    Vector(ArrayView1<'q, f32>),
}

impl<'q> From<&'q str> for Query<'q> {
    fn from(w: &'q str) -> Self {
        Query::Word(w)
    }
}

impl<'q> From<ArrayView1<'q, f32>> for Query<'q> {
    fn from(v: ArrayView1<'q, f32>) -> Self {
        Query::Vector(v)
    }
}

/// Query rows per GEMM block (bounds the score buffer to `QUERY_BLOCK × words` values).
const QUERY_BLOCK: usize = 128;

impl KeyedVectors {
    fn row_of(&self, word: &str) -> Result<usize> {
        self.index_of(word).ok_or_else(|| Error::invalid("word", format!("{word:?} is not in the vocabulary")))
    }

    /// The cosine similarity of two words of the table (0 if either has a zero vector).
    ///
    /// ```
    /// use ndarray::array;
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into(), "b".into()], array![[1.0f32, 0.0], [1.0, 1.0]]).unwrap();
    /// assert!((kv.similarity("a", "b").unwrap() - 0.5f32.sqrt()).abs() < 1e-6);
    /// assert!(kv.similarity("a", "zzz").is_err());
    /// ```
    pub fn similarity(&self, a: &str, b: &str) -> Result<f32> {
        let (i, j) = (self.row_of(a)?, self.row_of(b)?);
        let n = self.normalized();
        Ok(oximl_kernel::dot(n.row(i), n.row(j))?)
    }

    /// The `k` rows most similar to `query` by cosine, best first, as `(row, cosine)` ([`KeyedVectors::word`]
    /// gives the word), leaving out the words of `exclude` (words not in the table are ignored) and, for a word
    /// query, the word itself. Fewer than `k` if the table is smaller.
    ///
    /// Errors: an unknown query word ([`Error::InvalidArgument`]), a vector of the wrong length
    /// ([`Error::Shape`]), a zero vector (no direction: [`Error::InvalidArgument`]), a NaN or infinity
    /// ([`Error::NonFinite`]).
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::embed::KeyedVectors;
    /// let kv = KeyedVectors::new(
    ///     vec!["king".into(), "queen".into(), "apple".into()],
    ///     array![[1.0f32, 0.1], [0.9, 0.2], [0.0, 1.0]],
    /// ).unwrap();
    /// let best = kv.most_similar("king", 1, &[]).unwrap();
    /// assert_eq!(kv.word(best[0].0), Some("queen"));
    /// let v = array![0.0f32, 1.0];
    /// assert_eq!(kv.most_similar(v.view(), 2, &["apple"]).unwrap()[0].0, 1);
    /// ```
    pub fn most_similar<'q>(
        &self,
        query: impl Into<Query<'q>>,
        k: usize,
        exclude: &[&str],
    ) -> Result<Vec<(usize, f32)>> {
        self.most_similar_combined(&[query.into()], &[], k, exclude)
    }

    /// gensim's `most_similar(positive, negative)` (3CosAdd analogies): the `k` rows most similar by cosine to
    /// `Σ p̂ − Σ n̂`, the sum of the unit-normalized `positive` words or vectors minus the unit-normalized
    /// `negative` ones, leaving out every word given (and those of `exclude`). With a single positive term it is
    /// [`KeyedVectors::most_similar`]. Errors: no term at all, an unknown word, a combination that is zero (no
    /// direction), as [`KeyedVectors::most_similar`] otherwise.
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::embed::{KeyedVectors, Query};
    /// let kv = KeyedVectors::new(
    ///     vec!["king".into(), "man".into(), "woman".into(), "queen".into(), "apple".into()],
    ///     array![[1.0f32, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.1, 1.0, 1.0], [0.0, -1.0, 0.2]],
    /// ).unwrap();
    /// let best = kv.most_similar_combined(&[Query::Word("king"), Query::Word("woman")], &[Query::Word("man")], 1, &[]).unwrap();
    /// assert_eq!(kv.word(best[0].0), Some("queen"));
    /// ```
    pub fn most_similar_combined<'q>(
        &self,
        positive: &[Query<'q>],
        negative: &[Query<'q>],
        k: usize,
        exclude: &[&str],
    ) -> Result<Vec<(usize, f32)>> {
        let mut skip = self.excluded(exclude);
        let query = match (positive, negative) {
            ([], []) => {
                return Err(Error::invalid("positive", "give at least one positive or negative word or vector"));
            }
            // One term: its own direction, normalized once (as the table rows are, so a word's score with
            // itself or with `similarity` agrees to the bit).
            ([one], []) => self.term(*one, &mut skip)?,
            _ => {
                let mut sum = vec![0.0f64; self.dim()];
                let terms = positive.iter().map(|q| (q, 1.0)).chain(negative.iter().map(|q| (q, -1.0)));
                for (&q, sign) in terms {
                    let v = self.term(q, &mut skip)?;
                    if v.len() != self.dim() {
                        return Err(Error::shape(
                            format!("query vectors of {} values", self.dim()),
                            v.len().to_string(),
                        ));
                    }
                    if v.iter().any(|x| !x.is_finite()) {
                        return Err(Error::NonFinite("a query vector".into()));
                    }
                    let norm = v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
                    if norm > 0.0 {
                        sum.iter_mut().zip(&v).for_each(|(s, &x)| *s += sign * f64::from(x) / norm);
                    }
                }
                sum.into_iter().map(|x| x as f32).collect()
            }
        };
        let queries = query.insert_axis(Axis(0));
        Ok(self.top_k(queries.view(), k, &skip)?.pop().unwrap_or_default())
    }

    /// The vector of one query term; a word is also marked in `skip`.
    fn term(&self, query: Query<'_>, skip: &mut [bool]) -> Result<Array1<f32>> {
        match query {
            Query::Word(w) => {
                let i = self.row_of(w)?;
                skip[i] = true;
                Ok(self.vectors().row(i).to_owned())
            }
            Query::Vector(v) => Ok(v.to_owned()),
        }
    }

    /// Which rows the words of `exclude` are (words not in the table are ignored).
    fn excluded(&self, exclude: &[&str]) -> Vec<bool> {
        let mut skip = vec![false; self.len()];
        for w in exclude {
            if let Some(i) = self.index_of(w) {
                skip[i] = true;
            }
        }
        skip
    }

    /// [`KeyedVectors::most_similar`] for a batch of query vectors (one per row), through the kernel's GEMM:
    /// for each query, the `k` best `(row, cosine)` pairs.
    ///
    /// ```
    /// use ndarray::array;
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["x".into(), "y".into()], array![[1.0f32, 0.0], [0.0, 1.0]]).unwrap();
    /// let q = array![[0.0f32, 2.0], [3.0, 0.1]];
    /// let r = kv.most_similar_batch(q.view(), 1, &[]).unwrap();
    /// assert_eq!((r[0][0].0, r[1][0].0), (1, 0));
    /// ```
    pub fn most_similar_batch(
        &self,
        queries: ArrayView2<'_, f32>,
        k: usize,
        exclude: &[&str],
    ) -> Result<Vec<Vec<(usize, f32)>>> {
        self.top_k(queries, k, &self.excluded(exclude))
    }

    /// The `k` best rows per query, leaving out the rows marked in `skip`.
    fn top_k(&self, queries: ArrayView2<'_, f32>, k: usize, skip: &[bool]) -> Result<Vec<Vec<(usize, f32)>>> {
        if queries.ncols() != self.dim() {
            return Err(Error::shape(
                format!("query vectors of {} values", self.dim()),
                format!("{}", queries.ncols()),
            ));
        }
        let mut q: Array2<f32> = queries.to_owned();
        for (i, row) in q.rows_mut().into_iter().enumerate() {
            if row.iter().any(|v| !v.is_finite()) {
                return Err(Error::NonFinite(format!("query {i}")));
            }
            if normalize(row) == 0.0 {
                return Err(Error::invalid("query", format!("query {i} is a zero vector: it has no direction")));
            }
        }
        let table = self.normalized();
        let mut out = Vec::with_capacity(q.nrows());
        if k == 0 || self.is_empty() {
            out.resize(q.nrows(), Vec::new());
            return Ok(out);
        }
        let mut scores = Array2::<f32>::zeros((QUERY_BLOCK.min(q.nrows()), self.len()));
        for block in q.axis_chunks_iter(Axis(0), QUERY_BLOCK) {
            let mut s = scores.slice_mut(ndarray::s![..block.nrows(), ..]);
            oximl_kernel::gemm(1.0, block, table.t(), 0.0, s.view_mut())?;
            let s = s.view();
            let best: Vec<Vec<(usize, f32)>> = oximl_kernel::install(|| {
                s.axis_iter(Axis(0)).into_par_iter().map(|row| select(row, k, |i| skip[i])).collect()
            });
            out.extend(best);
        }
        Ok(out)
    }
}

/// The `k` largest scores of `row` not `skip`ped, best first, ties by index.
fn select(row: ArrayView1<'_, f32>, k: usize, skip: impl Fn(usize) -> bool) -> Vec<(usize, f32)> {
    let mut c: Vec<(usize, f32)> = row.iter().copied().enumerate().filter(|&(i, _)| !skip(i)).collect();
    let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if c.len() > k {
        c.select_nth_unstable_by(k - 1, order);
        c.truncate(k);
    }
    c.sort_unstable_by(order);
    c
}
