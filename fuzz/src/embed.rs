//! Targets of the word-vector loaders, one per format, and of the load options' JSON.

use crate::{config_and_data, sealed};
use oximl_core::Persist;
use oximl_core::embed::{EmbedOptions, Embedder, KeyedVectors, LoadOptions, OovPolicy, VectorFormat};

/// The `kind` of an embeddings file (as the core writes it).
const KIND: &str = "embeddings";

/// Loads with `options`; a table that loads is queried and must round-trip exactly through the oximl format.
fn load(data: &[u8], options: &LoadOptions) {
    let Ok(kv) = KeyedVectors::read_bytes(data, options) else { return };
    let words = kv.words();
    if let Some(first) = words.first() {
        let _ = kv.most_similar(first.as_str(), 3, &[]);
        let embedder = Embedder::new(&kv);
        let _ = embedder.sentence_vector(&words[..words.len().min(2)]);
        let _ = embedder.embed_text(&words[..words.len().min(3)].join(" "));
    }
    if kv.subwords().is_some() {
        let _ = kv.word_vector("unseen-wörd");
        let subwords = EmbedOptions { oov: OovPolicy::Subwords, ..EmbedOptions::default() };
        let _ = Embedder::new(&kv).options(subwords).embed_text("unseen wörds");
    }
    let bytes = kv.to_bytes().expect("round trip: a loaded table must save");
    let back = KeyedVectors::read_bytes(&bytes, &LoadOptions::default()).expect("round trip: a saved table must load");
    assert!(back.words() == kv.words(), "round trip: the words changed");
    assert!(back.subwords() == kv.subwords(), "round trip: the subwords changed");
    let bits = |k: &KeyedVectors| k.vectors().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert!(bits(&back) == bits(&kv), "round trip: the vectors changed");
}

fn with_format(data: &[u8], format: VectorFormat) {
    load(data, &LoadOptions::default().format(format));
}

/// `KeyedVectors::read_bytes` as word2vec text (`count dim` header, then `word v1 v2 ...` lines).
pub fn word2vec_text(data: &[u8]) {
    with_format(data, VectorFormat::Word2VecText);
}

/// `KeyedVectors::read_bytes` as word2vec binary (text header, then `word ` and `dim` little-endian floats).
pub fn word2vec_binary(data: &[u8]) {
    with_format(data, VectorFormat::Word2VecBinary);
}

/// `KeyedVectors::read_bytes` as GloVe (no header).
pub fn glove(data: &[u8]) {
    with_format(data, VectorFormat::Glove);
}

/// `KeyedVectors::read_bytes` as fastText `.vec`.
pub fn fasttext(data: &[u8]) {
    with_format(data, VectorFormat::FastText);
}

/// `KeyedVectors::read_bytes` as a fastText model (`.bin`: header, dictionary, input and output matrices).
pub fn fasttext_bin(data: &[u8]) {
    with_format(data, VectorFormat::FastTextBin);
}

/// `KeyedVectors::read_bytes` as an oximl file, or its sealed form.
pub fn oximl(data: &[u8]) {
    with_format(data, VectorFormat::Oximl);
    if let Some(file) = sealed::seal(data, KIND) {
        with_format(&file, VectorFormat::Oximl);
    }
}

/// `LoadOptions` from JSON on the first line (`{"format": "glove", "limit": 2}`), applied to the rest.
pub fn load_options(data: &[u8]) {
    let (config, body) = config_and_data(data);
    if let Ok(options) = serde_json::from_slice::<LoadOptions>(config) {
        load(body, &options);
    }
}
