//! Word embeddings: pretrained vectors, sentence vectors by normalized sums, nearest neighbours.
//!
//! - [`KeyedVectors`]: the table of word vectors, read from word2vec text or binary, GloVe, fastText `.vec` or
//!   oximl files ([`KeyedVectors::read`], format detected by content; see [`formats`] for the details and errors),
//!   written in any of them ([`KeyedVectors::save_as`]), and persisted in the oximl format like every model kind
//!   ([`crate::Persist`]: `save`, `load`, `to_bytes`, `from_bytes`) for a fast reload.
//! - [`tokenize()`]: Unicode-aware words ([`TokenizeOptions`]); callers may bring their own tokens instead.
//! - [`Embedder`]: sentence vectors `w = Σv / ‖Σv‖` over a text's known words ([`average`]), optionally weighted
//!   ([`weights`]: SIF or the caller's), for one text or a batch in parallel.
//! - [`KeyedVectors::most_similar`], [`KeyedVectors::most_similar_combined`] (analogies) and
//!   [`KeyedVectors::similarity`]: cosine over the pre-normalized table ([`neighbors`]); results are row indices,
//!   [`KeyedVectors::word`] gives the word.
//!
//! ```
//! use oximl_core::embed::{Embedder, KeyedVectors, LoadOptions};
//! let file = b"3 2\ncat 1 0.1\ndog 0.9 0.2\ncar 0 1\n";
//! let kv = KeyedVectors::read_bytes(file, &LoadOptions::default()).unwrap();
//! let batch = Embedder::new(&kv).embed_batch(&["cat and dog", "a car"]).unwrap();
//! assert_eq!(batch.vectors.dim(), (2, 2));
//! let near = kv.most_similar(batch.vectors.row(1), 1, &[]).unwrap();
//! assert_eq!(kv.word(near[0].0), Some("car"));
//! ```

pub mod average;
pub mod fasttext;
pub mod formats;
pub mod neighbors;
mod parse;
pub mod subwords;
pub mod tokenize;
pub mod vectors;
pub mod weights;

pub use average::{Batch, EmbedOptions, Embedder, OovPolicy};
pub use formats::{LoadOptions, UnicodeErrors, VectorFormat};
pub use neighbors::Query;
pub use subwords::Subwords;
pub use tokenize::{TokenizeOptions, tokenize};
pub use vectors::{Duplicates, KeyedVectors};
pub use weights::{Probabilities, WordWeights};
