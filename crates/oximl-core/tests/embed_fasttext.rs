//! fastText `.bin` models: a tiny model written by gensim (`tests/fixtures/embed/make_fixtures.py`) reads with the
//! word vectors and out-of-vocabulary vectors gensim computes; truncated and corrupt files are format errors;
//! `oov = "subwords"` in sentence vectors; the oximl format keeps the n-grams.

use ndarray::{Array1, Array2};
use oximl_core::embed::subwords::{for_each_ngram, ft_hash};
use oximl_core::embed::{EmbedOptions, Embedder, KeyedVectors, LoadOptions, OovPolicy, UnicodeErrors, VectorFormat};
use oximl_core::{Error, Persist};
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/embed").join(name)
}

fn tiny() -> (Vec<u8>, Value) {
    let bytes = std::fs::read(fixture("tiny.bin")).unwrap();
    let expected = serde_json::from_slice(&std::fs::read(fixture("tiny_expected.json")).unwrap()).unwrap();
    (bytes, expected)
}

fn read(bytes: &[u8]) -> oximl_core::Result<KeyedVectors> {
    KeyedVectors::read_bytes(bytes, &LoadOptions::default())
}

fn assert_close(got: &[f32], want: &Value, tol: f64, what: &str) {
    let want: Vec<f64> = want.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(&want) {
        assert!((f64::from(*g) - w).abs() <= tol, "{what}: {got:?} vs {want:?}");
    }
}

#[test]
fn words_and_vectors_equal_gensims() {
    let (bytes, expected) = tiny();
    assert_eq!(VectorFormat::detect(&bytes).unwrap(), VectorFormat::FastTextBin);
    let kv = read(&bytes).unwrap();
    let words: Vec<&str> = expected["words"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(kv.words(), words);
    for (i, want) in expected["vectors"].as_array().unwrap().iter().enumerate() {
        assert_close(kv.vectors().row(i).as_slice().unwrap(), want, 1e-6, words[i]);
    }
    let sub = kv.subwords().unwrap();
    assert_eq!((sub.minn(), sub.maxn(), sub.ngrams().nrows()), (2, 4, 64));
    for (word, want) in expected["oov"].as_object().unwrap() {
        assert!(kv.index_of(word).is_none());
        assert_close(kv.word_vector(word).unwrap().as_slice().unwrap(), want, 1e-6, word);
    }
    assert_eq!(kv.invalid_utf8_words(), 0);
}

#[test]
fn ngrams_and_hash_follow_fasttext() {
    // fastText's computeSubwords of "été" with minn 1, maxn 3 (whole characters; "<" and ">" alone excluded).
    let mut grams = Vec::new();
    for_each_ngram("été", 1, 3, |g| grams.push(String::from_utf8(g.to_vec()).unwrap()));
    assert_eq!(grams, ["<é", "<ét", "é", "ét", "été", "t", "té", "té>", "é", "é>"]);
    // FNV-1a with sign-extended bytes: for 0xC3 the xor is with 0xFFFFFFC3, not 0xC3.
    let unsigned = (2166136261u32 ^ 0xC3).wrapping_mul(16777619);
    let signed = (2166136261u32 ^ 0xFFFF_FFC3).wrapping_mul(16777619);
    assert_eq!(ft_hash(&[0xC3]), signed);
    assert_ne!(ft_hash(&[0xC3]), unsigned);
}

#[test]
fn every_truncation_is_a_format_error() {
    let (bytes, _) = tiny();
    for len in 0..bytes.len() {
        let r = KeyedVectors::read_bytes(&bytes[..len], &LoadOptions::default().format(VectorFormat::FastTextBin));
        assert!(matches!(r, Err(Error::Format(_))), "prefix of {len} bytes: {r:?}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(read(&longer), Err(Error::Format(_))));
}

/// Byte offsets of the tiny model: magic, version, 12 args, t (64 bytes), then the dictionary counts.
const DICT: usize = 64;

#[test]
fn corrupt_counts_quantized_models_and_bad_words_are_refused() {
    let (bytes, _) = tiny();
    let patched = |at: usize, value: &[u8]| {
        let mut b = bytes.clone();
        b[at..at + value.len()].copy_from_slice(value);
        b
    };
    let message = |b: &[u8]| match read(b) {
        Err(Error::Format(m)) => m,
        other => panic!("expected a format error, got {other:?}"),
    };
    // A dictionary size beyond the file, a negative one, a huge bucket, an unknown version.
    assert!(message(&patched(DICT, &i32::MAX.to_le_bytes())).contains("dictionary size"));
    assert!(message(&patched(DICT, &(-1i32).to_le_bytes())).contains("dictionary size"));
    assert!(message(&patched(8 + 4 * 8, &i32::MAX.to_le_bytes())).contains("input matrix"));
    assert!(message(&patched(4, &13i32.to_le_bytes())).contains("version 13"));
    // The quant flag right after the dictionary: a quantized (.ftz) model.
    let kv = read(&bytes).unwrap();
    let dict_end = DICT + 4 * 3 + 8 * 2 + kv.words().iter().map(|w| w.len() + 1 + 9).sum::<usize>();
    assert_eq!(bytes[dict_end], 0);
    assert!(message(&patched(dict_end, &[1])).contains("quantized"));
    // A word that is not UTF-8: strict refuses, the other policies decode and count it.
    let first = DICT + 4 * 3 + 8 * 2;
    let bad = patched(first, &[0xFF]);
    assert!(message(&bad).contains("not valid UTF-8"));
    for (policy, word) in [(UnicodeErrors::Replace, "\u{fffd}he"), (UnicodeErrors::BackslashReplace, "\\xffhe")] {
        let kv = KeyedVectors::read_bytes(&bad, &LoadOptions::default().unicode_errors(policy)).unwrap();
        assert_eq!((kv.words()[0].as_str(), kv.invalid_utf8_words()), (word, 1));
    }
    // Not a model at all.
    let not_model = KeyedVectors::read_bytes(b"1 1\na 1\n", &LoadOptions::default().format(VectorFormat::FastTextBin));
    assert!(matches!(not_model, Err(Error::Format(m)) if m.contains("not a fastText model")));
}

#[test]
fn subwords_policy_in_sentence_vectors() {
    let (bytes, _) = tiny();
    let kv = read(&bytes).unwrap();
    let options = EmbedOptions { oov: OovPolicy::Subwords, ..EmbedOptions::default() };
    let e = Embedder::new(&kv).options(options);
    let got = e.sentence_vector(&["cat", "dogma"]).unwrap().unwrap();
    let sum: Array1<f32> = &kv.get("cat").unwrap() + &kv.word_vector("dogma").unwrap();
    let want = &sum / sum.dot(&sum).sqrt();
    assert!((&got - &want).iter().all(|d| d.abs() < 1e-6), "{got} vs {want}");
    let batch = e.embed_batch(&["cat dogma", "zzzz"]).unwrap();
    assert!((&batch.vectors.row(0) - &want).iter().all(|d| d.abs() < 1e-6));
    assert_eq!(batch.found, [true, true]);
    // A table without n-grams cannot use the policy.
    let plain = KeyedVectors::new(vec!["a".into()], Array2::ones((1, 4))).unwrap();
    let r = Embedder::new(&plain).options(options).sentence_vector(&["b"]);
    assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{r:?}");
}

#[test]
fn the_oximl_format_keeps_the_ngrams() {
    let (bytes, _) = tiny();
    let kv = read(&bytes).unwrap();
    let back = KeyedVectors::from_bytes(&kv.to_bytes().unwrap()).unwrap();
    assert_eq!(back.subwords(), kv.subwords());
    assert_eq!(back.word_vector("dogma"), kv.word_vector("dogma"));
    let limited = KeyedVectors::read_bytes(&bytes, &LoadOptions::default().limit(3)).unwrap();
    assert_eq!(limited.words(), &kv.words()[..3]);
    assert!(kv.save_as(std::env::temp_dir().join("oximl-ft-nowrite.bin"), VectorFormat::FastTextBin).is_err());
}

#[test]
fn the_older_format_without_magic_reads_the_same() {
    // The older layout (gensim's lee_fasttext.bin): no magic and version, no pruneidx_size, no quant flags.
    let (bytes, _) = tiny();
    let kv = read(&bytes).unwrap();
    let counts = DICT + 4 * 3 + 8;
    let dict_end = counts + 8 + kv.words().iter().map(|w| w.len() + 1 + 9).sum::<usize>();
    let input = 1 + 16 + 4 * (kv.len() + 64) * kv.dim();
    let mut old = bytes[8..counts].to_vec();
    old.extend_from_slice(&bytes[counts + 8..dict_end]);
    old.extend_from_slice(&bytes[dict_end + 1..dict_end + input]);
    old.extend_from_slice(&bytes[dict_end + input + 1..]);
    assert_eq!(VectorFormat::detect(&old).unwrap(), VectorFormat::FastTextBin);
    let back = read(&old).unwrap();
    assert_eq!((back.words(), back.vectors()), (kv.words(), kv.vectors()));
    assert_eq!(back.subwords(), kv.subwords());
}
