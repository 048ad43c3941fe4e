//! [`Model`]: a loaded network, recommender or embedding table, recognized by content, with the methods each
//! answers besides `:predict` (`:recommend`, `:similar`, `:embed`) and the metadata describing it.

use crate::ApiError;
use ndarray::{Array1, Array2, ArrayView2};
use oximl_core::embed::{Embedder, KeyedVectors, Query};
use oximl_core::interchange::onnx::looks_like_onnx;
use oximl_core::mf::MfModel;
use oximl_core::nn::Sequential;
use oximl_core::{Error, Persist, Result};
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::Path;

/// A model the server answers for.
pub enum Model {
    /// A dense network: `:predict`, KServe v2 `infer`.
    Network(Box<Sequential>),
    /// A matrix-factorization recommender: `:recommend`, `:similar` (items).
    Recommender(MfModel),
    /// Word embeddings: `:embed` (texts to sentence vectors), `:similar` (words or vectors).
    Embeddings(KeyedVectors),
}

/// The body of `:recommend`: a known `user`, or the `ratings` (`[[item, rating], ...]`) of a new user folded in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecommendRequest {
    user: Option<String>,
    ratings: Option<Vec<(String, f32)>>,
    #[serde(default = "default_k")]
    k: usize,
    #[serde(default = "default_exclude_seen")]
    exclude_seen: bool,
}

/// The body of `:similar`: an `item` (recommenders), a `word` or a `vector` (embeddings).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimilarRequest {
    item: Option<String>,
    word: Option<String>,
    vector: Option<Vec<f32>>,
    #[serde(default = "default_k")]
    k: usize,
}

/// The body of `:embed`: texts.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbedRequest {
    instances: Vec<String>,
}

fn default_k() -> usize {
    10
}

fn default_exclude_seen() -> bool {
    true
}

/// Reads one kind of model from a file's bytes.
type Loader = fn(&[u8]) -> Result<Model>;

impl Model {
    /// Loads the model file at `path`, whatever its kind (oximl files of kind `sequential`, `mf` or
    /// `embeddings`, ONNX networks), validating it fully.
    ///
    /// ```
    /// use oximl_core::{Persist, nn::{Dense, Sequential}};
    /// let path = std::env::temp_dir().join("oximl-serve-doc-model.oximl");
    /// let mut m = Sequential::new(3);
    /// m.add(Dense::new(2)).unwrap();
    /// m.save(&path).unwrap();
    /// assert_eq!(oximl_serve::Model::load(&path).unwrap().kind(), "sequential");
    /// assert!(oximl_serve::Model::load(std::path::Path::new("/no/such/file")).is_err());
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn load(path: &Path) -> Result<Model> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let in_file = |e: Error| match e {
            Error::Format(m) => Error::Format(format!("{}: {m}", path.display())),
            other => other,
        };
        if looks_like_onnx(&bytes) {
            return Sequential::from_bytes(&bytes).map(|m| Model::Network(Box::new(m))).map_err(in_file);
        }
        // Each kind validates the file (checksum included) and refuses another kind's: the first that accepts it
        // wins, else every distinct reason is reported.
        let loaders: [Loader; 3] = [
            |b| Sequential::from_bytes(b).map(|m| Model::Network(Box::new(m))),
            |b| MfModel::from_bytes(b).map(Model::Recommender),
            |b| KeyedVectors::from_bytes(b).map(Model::Embeddings),
        ];
        let mut reasons: Vec<String> = Vec::new();
        for load in loaders {
            match load(&bytes) {
                Ok(model) => return Ok(model),
                Err(e) if !reasons.contains(&e.to_string()) => reasons.push(e.to_string()),
                Err(_) => {}
            }
        }
        Err(Error::Format(format!(
            "{}: not a network, recommender or embeddings file ({})",
            path.display(),
            reasons.join("; ")
        )))
    }

    /// The model's kind, as in its file (`sequential`, `mf`, `embeddings`).
    pub fn kind(&self) -> &'static str {
        match self {
            Model::Network(_) => Sequential::KIND,
            Model::Recommender(_) => MfModel::KIND,
            Model::Embeddings(_) => KeyedVectors::KIND,
        }
    }

    /// The methods (URL verbs) the model answers.
    pub fn methods(&self) -> &'static [&'static str] {
        match self {
            Model::Network(_) => &["predict"],
            Model::Recommender(_) => &["recommend", "similar"],
            Model::Embeddings(_) => &["embed", "similar"],
        }
    }

    /// What the model is: its kind, methods and sizes (input and output widths, users and items, words and
    /// dimension).
    pub fn describe(&self) -> Value {
        let sizes = match self {
            Model::Network(m) => json!({ "input_dim": m.input_dim(), "output_dim": m.output_dim() }),
            Model::Recommender(m) => {
                json!({ "users": m.users().len(), "items": m.items().len(), "factors": m.factors() })
            }
            Model::Embeddings(kv) => json!({ "words": kv.len(), "dim": kv.dim() }),
        };
        json!({ "kind": self.kind(), "methods": self.methods(), "sizes": sizes })
    }

    /// A network's outputs for the rows of `x` (an error for the other kinds).
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut net = Sequential::new(3);
    /// net.add(Dense::new(2)).unwrap();
    /// let model = oximl_serve::Model::Network(Box::new(net));
    /// assert_eq!(model.predict(ndarray::Array2::zeros((4, 3)).view()).unwrap().dim(), (4, 2));
    /// ```
    pub fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        match self {
            Model::Network(net) => net.predict(x),
            _ => Err(Error::invalid("model", format!("a `{}` model does not predict", self.kind()))),
        }
    }

    /// The error for a method the model does not answer.
    pub(crate) fn refuse(&self, name: &str, method: &str) -> ApiError {
        ApiError::bad_request(format!(
            "model `{name}` is a `{}` model: it answers {}, not :{method}",
            self.kind(),
            self.methods().iter().map(|m| format!(":{m}")).collect::<Vec<_>>().join(", ")
        ))
    }

    /// Answers `:recommend`, `:similar` or `:embed` with the JSON `body`.
    pub(crate) fn call(&self, name: &str, method: &str, body: &[u8]) -> std::result::Result<Value, ApiError> {
        match (self, method) {
            (Model::Recommender(m), "recommend") => recommend(m, serde_json::from_slice(body)?),
            (Model::Recommender(m), "similar") => {
                let r: SimilarRequest = serde_json::from_slice(body)?;
                match (r.item, r.word, r.vector) {
                    (Some(item), None, None) => Ok(results(m.similar_items_ids(item, r.k)?)),
                    _ => Err(ApiError::bad_request("give `item` (an item id) and `k` to a recommender's :similar")),
                }
            }
            (Model::Embeddings(kv), "similar") => similar_words(kv, serde_json::from_slice(body)?),
            (Model::Embeddings(kv), "embed") => {
                let r: EmbedRequest = serde_json::from_slice(body)?;
                let batch = Embedder::new(kv).embed_batch(&r.instances)?;
                let rows = batch.vectors.rows().into_iter().zip(batch.found);
                Ok(json!({ "predictions": rows.map(|(v, found)| found.then(|| v.to_vec())).collect::<Vec<_>>() }))
            }
            _ => Err(self.refuse(name, method)),
        }
    }
}

fn results(list: Vec<(String, f32)>) -> Value {
    json!({ "results": list.into_iter().map(|(id, score)| json!({ "id": id, "score": score })).collect::<Vec<_>>() })
}

fn recommend(m: &MfModel, r: RecommendRequest) -> std::result::Result<Value, ApiError> {
    Ok(results(match (r.user, r.ratings) {
        (Some(user), None) => m.recommend_ids(user, r.k, r.exclude_seen)?,
        (None, Some(ratings)) => m.recommend_folded_ids(&m.fold_in(&ratings)?, r.k, r.exclude_seen)?,
        _ => {
            return Err(ApiError::bad_request(
                "give either `user` (a known user id) or `ratings` ([[item, rating], ...])",
            ));
        }
    }))
}

fn similar_words(kv: &KeyedVectors, r: SimilarRequest) -> std::result::Result<Value, ApiError> {
    let vector = r.vector.map(Array1::from);
    let query = match (&r.item, &r.word, &vector) {
        (None, Some(word), None) => Query::Word(word),
        (None, None, Some(v)) => Query::Vector(v.view()),
        _ => return Err(ApiError::bad_request("give either `word` or `vector`, and `k`, to an embedding's :similar")),
    };
    let near = kv.most_similar(query, r.k, &[])?;
    Ok(results(near.into_iter().map(|(i, s)| (kv.word(i).unwrap_or_default().to_string(), s)).collect()))
}
