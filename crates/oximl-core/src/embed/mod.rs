//! Word embeddings: pretrained vectors, sentence vectors by normalized sums, nearest neighbours.
//!
//! - [`KeyedVectors`]: the table of word vectors, read from word2vec text or binary, GloVe, fastText `.vec` or
//!   oximl files ([`KeyedVectors::load`], format detected by content; see [`formats`] for the details and errors)
//!   and saved in the oximl format for a fast reload ([`KeyedVectors::save`]).
//! - [`tokenize()`]: Unicode-aware words ([`TokenizeOptions`]); callers may bring their own tokens instead.
//! - [`Embedder`]: sentence vectors `w = Σv / ‖Σv‖` over a text's known words ([`average`]), optionally weighted
//!   ([`WordWeights`]: SIF or the caller's), for one text or a batch in parallel.
//! - [`KeyedVectors::most_similar`] and [`KeyedVectors::similarity`]: cosine over the pre-normalized table
//!   ([`neighbors`]).
//!
//! ```
//! use oximl_core::embed::{Embedder, KeyedVectors, LoadOptions};
//! let file = b"3 2\ncat 1 0.1\ndog 0.9 0.2\ncar 0 1\n";
//! let kv = KeyedVectors::from_bytes(file, &LoadOptions::default()).unwrap();
//! let batch = Embedder::new(&kv).embed_batch(&["cat and dog", "a car"]).unwrap();
//! assert_eq!(batch.vectors.dim(), (2, 2));
//! let near = kv.most_similar(batch.vectors.row(1), 1, &[]).unwrap();
//! assert_eq!(near[0].0, "car");
//! ```

pub mod average;
pub mod formats;
pub mod neighbors;
pub mod tokenize;
pub mod vectors;

pub use average::{Batch, Embedder, OovPolicy, Probabilities, WordWeights};
pub use formats::{LoadOptions, VectorFormat};
pub use neighbors::Query;
pub use tokenize::{TokenizeOptions, tokenize};
pub use vectors::{Duplicates, KeyedVectors};
