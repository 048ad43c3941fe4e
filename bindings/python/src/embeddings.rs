//! `oximl._oximl.KeyedVectors`: the core `embed` module behind `oximl.embeddings`. Loading, sentence vectors and
//! neighbour searches run with the GIL released (batches in parallel on oximl's pool); `vectors` is a read-only
//! numpy view of the table, without a copy.

use crate::{detach, detach_cancellable, from_json, to_py_bytes};
use ndarray::ArrayView1;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, ToPyArray};
use oximl_core::embed::{
    Batch, EmbedOptions, Embedder, KeyedVectors, LoadOptions, Probabilities, Query, TokenizeOptions, VectorFormat,
    WordWeights, tokenize,
};
use oximl_core::{Cancel, Persist, Result};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::HashMap;
use std::path::PathBuf;

/// Word vectors (see `oximl.embeddings.KeyedVectors`). Immutable, so views of its table stay valid.
#[pyclass(name = "KeyedVectors", module = "oximl._oximl", frozen)]
pub struct PyKeyedVectors {
    inner: KeyedVectors,
}

/// Runs a cancellable batch with an embedder configured by `options` (the core's `EmbedOptions`, as JSON from
/// `oximl._config.dumps`) and the optional weights; Ctrl-C stops it.
fn embed_with<'py>(
    py: Python<'py>,
    kv: &KeyedVectors,
    options: &str,
    weights: Option<ArrayView1<'_, f32>>,
    run: impl FnOnce(&Embedder<'_>, &Cancel) -> Result<Batch> + Send,
) -> PyResult<(Bound<'py, PyArray2<f32>>, Vec<bool>)> {
    let options: EmbedOptions = from_json(py, "embed options", options)?;
    let batch = detach_cancellable(py, move |cancel| {
        let weights = weights.map(|w| WordWeights::from_array(kv, w.to_owned())).transpose()?;
        let mut e = Embedder::new(kv).options(options);
        if let Some(w) = &weights {
            e = e.weights(w)?;
        }
        run(&e, cancel)
    })?;
    Ok((batch.vectors.into_pyarray(py), batch.found))
}

/// One term of an analogy query: a word or a float32 vector.
#[derive(FromPyObject)]
enum Term<'py> {
    Word(String),
    Vector(PyReadonlyArray1<'py, f32>),
}

impl Term<'_> {
    fn query(&self) -> Query<'_> {
        match self {
            Term::Word(w) => Query::Word(w),
            Term::Vector(v) => Query::Vector(v.as_array()),
        }
    }
}

type Scored = Vec<(String, f32)>;

/// Ranked rows as `(word, score)` (the word of each row by index, not looked up again).
fn scored(kv: &KeyedVectors, rows: Vec<(usize, f32)>) -> Scored {
    rows.into_iter().map(|(i, s)| (kv.word(i).unwrap_or_default().to_string(), s)).collect()
}

#[pymethods]
impl PyKeyedVectors {
    /// A table from words and a matrix with one row per word.
    #[new]
    fn new(py: Python<'_>, words: Vec<String>, vectors: PyReadonlyArray2<'_, f32>) -> PyResult<Self> {
        let v = vectors.as_array();
        Ok(PyKeyedVectors { inner: detach(py, move || KeyedVectors::new(words, v.to_owned()))? })
    }

    /// Reads a file in any format; `options` is the core's `LoadOptions` as JSON (`format`, `limit`,
    /// `unicode_errors`). Ctrl-C stops it.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf, options: &str) -> PyResult<Self> {
        let options: LoadOptions = from_json(py, "load options", options)?;
        let inner = detach_cancellable(py, move |cancel| KeyedVectors::read_cancellable(&path, &options, cancel))?;
        Ok(PyKeyedVectors { inner })
    }

    /// A table from the bytes of a file in any format (`to_bytes` gives the oximl format).
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let inner = detach(py, move || KeyedVectors::read_bytes(data, &LoadOptions::default()))?;
        Ok(PyKeyedVectors { inner })
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let kv = &self.inner;
        to_py_bytes(py, move || kv.to_bytes())
    }

    /// Writes the table in `format`, a name of the core's `VectorFormat` (e.g. `oximl`, `word2vec_text`).
    fn save(&self, py: Python<'_>, path: PathBuf, format: &str) -> PyResult<()> {
        let format: VectorFormat = from_json(py, "format", &serde_json::Value::from(format).to_string())?;
        let kv = &self.inner;
        detach(py, move || kv.save_as(&path, format))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __contains__(&self, word: &str) -> bool {
        self.inner.index_of(word).is_some()
    }

    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    #[getter]
    fn words(&self) -> Vec<String> {
        self.inner.words().to_vec()
    }

    /// The number of duplicated words dropped when the table was built, and the first few of them.
    #[getter]
    fn duplicates(&self) -> (usize, Vec<String>) {
        let d = self.inner.duplicates();
        (d.count, d.examples.clone())
    }

    /// How many words of the file were not valid UTF-8 and were decoded by `unicode_errors`.
    #[getter]
    fn invalid_utf8_words(&self) -> usize {
        self.inner.invalid_utf8_words()
    }

    /// `(min_n, max_n, buckets)` of a fastText model's character n-grams, or None.
    #[getter]
    fn subwords(&self) -> Option<(usize, usize, usize)> {
        self.inner.subwords().map(|s| (s.minn(), s.maxn(), s.ngrams().nrows()))
    }

    /// The table (words × dim) as a read-only view that keeps this object alive.
    #[getter]
    fn vectors<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyArray2<f32>> {
        let table = slf.get().inner.vectors();
        // SAFETY: the object is frozen (the table never changes or moves) and is the view's base, so the data
        // outlives the view; the view is made read-only below.
        let view = unsafe { PyArray2::borrow_from_array(&table, slf.clone().into_any()) };
        view.readwrite().make_nonwriteable();
        view
    }

    /// The row of `word`, or None.
    fn index_of(&self, word: &str) -> Option<usize> {
        self.inner.index_of(word)
    }

    /// A copy of the vector of `word`, or None.
    fn get<'py>(&self, py: Python<'py>, word: &str) -> Option<Bound<'py, PyArray1<f32>>> {
        self.inner.get(word).map(|v| v.to_pyarray(py))
    }

    /// The vector of `word`, from its character n-grams if it is unknown and the table is a fastText model; None
    /// for another unknown word.
    fn word_vector<'py>(&self, py: Python<'py>, word: &str) -> Option<Bound<'py, PyArray1<f32>>> {
        self.inner.word_vector(word).map(|v| v.into_pyarray(py))
    }

    fn similarity(&self, py: Python<'_>, a: &str, b: &str) -> PyResult<f32> {
        let kv = &self.inner;
        detach(py, move || kv.similarity(a, b))
    }

    /// Neighbours of a word of the table.
    fn most_similar_word(&self, py: Python<'_>, word: &str, topn: usize, exclude: Vec<String>) -> PyResult<Scored> {
        self.most_similar_combined(py, vec![Term::Word(word.into())], Vec::new(), topn, exclude)
    }

    /// gensim's `most_similar(positive, negative)` over words and float32 vectors (3CosAdd).
    fn most_similar_combined(
        &self,
        py: Python<'_>,
        positive: Vec<Term<'_>>,
        negative: Vec<Term<'_>>,
        topn: usize,
        exclude: Vec<String>,
    ) -> PyResult<Scored> {
        let kv = &self.inner;
        let positive: Vec<Query<'_>> = positive.iter().map(Term::query).collect();
        let negative: Vec<Query<'_>> = negative.iter().map(Term::query).collect();
        detach(py, move || {
            let exclude: Vec<&str> = exclude.iter().map(String::as_str).collect();
            Ok(scored(kv, kv.most_similar_combined(&positive, &negative, topn, &exclude)?))
        })
    }

    /// Neighbours of each row of `queries` (one query vector per row).
    fn most_similar_vectors(
        &self,
        py: Python<'_>,
        queries: PyReadonlyArray2<'_, f32>,
        topn: usize,
        exclude: Vec<String>,
    ) -> PyResult<Vec<Scored>> {
        let (kv, q) = (&self.inner, queries.as_array());
        detach(py, move || {
            let exclude: Vec<&str> = exclude.iter().map(String::as_str).collect();
            Ok(kv.most_similar_batch(q, topn, &exclude)?.into_iter().map(|r| scored(kv, r)).collect())
        })
    }

    /// Sentence vectors of texts (split by the tokenizer) and whether each had one; `options` is the core's
    /// `EmbedOptions` as JSON. Ctrl-C stops it.
    #[pyo3(signature = (texts, options, weights=None))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        options: &str,
        weights: Option<PyReadonlyArray1<'_, f32>>,
    ) -> PyResult<(Bound<'py, PyArray2<f32>>, Vec<bool>)> {
        let w = weights.as_ref().map(|w| w.as_array());
        embed_with(py, &self.inner, options, w, move |e, cancel| e.embed_batch_cancellable(&texts, cancel))
    }

    /// Sentence vectors of texts given as token lists (the tokenizer options do not apply).
    #[pyo3(signature = (texts, options, weights=None))]
    fn embed_tokens<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<Vec<String>>,
        options: &str,
        weights: Option<PyReadonlyArray1<'_, f32>>,
    ) -> PyResult<(Bound<'py, PyArray2<f32>>, Vec<bool>)> {
        let w = weights.as_ref().map(|w| w.as_array());
        embed_with(py, &self.inner, options, w, move |e, cancel| e.embed_batch_tokens_cancellable(&texts, cancel))
    }

    /// SIF weights `a / (a + p(w))`, p from `counts` or, without, from Zipf's law over the row order.
    #[pyo3(signature = (a=1e-3, counts=None))]
    fn sif_weights<'py>(
        &self,
        py: Python<'py>,
        a: f64,
        counts: Option<HashMap<String, f64>>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let kv = &self.inner;
        let w = detach(py, move || {
            let p = counts.as_ref().map_or(Probabilities::Zipf, Probabilities::Counts);
            WordWeights::sif(kv, a, p)
        })?;
        Ok(w.as_array().to_pyarray(py))
    }
}

/// Splits text into words as `embed` does.
#[pyfunction]
#[pyo3(signature = (text, lowercase=false, keep_punctuation=false))]
fn tokenize_text(text: &str, lowercase: bool, keep_punctuation: bool) -> Vec<String> {
    tokenize(text, &TokenizeOptions::default().lowercase(lowercase).keep_punctuation(keep_punctuation))
}

/// Adds this module's classes and functions to the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyKeyedVectors>()?;
    m.add_function(wrap_pyfunction!(tokenize_text, m)?)
}
