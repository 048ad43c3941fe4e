//! `oximl._oximl.KeyedVectors`: the core `embed` module behind `oximl.embeddings`. Loading, sentence vectors and
//! neighbour searches run with the GIL released (batches in parallel on oximl's pool); `vectors` is a read-only
//! numpy view of the table, without a copy.

use crate::{detach, to_py_bytes, to_py_err};
use ndarray::ArrayView1;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, ToPyArray};
use oximl_core::embed::{
    Embedder, KeyedVectors, LoadOptions, OovPolicy, Probabilities, TokenizeOptions, VectorFormat, WordWeights, tokenize,
};
use oximl_core::{Error, Result};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::HashMap;
use std::path::PathBuf;

/// Word vectors (see `oximl.embeddings.KeyedVectors`). Immutable, so views of its table stay valid.
#[pyclass(name = "KeyedVectors", module = "oximl._oximl", frozen)]
pub struct PyKeyedVectors {
    inner: KeyedVectors,
}

fn vector_format(name: &str) -> Result<VectorFormat> {
    Ok(match name {
        "auto" => VectorFormat::Auto,
        "word2vec" => VectorFormat::Word2VecText,
        "word2vec_binary" => VectorFormat::Word2VecBinary,
        "glove" => VectorFormat::Glove,
        "fasttext" => VectorFormat::FastText,
        "oximl" => VectorFormat::Oximl,
        other => {
            return Err(Error::invalid(
                "format",
                format!("expected auto, word2vec, word2vec_binary, glove, fasttext or oximl, got {other:?}"),
            ));
        }
    })
}

fn load_options(format: &str, limit: Option<usize>) -> Result<LoadOptions> {
    let options = LoadOptions::default().format(vector_format(format)?);
    Ok(match limit {
        Some(n) => options.limit(n),
        None => options,
    })
}

/// How sentence vectors are made (the keyword arguments of `embed`).
#[derive(Clone, Copy)]
struct EmbedOptions<'a> {
    oov: OovPolicy,
    tokenize: TokenizeOptions,
    lowercase_fallback: bool,
    weights: Option<ArrayView1<'a, f32>>,
}

impl<'a> EmbedOptions<'a> {
    fn new(
        oov: &str,
        lowercase: bool,
        keep_punctuation: bool,
        lowercase_fallback: bool,
        weights: Option<ArrayView1<'a, f32>>,
    ) -> Result<Self> {
        let oov = match oov {
            "skip" => OovPolicy::Skip,
            "error" => OovPolicy::Error,
            "zero" => OovPolicy::Zero,
            other => return Err(Error::invalid("oov", format!("expected 'skip', 'error' or 'zero', got {other:?}"))),
        };
        let tokenize = TokenizeOptions::default().lowercase(lowercase).keep_punctuation(keep_punctuation);
        Ok(EmbedOptions { oov, tokenize, lowercase_fallback, weights })
    }

    /// Runs `f` with an embedder configured by these options.
    fn with<T>(self, kv: &KeyedVectors, f: impl FnOnce(&Embedder<'_>) -> Result<T>) -> Result<T> {
        let weights = self.weights.map(|w| WordWeights::from_array(kv, w.to_owned())).transpose()?;
        let mut e =
            Embedder::new(kv).oov(self.oov).tokenizer(self.tokenize).lowercase_fallback(self.lowercase_fallback);
        if let Some(w) = &weights {
            e = e.weights(w)?;
        }
        f(&e)
    }
}

type Scored = Vec<(String, f32)>;

#[pymethods]
impl PyKeyedVectors {
    /// A table from words and a matrix with one row per word.
    #[new]
    fn new(py: Python<'_>, words: Vec<String>, vectors: PyReadonlyArray2<'_, f32>) -> PyResult<Self> {
        let v = vectors.as_array();
        Ok(PyKeyedVectors { inner: detach(py, move || KeyedVectors::new(words, v.to_owned()))? })
    }

    /// Reads a file; `format` is auto, word2vec, word2vec_binary, glove, fasttext or oximl.
    #[staticmethod]
    #[pyo3(signature = (path, format="auto", limit=None))]
    fn load(py: Python<'_>, path: PathBuf, format: &str, limit: Option<usize>) -> PyResult<Self> {
        let inner = detach(py, move || KeyedVectors::load(&path, &load_options(format, limit)?))?;
        Ok(PyKeyedVectors { inner })
    }

    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let inner = detach(py, move || KeyedVectors::from_bytes(data, &LoadOptions::default()))?;
        Ok(PyKeyedVectors { inner })
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let kv = &self.inner;
        to_py_bytes(py, move || kv.to_bytes())
    }

    /// Writes the table in `format` (oximl, word2vec, word2vec_binary, glove or fasttext).
    fn save(&self, py: Python<'_>, path: PathBuf, format: &str) -> PyResult<()> {
        let kv = &self.inner;
        detach(py, move || kv.save_as(&path, vector_format(format)?))
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

    fn similarity(&self, py: Python<'_>, a: &str, b: &str) -> PyResult<f32> {
        let kv = &self.inner;
        detach(py, move || kv.similarity(a, b))
    }

    /// Neighbours of a word of the table.
    fn most_similar_word(&self, py: Python<'_>, word: &str, topn: usize, exclude: Vec<String>) -> PyResult<Scored> {
        let kv = &self.inner;
        detach(py, move || {
            let exclude: Vec<&str> = exclude.iter().map(String::as_str).collect();
            Ok(kv.most_similar(word, topn, &exclude)?.into_iter().map(|(w, s)| (w.to_string(), s)).collect())
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
            let rows = kv.most_similar_batch(q, topn, &exclude)?;
            let word = |i: usize| kv.word(i).unwrap_or_default().to_string();
            Ok(rows.into_iter().map(|r| r.into_iter().map(|(i, s)| (word(i), s)).collect()).collect())
        })
    }

    /// Sentence vectors of texts (split by the tokenizer) and whether each had one.
    #[pyo3(signature = (texts, oov="skip", lowercase=false, keep_punctuation=false, lowercase_fallback=false, weights=None))]
    #[allow(clippy::too_many_arguments)]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        oov: &str,
        lowercase: bool,
        keep_punctuation: bool,
        lowercase_fallback: bool,
        weights: Option<PyReadonlyArray1<'_, f32>>,
    ) -> PyResult<(Bound<'py, PyArray2<f32>>, Vec<bool>)> {
        let options = EmbedOptions::new(
            oov,
            lowercase,
            keep_punctuation,
            lowercase_fallback,
            weights.as_ref().map(|w| w.as_array()),
        )
        .map_err(|e| to_py_err(py, e))?;
        let kv = &self.inner;
        let batch = detach(py, move || options.with(kv, |e| e.embed_batch(&texts)))?;
        Ok((batch.vectors.into_pyarray(py), batch.found))
    }

    /// Sentence vectors of texts given as token lists (the tokenizer options do not apply).
    #[pyo3(signature = (texts, oov="skip", lowercase_fallback=false, weights=None))]
    fn embed_tokens<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<Vec<String>>,
        oov: &str,
        lowercase_fallback: bool,
        weights: Option<PyReadonlyArray1<'_, f32>>,
    ) -> PyResult<(Bound<'py, PyArray2<f32>>, Vec<bool>)> {
        let options = EmbedOptions::new(oov, false, false, lowercase_fallback, weights.as_ref().map(|w| w.as_array()))
            .map_err(|e| to_py_err(py, e))?;
        let kv = &self.inner;
        let batch = detach(py, move || options.with(kv, |e| e.embed_batch_tokens(&texts)))?;
        Ok((batch.vectors.into_pyarray(py), batch.found))
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
