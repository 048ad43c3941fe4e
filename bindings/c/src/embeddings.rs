//! `oximl_embeddings`: word vectors from C — load (format detected from the content), look words up, embed
//! texts as `Σv / ‖Σv‖` over their known words (one or a batch in parallel), nearest neighbours by cosine.
//! The handle is immutable once loaded: every function taking a `const oximl_embeddings *` is safe to call
//! concurrently on one handle from many threads.

use super::cancel::{oximl_cancel, token};
use super::convert::{CIds, Ranked, boxed, config, release, strings, values};
use super::convert::{handle, out_slot, output, text};
use super::{guard, oximl_status};
use ndarray::ArrayView1;
use oximl_core::embed::{
    EmbedOptions, Embedder, KeyedVectors, LoadOptions, Probabilities, Query, VectorFormat, WordWeights,
};
use oximl_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::ffi::c_char;

/// An opaque table of word vectors with the options its sentence vectors are computed with. Concurrent queries
/// on one handle are safe; `free` needs exclusive access and invalidates every word pointer it gave out.
pub struct oximl_embeddings {
    kv: KeyedVectors,
    words: CIds,
    options: Options,
    weights: Option<WordWeights>,
}
impl super::convert::Handle for oximl_embeddings {
    const NAME: &str = "oximl_embeddings";
}

/// The options of `oximl_embeddings_load` (see there): the core's reading and sentence options, flat, plus `sif`.
#[derive(Clone, Copy, Default, Serialize, Deserialize)]
#[serde(default)]
struct Options {
    #[serde(flatten)]
    load: LoadOptions,
    #[serde(flatten)]
    embed: EmbedOptions,
    sif: Option<f64>,
}

impl oximl_embeddings {
    fn embedder(&self) -> Result<Embedder<'_>> {
        let e = Embedder::new(&self.kv).options(self.options.embed);
        match &self.weights {
            Some(w) => e.weights(w),
            None => Ok(e),
        }
    }

    /// The `k` rows nearest to `positive` minus `negative` (see `KeyedVectors::most_similar_combined`), written as
    /// word pointers owned by this handle.
    fn most_similar<'q>(
        &self,
        positive: &[Query<'q>],
        negative: &[Query<'q>],
        k: usize,
        exclude: (*const *const c_char, usize),
        out: Ranked<'_>,
    ) -> Result<()> {
        if k == 0 {
            return Err(Error::invalid("k", "must be at least 1"));
        }
        let exclude = strings("exclude", exclude.0, exclude.1)?;
        let best = self.kv.most_similar_combined(positive, negative, k, &exclude)?;
        out.fill(best.into_iter().map(|(i, s)| Ok((self.words.get(Some(i))?, s))))
    }
}

/// Loads word vectors: word2vec text or binary, GloVe, fastText `.vec` or `.bin` (a model: unknown words get
/// vectors from their character n-grams), or oximl, detected from the content. `options_json` may be NULL or an
/// object with any of: `"format"` (`"auto"`, `"word2vec_text"`, `"word2vec_binary"`, `"glove"`, `"fasttext"`,
/// `"fasttext_bin"`, `"oximl"`), `"limit"` (read only the first n words), `"unicode_errors"` (`"strict"`, or
/// `"replace"`, `"ignore"`, `"backslashreplace"` for words that are not valid UTF-8, as Python; counted in
/// `oximl_embeddings_info`), and for sentence vectors `"oov"` (`"skip"` unknown words, `"error"`, count them as
/// `"zero"` vectors, or `"subwords"`: their n-gram vectors in a fastText model),
/// `"lowercase_fallback"` (look unknown words up again lowercased), `"tokenizer"` (`{"lowercase": false,
/// "keep_punctuation": false}`), `"sif"` (SIF weights `a / (a + p(w))` with this `a`, e.g. `1e-3`, and `p(w)`
/// from the row order by Zipf's law). (`"word2vec"` is accepted for `"word2vec_text"`.) Errors:
/// `OXIML_STATUS_IO`, `OXIML_STATUS_FORMAT` (naming the line or entry), `OXIML_STATUS_NON_FINITE`. Free with
/// `oximl_embeddings_free`.
///
/// ```c
/// oximl_embeddings *emb = NULL;
/// oximl_embeddings_load("glove.6B.100d.txt", "{\"limit\": 100000, \"tokenizer\": {\"lowercase\": true}}", &emb);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_load(
    path: *const c_char,
    options_json: *const c_char,
    out: *mut *mut oximl_embeddings,
) -> oximl_status {
    oximl_embeddings_load_cancellable(path, options_json, out, std::ptr::null())
}

/// `oximl_embeddings_load` that returns `OXIML_STATUS_CANCELLED` soon after `cancel` (NULL: never) is cancelled
/// from another thread.
///
/// ```c
/// oximl_embeddings_load_cancellable("vectors.bin", NULL, &emb, cancel);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_load_cancellable(
    path: *const c_char,
    options_json: *const c_char,
    out: *mut *mut oximl_embeddings,
    cancel: *const oximl_cancel,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let options: Options = config("options_json", options_json, Some(&Options::default()))?;
        let kv = KeyedVectors::read_cancellable(text("path", path)?, &options.load, &token(cancel)?)?;
        let weights = options.sif.map(|a| WordWeights::sif(&kv, a, Probabilities::Zipf)).transpose()?;
        let words = CIds::new(kv.words())?;
        boxed(oximl_embeddings { kv, words, options, weights }, slot);
        Ok(())
    })
}

/// Saves the table in `format` (NULL or `"oximl"`: the fastest to reload; `"word2vec_text"` (or `"word2vec"`),
/// `"word2vec_binary"`, `"glove"`, `"fasttext"`).
///
/// ```c
/// oximl_embeddings_save(emb, "vectors.oximl", NULL);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_save(
    embeddings: *const oximl_embeddings,
    path: *const c_char,
    format: *const c_char,
) -> oximl_status {
    guard(|| {
        let e = handle("embeddings", embeddings)?;
        let format: VectorFormat = match format.is_null() {
            true => VectorFormat::Oximl,
            false => serde_json::from_value(serde_json::Value::String(text("format", format)?.into()))
                .map_err(|err| Error::invalid("format", err.to_string()))?,
        };
        e.kv.save_as(text("path", path)?, format)
    })
}

/// The size of a table.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct oximl_embeddings_info {
    /// The number of words (rows).
    pub words: usize,
    /// The number of values per vector.
    pub dim: usize,
    /// How many words of the file were not valid UTF-8 and were decoded by `"unicode_errors"`.
    pub invalid_utf8_words: usize,
    /// The n-gram buckets of a fastText model (0 for other tables: unknown words have no vector).
    pub subword_buckets: usize,
}

/// The number of words and the dimension of a table, the words decoded by `"unicode_errors"`, the n-gram buckets.
///
/// ```c
/// oximl_embeddings_info info; oximl_embeddings_get_info(emb, &info); printf("%zu × %zu\n", info.words, info.dim);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_get_info(
    embeddings: *const oximl_embeddings,
    out: *mut oximl_embeddings_info,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let kv = &handle("embeddings", embeddings)?.kv;
        slot.write(oximl_embeddings_info {
            words: kv.len(),
            dim: kv.dim(),
            invalid_utf8_words: kv.invalid_utf8_words(),
            subword_buckets: kv.subwords().map_or(0, |s| s.ngrams().nrows()),
        });
        Ok(())
    })
}

/// The word of row `index` (in file order); the pointer is owned by the handle.
///
/// ```c
/// const char *first = NULL; oximl_embeddings_word(emb, 0, &first);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_word(
    embeddings: *const oximl_embeddings,
    index: usize,
    out: *mut *const c_char,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let e = handle("embeddings", embeddings)?;
        if index >= e.kv.len() {
            return Err(Error::invalid("index", format!("{index} is out of range (0..{})", e.kv.len())));
        }
        slot.write(e.words.get(Some(index))?);
        Ok(())
    })
}

/// The vector of `word` as stored (not normalized) into `out` (`capacity` floats; dim are needed); for a word not
/// in a fastText model's table, the mean of its character n-gram vectors (as gensim). Another word not in the
/// table is `OXIML_STATUS_INVALID_ARGUMENT`.
///
/// ```c
/// float v[100]; oximl_embeddings_word_vector(emb, "king", v, 100);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_word_vector(
    embeddings: *const oximl_embeddings,
    word: *const c_char,
    out: *mut f32,
    capacity: usize,
) -> oximl_status {
    guard(|| {
        let e = handle("embeddings", embeddings)?;
        let word = text("word", word)?;
        let v = e.kv.word_vector(word);
        let v = v.ok_or_else(|| Error::invalid("word", format!("{word:?} is not in the vocabulary")))?;
        output("out", out, capacity, 1, e.kv.dim())?.row_mut(0).assign(&v);
        Ok(())
    })
}

fn write_found(found: *mut bool, flags: &[bool]) {
    if !found.is_null() {
        // SAFETY: a non-NULL `found` holds one writable bool per text (the caller's contract).
        unsafe { std::slice::from_raw_parts_mut(found, flags.len()) }.copy_from_slice(flags);
    }
}

/// The sentence vector of the text `sentence` (split by the handle's tokenizer): `Σv / ‖Σv‖` over its known words (weighted
/// with `sif`), into `out` (`capacity` floats; dim are needed). `*found` (may be NULL) tells whether the text
/// had a known word; if not, `out` is zero.
///
/// ```c
/// float v[100]; bool found = false;
/// oximl_embeddings_sentence_vector(emb, "The cat sat on the mat.", v, 100, &found);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_sentence_vector(
    embeddings: *const oximl_embeddings,
    sentence: *const c_char,
    out: *mut f32,
    capacity: usize,
    found: *mut bool,
) -> oximl_status {
    guard(|| {
        let e = handle("embeddings", embeddings)?;
        let mut dst = output("out", out, capacity, 1, e.kv.dim())?;
        let v = e.embedder()?.embed_text(text("sentence", sentence)?)?;
        match &v {
            Some(v) => dst.row_mut(0).assign(v),
            None => dst.fill(0.0),
        }
        write_found(found, &[v.is_some()]);
        Ok(())
    })
}

/// `oximl_embeddings_sentence_vector` of `n` tokens the caller has split already.
///
/// ```c
/// const char *tokens[] = {"hot", "dog"}; float v[100]; bool found = false;
/// oximl_embeddings_sentence_vector_tokens(emb, tokens, 2, v, 100, &found);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_sentence_vector_tokens(
    embeddings: *const oximl_embeddings,
    tokens: *const *const c_char,
    n: usize,
    out: *mut f32,
    capacity: usize,
    found: *mut bool,
) -> oximl_status {
    guard(|| {
        let e = handle("embeddings", embeddings)?;
        let mut dst = output("out", out, capacity, 1, e.kv.dim())?;
        let tokens = strings("tokens", tokens, n)?;
        let ok = e.embedder()?.sentence_vector_into(&tokens, dst.row_mut(0))?;
        write_found(found, &[ok]);
        Ok(())
    })
}

/// The sentence vectors of `n` texts, in parallel on oximl's pool, into `out` as `n × dim` row-major floats
/// (`capacity` floats), identical to one-by-one calls for any thread count. `found` (may be NULL) receives `n`
/// flags; a text without a known word has a zero row.
///
/// ```c
/// const char *texts[] = {"a cat", "a dog"}; float v[2 * 100]; bool found[2];
/// oximl_embeddings_embed_batch(emb, texts, 2, v, 2 * 100, found);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_embed_batch(
    embeddings: *const oximl_embeddings,
    texts: *const *const c_char,
    n: usize,
    out: *mut f32,
    capacity: usize,
    found: *mut bool,
) -> oximl_status {
    oximl_embeddings_embed_batch_cancellable(embeddings, texts, n, out, capacity, found, std::ptr::null())
}

/// `oximl_embeddings_embed_batch` that returns `OXIML_STATUS_CANCELLED` soon after `cancel` (NULL: never) is
/// cancelled from another thread; `out` and `found` are then unspecified.
///
/// ```c
/// oximl_embeddings_embed_batch_cancellable(emb, texts, 2, v, 2 * 100, found, cancel);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_embed_batch_cancellable(
    embeddings: *const oximl_embeddings,
    texts: *const *const c_char,
    n: usize,
    out: *mut f32,
    capacity: usize,
    found: *mut bool,
    cancel: *const oximl_cancel,
) -> oximl_status {
    guard(|| {
        let e = handle("embeddings", embeddings)?;
        let mut dst = output("out", out, capacity, n, e.kv.dim())?;
        let batch = e.embedder()?.embed_batch_cancellable(&strings("texts", texts, n)?, &token(cancel)?)?;
        dst.assign(&batch.vectors);
        write_found(found, &batch.found);
        Ok(())
    })
}

/// The `k` words most similar to `word` by cosine (the word itself excluded), best first, leaving out the
/// `n_exclude` words of `exclude` (may be NULL when 0): `ids[j]` (owned by the handle) and `scores[j]` for
/// `j < *written`. The buffers hold `capacity` entries and need `k` (else `*written = k` and the status is
/// `OXIML_STATUS_INVALID_ARGUMENT`). Errors: unknown word, `k = 0`.
///
/// ```c
/// const char *ids[5]; float cos[5]; size_t n = 0;
/// oximl_embeddings_most_similar(emb, "king", 5, NULL, 0, ids, cos, 5, &n);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_embeddings_most_similar(
    embeddings: *const oximl_embeddings,
    word: *const c_char,
    k: usize,
    exclude: *const *const c_char,
    n_exclude: usize,
    ids: *mut *const c_char,
    scores: *mut f32,
    capacity: usize,
    written: *mut usize,
) -> oximl_status {
    guard(|| {
        let e = handle("embeddings", embeddings)?;
        let out = Ranked::new(ids, scores, capacity, k, written)?;
        e.most_similar(&[Query::Word(text("word", word)?)], &[], k, (exclude, n_exclude), out)
    })
}

/// `oximl_embeddings_most_similar` for a query vector of `dim` floats (e.g. a sentence vector). Errors: a wrong
/// `dim`, a zero vector (no direction), NaN or infinity.
///
/// ```c
/// oximl_embeddings_most_similar_vector(emb, v, 100, 5, NULL, 0, ids, cos, 5, &n);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_embeddings_most_similar_vector(
    embeddings: *const oximl_embeddings,
    vector: *const f32,
    dim: usize,
    k: usize,
    exclude: *const *const c_char,
    n_exclude: usize,
    ids: *mut *const c_char,
    scores: *mut f32,
    capacity: usize,
    written: *mut usize,
) -> oximl_status {
    guard(|| {
        let e = handle("embeddings", embeddings)?;
        let out = Ranked::new(ids, scores, capacity, k, written)?;
        if vector.is_null() || dim == 0 {
            return Err(Error::invalid("vector", "NULL or empty vector"));
        }
        let v = ArrayView1::from(values("vector", vector, dim)?);
        e.most_similar(&[Query::Vector(v)], &[], k, (exclude, n_exclude), out)
    })
}

/// gensim's `most_similar(positive, negative)`: the `k` words most similar by cosine to the sum of the
/// unit-normalized vectors of the `n_positive` words of `positive` minus those of the `n_negative` words of
/// `negative` (3CosAdd analogies: king − man + woman ≈ queen), leaving out the words given and the `n_exclude`
/// words of `exclude`. Outputs as `oximl_embeddings_most_similar`. Errors: no word at all, an unknown word, a
/// combination that is zero (no direction), `k = 0`.
///
/// ```c
/// const char *pos[] = {"king", "woman"}, *neg[] = {"man"};
/// oximl_embeddings_most_similar_words(emb, pos, 2, neg, 1, 5, NULL, 0, ids, cos, 5, &n);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_embeddings_most_similar_words(
    embeddings: *const oximl_embeddings,
    positive: *const *const c_char,
    n_positive: usize,
    negative: *const *const c_char,
    n_negative: usize,
    k: usize,
    exclude: *const *const c_char,
    n_exclude: usize,
    ids: *mut *const c_char,
    scores: *mut f32,
    capacity: usize,
    written: *mut usize,
) -> oximl_status {
    guard(|| {
        let e = handle("embeddings", embeddings)?;
        let out = Ranked::new(ids, scores, capacity, k, written)?;
        let words = |name, array, n| -> Result<Vec<Query<'_>>> {
            Ok(strings(name, array, n)?.into_iter().map(Query::Word).collect())
        };
        let (positive, negative) = (words("positive", positive, n_positive)?, words("negative", negative, n_negative)?);
        e.most_similar(&positive, &negative, k, (exclude, n_exclude), out)
    })
}

/// The cosine similarity of two words of the table (0 if either is a zero vector). Unknown word:
/// `OXIML_STATUS_INVALID_ARGUMENT`.
///
/// ```c
/// float s = 0; oximl_embeddings_similarity(emb, "king", "queen", &s);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_similarity(
    embeddings: *const oximl_embeddings,
    a: *const c_char,
    b: *const c_char,
    out: *mut f32,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        slot.write(handle("embeddings", embeddings)?.kv.similarity(text("a", a)?, text("b", b)?)?);
        Ok(())
    })
}

/// Releases a table (and the word strings it gave out); NULL is a no-op.
///
/// ```c
/// oximl_embeddings_free(emb);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_embeddings_free(embeddings: *mut oximl_embeddings) {
    release(embeddings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oximl_core::embed::{OovPolicy, TokenizeOptions};

    #[test]
    fn options_take_the_core_names_and_refuse_typos() {
        let o: Options = config(
            "o",
            c"{\"format\": \"glove\", \"limit\": 3, \"oov\": \"zero\", \"tokenizer\": {\"lowercase\": true}}".as_ptr(),
            Some(&Options::default()),
        )
        .unwrap();
        assert_eq!(o.load, LoadOptions::default().format(VectorFormat::Glove).limit(3));
        assert_eq!((o.embed.oov, o.embed.tokenizer), (OovPolicy::Zero, TokenizeOptions::default().lowercase(true)));
        for bad in [c"{\"limt\": 3}", c"{\"tokenizer\": {\"lower\": true}}", c"{\"format\": \"word2vec_txt\"}"] {
            assert!(config::<Options>("o", bad.as_ptr(), Some(&Options::default())).is_err());
        }
        // The former Python spelling of the text format is an alias, defined in the core.
        let old: Options = config("o", c"{\"format\": \"word2vec\"}".as_ptr(), Some(&Options::default())).unwrap();
        assert_eq!(old.load.get_format(), VectorFormat::Word2VecText);
    }
}
