//! Integration tests of `oximl_core::embed`: the sentence-vector formula against an `f64` reference, file formats,
//! nearest neighbours against brute force, and every bad input of issue 5.

use ndarray::{Array1, Array2, array};
use ndarray_rand::RandomExt;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::{Rng, SeedableRng};
use ndarray_rand::rand_distr::Uniform;
use oximl_core::embed::{
    Embedder, KeyedVectors, LoadOptions, OovPolicy, Probabilities, TokenizeOptions, UnicodeErrors, VectorFormat,
    WordWeights,
};
use oximl_core::{Cancel, Error, Persist};
use std::collections::HashMap;
use std::path::PathBuf;

/// Sentence vectors in `f32` vs the formula in `f64`: agreement to this absolute tolerance per component
/// (unit vectors, sums of ≤ 40 terms of magnitude ≤ 1).
const TOL: f64 = 1e-5;

fn random_table(words: usize, dim: usize, seed: u64) -> KeyedVectors {
    let mut rng = StdRng::seed_from_u64(seed);
    let v = Array2::random_using((words, dim), Uniform::new(-1.0f32, 1.0).unwrap(), &mut rng);
    KeyedVectors::new((0..words).map(|i| format!("w{i}")).collect(), v).unwrap()
}

fn random_texts(kv_words: usize, n: usize, seed: u64) -> Vec<Vec<String>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let len = rng.random_range(0..40);
            // Some unknown words (index ≥ kv_words) mixed in.
            (0..len).map(|_| format!("w{}", rng.random_range(0..kv_words + kv_words / 10))).collect()
        })
        .collect()
}

/// numpy's `v = E[idx].T @ c; v / np.linalg.norm(v)`, in f64.
fn reference(kv: &KeyedVectors, tokens: &[String], weights: Option<&Array1<f32>>) -> Option<Vec<f64>> {
    let mut sum = vec![0.0f64; kv.dim()];
    let mut found = false;
    for t in tokens {
        if let Some(i) = kv.index_of(t) {
            found = true;
            let c = weights.map_or(1.0, |w| f64::from(w[i]));
            for (s, &x) in sum.iter_mut().zip(kv.vectors().row(i)) {
                *s += c * f64::from(x);
            }
        }
    }
    let norm = sum.iter().map(|x| x * x).sum::<f64>().sqrt();
    found.then(|| sum.iter().map(|x| if norm > 0.0 { x / norm } else { 0.0 }).collect())
}

fn assert_close(got: ndarray::ArrayView1<'_, f32>, want: &[f64]) {
    for (g, w) in got.iter().zip(want) {
        assert!((f64::from(*g) - w).abs() < TOL, "{g} vs {w}");
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("oximl-embed-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn format_error(r: oximl_core::Result<KeyedVectors>) -> String {
    match r {
        Err(Error::Format(m)) => m,
        other => panic!("expected a format error, got {other:?}"),
    }
}

fn parse(text: &[u8]) -> oximl_core::Result<KeyedVectors> {
    KeyedVectors::read_bytes(text, &LoadOptions::default())
}

#[test]
fn sentence_vectors_match_the_f64_formula_unweighted_and_weighted() {
    let kv = random_table(300, 64, 1);
    let texts = random_texts(300, 200, 2);
    let e = Embedder::new(&kv);
    let sif = WordWeights::sif(&kv, 1e-3, Probabilities::Zipf).unwrap();
    let ew = Embedder::new(&kv).weights(&sif).unwrap();
    for t in &texts {
        match (e.sentence_vector(t).unwrap(), reference(&kv, t, None)) {
            (Some(v), Some(r)) => {
                assert_close(v.view(), &r);
                assert!((oximl_kernel::norm_l2(v.view()) - 1.0).abs() < 1e-6, "‖w‖ = 1");
            }
            (None, None) => {}
            (v, r) => panic!("{v:?} vs {r:?}"),
        }
        if let Some(r) = reference(&kv, t, Some(sif.as_array())) {
            assert_close(ew.sentence_vector(t).unwrap().unwrap().view(), &r);
        }
    }
    // SIF weights themselves: a / (a + p(rank)), Zipf with H_n.
    let h: f64 = (1..=300).map(|r| 1.0 / r as f64).sum();
    for (r, w) in sif.as_array().iter().enumerate() {
        let p = 1.0 / ((r + 1) as f64 * h);
        assert!((f64::from(*w) - 1e-3 / (1e-3 + p)).abs() < 1e-6);
    }
}

#[test]
fn order_does_not_matter_and_batches_match_single_texts_for_any_thread_count() {
    let kv = random_table(500, 32, 3);
    let texts = random_texts(500, 300, 4);
    let e = Embedder::new(&kv);
    let mut rng = StdRng::seed_from_u64(5);
    for t in texts.iter().take(50) {
        let mut shuffled = t.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.random_range(0..=i));
        }
        match (e.sentence_vector(t).unwrap(), e.sentence_vector(&shuffled).unwrap()) {
            (Some(a), Some(b)) => a.iter().zip(&b).for_each(|(x, y)| assert!((x - y).abs() < 1e-6)),
            (None, None) => {}
            other => panic!("{other:?}"),
        }
    }
    let joined: Vec<String> = texts.iter().map(|t| t.join(" ")).collect();
    oximl_core::set_num_threads(1).unwrap();
    let one = e.embed_batch(&joined).unwrap();
    oximl_core::set_num_threads(2).unwrap();
    let two = e.embed_batch(&joined).unwrap();
    let tok = e.embed_batch_tokens(&texts).unwrap();
    oximl_core::set_num_threads(0).unwrap();
    assert_eq!(one, two, "bit-identical for 1 and 2 threads");
    assert_eq!(one, tok, "text and token batches agree");
    for (i, t) in texts.iter().enumerate() {
        let single = e.sentence_vector(t).unwrap();
        assert_eq!(one.found[i], single.is_some());
        assert_eq!(one.vectors.row(i).to_owned(), single.unwrap_or_else(|| Array1::zeros(kv.dim())));
    }
}

#[test]
fn all_file_formats_give_identical_vectors() {
    let kv = random_table(120, 17, 6);
    let dir = temp_dir("formats");
    let formats = [
        (VectorFormat::Word2VecText, "w2v.txt", VectorFormat::Word2VecText),
        (VectorFormat::FastText, "ft.vec", VectorFormat::Word2VecText),
        (VectorFormat::Glove, "glove.txt", VectorFormat::Glove),
        (VectorFormat::Word2VecBinary, "w2v.bin", VectorFormat::Word2VecBinary),
        (VectorFormat::Oximl, "kv.oximl", VectorFormat::Oximl),
    ];
    for (format, name, detected) in formats {
        let path = dir.join(name);
        kv.save_as(&path, format).unwrap();
        assert_eq!(VectorFormat::detect(&std::fs::read(&path).unwrap()).unwrap(), detected, "{name}");
        for opts in [LoadOptions::default(), LoadOptions::default().format(format)] {
            let back = KeyedVectors::read(&path, &opts).unwrap();
            assert_eq!(back.words(), kv.words(), "{name}");
            assert_eq!(back.vectors(), kv.vectors(), "{name}: bit-identical");
        }
        let few = KeyedVectors::read(&path, &LoadOptions::default().limit(7)).unwrap();
        if format != VectorFormat::Oximl {
            assert_eq!(few.vectors(), kv.vectors().slice(ndarray::s![..7, ..]), "{name} limit");
        }
    }
    let back = KeyedVectors::load(dir.join("kv.oximl")).unwrap();
    assert_eq!(back.vectors(), kv.vectors());
    assert_eq!(KeyedVectors::read_bytes(&kv.to_bytes().unwrap(), &LoadOptions::default()).unwrap().words(), kv.words());
    assert_eq!(KeyedVectors::from_bytes(&kv.to_bytes().unwrap()).unwrap().words(), kv.words());
    // A word2vec text file is not an oximl file.
    assert!(KeyedVectors::load(dir.join("w2v.txt")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn text_details_crlf_tabs_blank_lines_unicode_words() {
    let kv = parse("2 2\r\nüber\t1 2 \r\n\r\n東京 -3.5 4e-3\r\n".as_bytes()).unwrap();
    assert_eq!(kv.words(), ["über", "東京"]);
    assert_eq!(kv.vectors(), array![[1.0, 2.0], [-3.5, 0.004]]);
}

#[test]
fn most_similar_matches_brute_force_cosine() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut v = Array2::random_using((400, 24), Uniform::new(-1.0f32, 1.0).unwrap(), &mut rng);
    v.row_mut(13).fill(0.0); // a zero vector in the table
    let words: Vec<String> = (0..400).map(|i| format!("w{i}")).collect();
    let kv = KeyedVectors::new(words, v.clone()).unwrap();
    let cos = |a: ndarray::ArrayView1<'_, f32>, b: ndarray::ArrayView1<'_, f32>| {
        let d: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
        let na = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        let nb = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        if na == 0.0 || nb == 0.0 { 0.0 } else { d / (na * nb) }
    };
    let queries = Array2::random_using((300, 24), Uniform::new(-1.0f32, 1.0).unwrap(), &mut rng);
    let exclude = ["w1", "w2", "not-a-word"];
    let got = kv.most_similar_batch(queries.view(), 10, &exclude).unwrap();
    assert_eq!(got.len(), 300);
    for (q, best) in queries.rows().into_iter().zip(&got) {
        let mut all: Vec<(usize, f64)> =
            (0..400).filter(|&i| i != 1 && i != 2).map(|i| (i, cos(q, v.row(i)))).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(best.len(), 10);
        for ((gi, gs), (wi, ws)) in best.iter().zip(&all) {
            assert!((f64::from(*gs) - ws).abs() < 1e-5);
            // Same word unless two cosines are within rounding of each other.
            assert!(gi == wi || (cos(q, v.row(*gi)) - ws).abs() < 1e-5);
        }
    }
    // Word queries leave the word itself out; the zero vector has similarity 0.
    let near = kv.most_similar("w5", 3, &[]).unwrap();
    assert!(near.iter().all(|&(i, _)| kv.word(i) != Some("w5")));
    assert_eq!(kv.similarity("w5", "w13").unwrap(), 0.0);
    assert!((kv.similarity("w5", "w5").unwrap() - 1.0).abs() < 1e-6);
    assert_eq!(kv.normalized().row(13).sum(), 0.0);
    assert_eq!(kv.most_similar("w5", 0, &[]).unwrap().len(), 0);
    assert_eq!(kv.most_similar("w5", 1000, &[]).unwrap().len(), 399);
}

#[test]
fn lowercase_fallback_and_tokenizer() {
    let kv = KeyedVectors::new(vec!["paris".into(), "Berlin".into()], array![[1.0f32, 0.0], [0.0, 1.0]]).unwrap();
    assert!(Embedder::new(&kv).embed_text("PARIS").unwrap().is_none());
    assert!(Embedder::new(&kv).lowercase_fallback(true).embed_text("PARIS").unwrap().is_some());
    assert!(Embedder::new(&kv).lowercase_fallback(true).embed_text("berlin").unwrap().is_some());
    let lower = Embedder::new(&kv).tokenizer(TokenizeOptions::default().lowercase(true));
    assert!(lower.embed_text("Paris!").unwrap().is_some());
    assert!(lower.embed_text("Berlin").unwrap().is_none(), "the tokenizer lowercases, the table has `Berlin`");
}

#[test]
fn caller_weights() {
    let kv = KeyedVectors::new(vec!["a".into(), "b".into()], array![[1.0f32, 0.0], [0.0, 1.0]]).unwrap();
    let w = WordWeights::from_map(&kv, &HashMap::from([("a".to_string(), 3.0)]), 4.0).unwrap();
    let v = Embedder::new(&kv).weights(&w).unwrap().embed_text("a b").unwrap().unwrap();
    assert_eq!(v.to_vec(), [0.6, 0.8]);
    assert!(matches!(WordWeights::from_map(&kv, &HashMap::new(), f32::NAN), Err(Error::NonFinite(_))));
    let other = KeyedVectors::new(vec!["x".into()], array![[1.0f32, 0.0]]).unwrap();
    let w1 = WordWeights::from_array(&other, array![1.0]).unwrap();
    assert!(matches!(Embedder::new(&kv).weights(&w1), Err(Error::Shape { .. })));
    assert!(matches!(WordWeights::sif(&kv, 0.0, Probabilities::Zipf), Err(Error::InvalidArgument { .. })));
    let bad = HashMap::from([("a".to_string(), -1.0)]);
    assert!(matches!(WordWeights::sif(&kv, 1e-3, Probabilities::Counts(&bad)), Err(Error::InvalidArgument { .. })));
}

// ---- Bad input, one test each ----

#[test]
fn empty_files() {
    assert!(format_error(parse(b"")).contains("empty"));
    assert!(format_error(parse(b" \n\n ")).contains("empty"));
    for f in [VectorFormat::Glove, VectorFormat::Word2VecText, VectorFormat::Word2VecBinary, VectorFormat::Oximl] {
        format_error(KeyedVectors::read_bytes(b"", &LoadOptions::default().format(f)));
    }
    assert!(format_error(parse(b"0 3\n")).contains("0 words"));
    let dir = temp_dir("empty");
    let path = dir.join("empty.txt");
    std::fs::write(&path, b"").unwrap();
    let m = format_error(KeyedVectors::read(&path, &LoadOptions::default()));
    assert!(m.contains("empty.txt") && m.contains("empty file"), "{m}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wrong_header_counts() {
    assert!(format_error(parse(b"3 2\na 1 2\nb 3 4\n")).contains("declares 3 words but the file has 2"));
    assert!(format_error(parse(b"1 2\na 1 2\nb 3 4\n")).contains("has more rows"));
    // Within the limit, the rest is not read.
    assert_eq!(KeyedVectors::read_bytes(b"1 2\na 1 2\nb 3 4\n", &LoadOptions::default().limit(1)).unwrap().len(), 1);
    let mut bin = b"2 1\na ".to_vec();
    bin.extend_from_slice(&1.0f32.to_le_bytes());
    let m = format_error(KeyedVectors::read_bytes(&bin, &LoadOptions::default().format(VectorFormat::Word2VecBinary)));
    assert!(m.contains("declares 2 words but the file has 1"), "{m}");
    let mut more = bin.clone();
    more[0] = b'1';
    more.extend_from_slice(b"\nb ");
    more.extend_from_slice(&2.0f32.to_le_bytes());
    assert!(format_error(parse(&more)).contains("more data"));
    assert!(format_error(parse(b"2 0\n")).contains("0 dimensions"));
    let m =
        format_error(KeyedVectors::read_bytes(b"a 1 2\n", &LoadOptions::default().format(VectorFormat::Word2VecText)));
    assert!(m.contains("line 1: expected a header"), "{m}");
}

#[test]
fn rows_of_the_wrong_dimension() {
    assert_eq!(format_error(parse(b"2 3\na 1 2 3\nb 1 2\n")), "line 3: expected 3 values, found 2");
    assert_eq!(format_error(parse(b"a 1 2\nb 1 2 3\n")), "line 2: expected 2 values, found 3");
    assert_eq!(format_error(parse(b"a 1 2\n\nb\n")), "line 3: expected 2 values, found 0");
    assert!(format_error(parse(b"a\n")).contains("line 1: a word without values"));
    // Truncated binary vector.
    let mut bin = b"1 2\na ".to_vec();
    bin.extend_from_slice(&1.0f32.to_le_bytes());
    let m = format_error(KeyedVectors::read_bytes(&bin, &LoadOptions::default().format(VectorFormat::Word2VecBinary)));
    assert!(m.contains("entry 1") && m.contains("truncated"), "{m}");
}

#[test]
fn non_numeric_and_non_finite_values() {
    assert_eq!(format_error(parse(b"a 1 2\nb 1 x2\n")), "line 2: \"x2\" is not a number");
    // A long non-number is cut at 40 characters, not at a byte inside a character (that panicked).
    let bad = format!("x{}", "é".repeat(30));
    let m = format_error(parse(format!("a 1 2\nb 1 {bad}\n").as_bytes()));
    assert_eq!(m, format!("line 2: {bad:?} is not a number"));
    assert!(matches!(parse(b"a 1 nan\n"), Err(Error::NonFinite(m)) if m.contains("line 1")));
    assert!(matches!(parse(b"1 1\na inf\n"), Err(Error::NonFinite(m)) if m.contains("line 2")));
    let mut bin = b"1 1\na ".to_vec();
    bin.extend_from_slice(&f32::NAN.to_le_bytes());
    let r = KeyedVectors::read_bytes(&bin, &LoadOptions::default().format(VectorFormat::Word2VecBinary));
    assert!(matches!(r, Err(Error::NonFinite(m)) if m.contains("entry 1")));
    assert!(matches!(KeyedVectors::new(vec!["a".into()], array![[f32::INFINITY]]), Err(Error::NonFinite(_))));
}

#[test]
fn duplicated_words_first_wins_and_is_counted() {
    let kv = parse(b"4 1\na 1\nb 2\na 3\nb 4\n").unwrap();
    assert_eq!(kv.words(), ["a", "b"]);
    assert_eq!(kv.vectors(), array![[1.0], [2.0]]);
    assert_eq!(kv.duplicates().count, 2);
    assert_eq!(kv.duplicates().examples, ["a", "b"]);
    // The header counts entries, duplicates included; the limit too.
    let kv = KeyedVectors::read_bytes(b"a 1\na 2\nc 3\n", &LoadOptions::default().limit(2)).unwrap();
    assert_eq!((kv.len(), kv.duplicates().count), (1, 1));
}

#[test]
fn invalid_utf8_names_the_line() {
    assert!(
        format_error(parse(b"2 1\nok 1\nb\xff\xfe 2\n")).starts_with("line 3: invalid UTF-8 at byte 1 of the line")
    );
    assert!(format_error(parse(b"ok 1\n\xc3 2\n")).starts_with("line 2: invalid UTF-8"));
    let mut bin = b"1 1\n\xffa ".to_vec();
    bin.extend_from_slice(&1.0f32.to_le_bytes());
    let m = format_error(KeyedVectors::read_bytes(&bin, &LoadOptions::default().format(VectorFormat::Word2VecBinary)));
    assert!(m.contains("entry 1") && m.contains("UTF-8"), "{m}");
}

#[test]
fn unicode_errors_replace_or_ignore_as_python_and_count_the_words() {
    // Python: b"b\xff\xfe".decode("utf-8", "replace") == "b\ufffd\ufffd"; b"\xe2\x82".decode(.., "replace") == "\ufffd"
    // (one maximal invalid sequence); "ignore" drops the bytes.
    let text = b"3 1\nok 1\nb\xff\xfe 2\nx\xe2\x82y 3\n";
    let mut bin = b"3 1\n".to_vec();
    for (w, v) in [(&b"ok"[..], 1.0f32), (b"b\xff\xfe", 2.0), (b"x\xe2\x82y", 3.0)] {
        bin.extend_from_slice(w);
        bin.push(b' ');
        bin.extend_from_slice(&v.to_le_bytes());
    }
    for (bytes, format) in [(&text[..], VectorFormat::Word2VecText), (&bin[..], VectorFormat::Word2VecBinary)] {
        let read = |u| KeyedVectors::read_bytes(bytes, &LoadOptions::default().format(format).unicode_errors(u));
        assert!(matches!(read(UnicodeErrors::Strict), Err(Error::Format(_))));
        let kv = read(UnicodeErrors::Replace).unwrap();
        assert_eq!(kv.words(), ["ok", "b\u{fffd}\u{fffd}", "x\u{fffd}y"]);
        assert_eq!((kv.invalid_utf8_words(), kv.vectors()[[2, 0]]), (2, 3.0));
        let kv = read(UnicodeErrors::Ignore).unwrap();
        assert_eq!((kv.words(), kv.invalid_utf8_words()), (&["ok".to_string(), "b".into(), "xy".into()][..], 2));
        assert_eq!(parse(b"ok 1\n").unwrap().invalid_utf8_words(), 0);
    }
    // Words that become equal are duplicates (the first wins, as gensim); a word of invalid bytes only is lost.
    let ignore = LoadOptions::default().unicode_errors(UnicodeErrors::Ignore);
    let kv = KeyedVectors::read_bytes(b"a\xff 1\na\xfe 2\n", &ignore).unwrap();
    assert_eq!((kv.len(), kv.duplicates().count, kv.invalid_utf8_words()), (1, 1, 2));
    assert_eq!(KeyedVectors::read_bytes(b"1 1\n\xff 1\n", &ignore).unwrap().words(), [""]); // as gensim
    let mut bin = b"1 1\n\xff ".to_vec();
    bin.extend_from_slice(&1.0f32.to_le_bytes());
    let kv = KeyedVectors::read_bytes(&bin, &ignore.format(VectorFormat::Word2VecBinary)).unwrap();
    assert_eq!(kv.words(), [""]); // as gensim
    let o: LoadOptions = serde_json::from_str(r#"{"unicode_errors": "replace"}"#).unwrap();
    assert_eq!(o.get_unicode_errors(), UnicodeErrors::Replace);
    assert!(serde_json::from_str::<LoadOptions>(r#"{"unicode_errors": "backslash"}"#).is_err());
}

#[test]
fn a_zero_vector_in_the_table() {
    let kv = parse(b"z 0 0\na 3 4\n").unwrap();
    assert_eq!(kv.normalized(), array![[0.0, 0.0], [0.6, 0.8]]);
    let e = Embedder::new(&kv);
    // Known word, zero sum: a zero vector, not NaN, and it counts as found.
    let v = e.sentence_vector(&["z", "z"]).unwrap().unwrap();
    assert_eq!(v.to_vec(), [0.0, 0.0]);
    assert_eq!(e.sentence_vector(&["z", "a"]).unwrap().unwrap().to_vec(), [0.6, 0.8]);
    assert_eq!(kv.similarity("z", "a").unwrap(), 0.0);
    assert!(matches!(kv.most_similar("z", 1, &[]), Err(Error::InvalidArgument { .. })));
}

#[test]
fn empty_texts_and_unknown_words() {
    let kv = parse(b"a 1 0\nb 0 1\n").unwrap();
    let e = Embedder::new(&kv);
    assert!(e.embed_text("").unwrap().is_none());
    assert!(e.embed_text(" ,;! ").unwrap().is_none());
    assert!(e.sentence_vector::<&str>(&[]).unwrap().is_none());
    let b = e.embed_batch(&["", "zzz", "a"]).unwrap();
    assert_eq!(b.found, [false, false, true]);
    assert!(b.vectors.iter().all(|v| v.is_finite()));
    assert_eq!(b.vectors.row(1).to_vec(), [0.0, 0.0]);
    assert_eq!(e.embed_batch::<&str>(&[]).unwrap().vectors.dim(), (0, 2));
    // OOV policies.
    let err = Embedder::new(&kv).oov(OovPolicy::Error);
    let m = err.embed_batch(&["a", "a zzz b", "yyy"]).unwrap_err().to_string();
    assert!(m.contains("\"zzz\" (token 1)"), "{m}");
    let zero = Embedder::new(&kv).oov(OovPolicy::Zero);
    assert_eq!(zero.sentence_vector(&["zzz"]).unwrap().unwrap().to_vec(), [0.0, 0.0]);
    assert_eq!(zero.sentence_vector(&["zzz", "b"]).unwrap(), e.sentence_vector(&["b"]).unwrap());
    assert!(zero.sentence_vector::<&str>(&[]).unwrap().is_none());
}

#[test]
fn other_bad_arguments() {
    let kv = parse(b"a 1 0\nb 0 1\n").unwrap();
    assert!(matches!(
        KeyedVectors::read_bytes(b"a 1\n", &LoadOptions::default().limit(0)),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(kv.most_similar("zzz", 1, &[]), Err(Error::InvalidArgument { .. })));
    assert!(matches!(kv.most_similar(array![1.0f32].view(), 1, &[]), Err(Error::Shape { .. })));
    assert!(matches!(kv.most_similar(array![f32::NAN, 1.0].view(), 1, &[]), Err(Error::NonFinite(_))));
    assert!(matches!(kv.similarity("a", "zzz"), Err(Error::InvalidArgument { .. })));
    let mut out = Array1::zeros(3);
    assert!(matches!(Embedder::new(&kv).sentence_vector_into(&["a"], out.view_mut()), Err(Error::Shape { .. })));
    assert!(matches!(KeyedVectors::new(vec!["a".into()], Array2::zeros((2, 2))), Err(Error::Shape { .. })));
    // The empty word is a word (gensim's test model toy-model-pretrained.bin has it), not writable as text.
    let empty = KeyedVectors::new(vec!["".into()], Array2::zeros((1, 2))).unwrap();
    for format in [VectorFormat::Word2VecText, VectorFormat::Glove, VectorFormat::Word2VecBinary] {
        let r = empty.save_as(std::env::temp_dir().join("oximl-empty-word"), format);
        assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{r:?}");
    }
    assert_eq!(KeyedVectors::from_bytes(&empty.to_bytes().unwrap()).unwrap().words(), [""]);
    assert!(matches!(
        kv.save_as(std::env::temp_dir().join("x"), VectorFormat::Auto),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(KeyedVectors::read("/no/such/vectors.bin", &LoadOptions::default()), Err(Error::Io { .. })));
}

#[test]
fn huge_and_tiny_vectors_normalize_without_nan() {
    let kv = KeyedVectors::new(vec!["big".into(), "tiny".into()], array![[3e37f32, 4e37], [3e-40, 4e-40]]).unwrap();
    let e = Embedder::new(&kv);
    for w in ["big", "tiny"] {
        let v = e.sentence_vector(&[w, w, w]).unwrap().unwrap();
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6, "{w}: {v}");
    }
}

/// Issue 15: header numbers and line lengths cannot make the loader reserve memory the file does not hold (these
/// aborted the process, or read a 1M-value "vector" from one huge line).
#[test]
fn header_numbers_and_huge_lines_do_not_size_allocations() {
    let binary = LoadOptions::default().format(VectorFormat::Word2VecBinary);
    let mut bin = b"100000000000000000 4\na ".to_vec();
    bin.extend_from_slice(&[0u8; 16]);
    let m = format_error(KeyedVectors::read_bytes(&bin, &binary));
    assert!(m.contains("declares 100000000000000000 words but the file has 1"), "{m}");
    let m = format_error(KeyedVectors::read_bytes(b"1 1099511627776\na \x00\x00\x00\x00", &binary));
    assert!(m.contains("truncated"), "{m}");
    let m = format_error(KeyedVectors::read_bytes(b"1 4611686018427387904\na \x00\x00\x00\x00", &binary));
    assert!(m.contains("dimension too large"), "{m}");
    let text = LoadOptions::default().format(VectorFormat::Word2VecText);
    for file in [&b"1 100000000000\nw 1\n"[..], b"3 100000000000\nw 1\nv 2\nu 3\n"] {
        let m = format_error(KeyedVectors::read_bytes(file, &text));
        assert!(m.contains("line 2: expected 100000000000 values, found 1"), "{m}");
    }
    assert!(parse(b"2 100000000000\nw 1\n").is_err());
    // One line of 2 MB (1M values): refused, naming the line, in every text reader and in detection.
    let long: Vec<u8> = b"a".iter().chain(b" 0".repeat(1 << 20).iter()).copied().collect();
    assert!(format_error(parse(&long)).starts_with("line 1: longer than 1048576 bytes"));
    let with_header = [&b"1 3\n"[..], &long].concat();
    assert!(format_error(KeyedVectors::read_bytes(&with_header, &text)).starts_with("line 2: longer than"));
    assert!(format_error(KeyedVectors::read_bytes(&vec![b'x'; 3 << 20], &binary)).starts_with("line 1: longer"));
    // A long line within 64 bytes per declared value is fine.
    let dim = 1 << 16;
    let wide = format!("1 {dim}\nw{}\n", " 0.12345678901234567".repeat(dim));
    assert!(wide.len() > 1 << 20);
    assert_eq!(parse(wide.as_bytes()).unwrap().dim(), dim);
}

/// Issue 15: finite vectors near `f32::MAX` give finite unit sentence vectors and finite neighbour scores (the
/// `f32` sum overflowed to inf before).
#[test]
fn huge_finite_vectors_give_finite_sentence_vectors_and_neighbours() {
    let kv = KeyedVectors::new(
        vec!["a".into(), "b".into(), "c".into(), "n".into()],
        array![[3e38f32, 3e38, 1.0], [3e38, 1e38, -2e38], [1.0, 2.0, 3.0], [-3e38, -3e38, -1.0]],
    )
    .unwrap();
    let e = Embedder::new(&kv);
    let tokens: Vec<String> = ["a", "b", "a", "c"].iter().map(|s| s.to_string()).collect();
    let v = e.sentence_vector(&tokens).unwrap().unwrap();
    assert_close(v.view(), &reference(&kv, &tokens, None).unwrap());
    let batch = e.embed_batch(&["a b a c", "a a n n", "a a n"]).unwrap();
    assert_eq!(batch.vectors.row(0), v);
    // a + a + n + n is exactly zero (the f32 sum overflowed on the way): a zero vector, not NaN.
    assert!(batch.vectors.row(1).iter().all(|&x| x == 0.0) && batch.found[1]);
    assert_close(batch.vectors.row(2), &reference(&kv, &["a", "a", "n"].map(String::from), None).unwrap());
    // Huge weights times huge vectors.
    let w = WordWeights::from_array(&kv, array![1e30f32, 1e30, 1e30, 1.0]).unwrap();
    let weighted = e.weights(&w).unwrap().sentence_vector(&["a", "b"]).unwrap().unwrap();
    assert_close(weighted.view(), &reference(&kv, &["a", "b"].map(String::from), Some(w.as_array())).unwrap());
    // Neighbours of huge queries, and analogies over huge words.
    let near = kv.most_similar(array![3e38f32, 3e38, 3e38].view(), 4, &[]).unwrap();
    assert!(near.iter().all(|(_, s)| s.is_finite() && s.abs() <= 1.0 + 1e-6), "{near:?}");
    let q = [oximl_core::embed::Query::Word("a"), oximl_core::embed::Query::Word("b")];
    let combined = kv.most_similar_combined(&q, &[], 2, &[]).unwrap();
    assert!(combined.iter().all(|(_, s)| s.is_finite()), "{combined:?}");
}

/// Issue 16: gensim's `most_similar(positive, negative)` (3CosAdd) in the core, against an f64 brute force.
#[test]
fn analogies_match_the_f64_3cosadd_formula() {
    use oximl_core::embed::Query;
    let kv = random_table(200, 12, 9);
    let unit = |w: &str| {
        let v = kv.get(w).unwrap();
        let n = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        v.iter().map(|x| f64::from(*x) / n).collect::<Vec<f64>>()
    };
    let extra = array![0.5f32, -1.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0];
    let en = extra.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let query: Vec<f64> =
        (0..12).map(|j| unit("w3")[j] + unit("w7")[j] - unit("w11")[j] + f64::from(extra[j]) / en).collect();
    let got = kv
        .most_similar_combined(
            &[Query::Word("w3"), Query::Word("w7"), Query::Vector(extra.view())],
            &[Query::Word("w11")],
            5,
            &["w0"],
        )
        .unwrap();
    let qn = query.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut want: Vec<(usize, f64)> = (0..200)
        .filter(|i| ![0, 3, 7, 11].contains(i))
        .map(|i| {
            let u = unit(&format!("w{i}"));
            (i, u.iter().zip(&query).map(|(a, b)| a * b).sum::<f64>() / qn)
        })
        .collect();
    want.sort_by(|a, b| b.1.total_cmp(&a.1));
    assert_eq!(got.len(), 5);
    for ((gi, gs), (wi, ws)) in got.iter().zip(&want) {
        assert!(gi == wi && (f64::from(*gs) - ws).abs() < 1e-5, "{gi} {gs} vs {wi} {ws}");
    }
    // One positive word is `most_similar` of that word.
    assert_eq!(
        kv.most_similar_combined(&[Query::Word("w3")], &[], 4, &[]).unwrap(),
        kv.most_similar("w3", 4, &[]).unwrap()
    );
    assert!(matches!(kv.most_similar_combined(&[], &[], 3, &[]), Err(Error::InvalidArgument { .. })));
    assert!(matches!(
        kv.most_similar_combined(&[Query::Word("nope")], &[Query::Word("w1")], 3, &[]),
        Err(Error::InvalidArgument { .. })
    ));
    let zero = kv.most_similar_combined(&[Query::Word("w1")], &[Query::Word("w1")], 3, &[]);
    assert!(matches!(zero, Err(Error::InvalidArgument { .. })), "{zero:?}");
    let short = array![1.0f32];
    assert!(matches!(
        kv.most_similar_combined(&[Query::Word("w1")], &[Query::Vector(short.view())], 3, &[]),
        Err(Error::Shape { .. })
    ));
}

/// Issue 15: batch embedding and loading stop with `Error::Cancelled` once their token is cancelled.
#[test]
fn batch_embedding_and_loading_can_be_cancelled() {
    let kv = random_table(50, 8, 3);
    let texts: Vec<String> = (0..10_000).map(|i| format!("w{} w{}", i % 50, (i * 7) % 50)).collect();
    let e = Embedder::new(&kv);
    let cancel = Cancel::new();
    assert_eq!(e.embed_batch_cancellable(&texts, &cancel).unwrap(), e.embed_batch(&texts).unwrap());
    cancel.cancel();
    assert!(matches!(e.embed_batch_cancellable(&texts, &cancel), Err(Error::Cancelled(_))));
    let tokens: Vec<Vec<&str>> = texts.iter().map(|t| t.split(' ').collect()).collect();
    assert!(matches!(e.embed_batch_tokens_cancellable(&tokens, &cancel), Err(Error::Cancelled(_))));
    let dir = temp_dir("cancel");
    for format in [VectorFormat::Word2VecText, VectorFormat::Word2VecBinary, VectorFormat::Oximl] {
        let path = dir.join("v");
        kv.save_as(&path, format).unwrap();
        let r = KeyedVectors::read_cancellable(&path, &LoadOptions::default(), &cancel);
        assert!(matches!(r, Err(Error::Cancelled(_))), "{format:?}");
        assert_eq!(KeyedVectors::read_cancellable(&path, &LoadOptions::default(), &Cancel::new()).unwrap().len(), 50);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 16: one spelling per format, defined in the core; the former Python spelling `"word2vec"` is an alias.
#[test]
fn format_names_are_the_cores_with_the_old_spelling_accepted() {
    let f: VectorFormat = serde_json::from_str("\"word2vec\"").unwrap();
    assert_eq!(f, VectorFormat::Word2VecText);
    assert_eq!(serde_json::to_string(&f).unwrap(), "\"word2vec_text\"");
    let o: LoadOptions = serde_json::from_str(r#"{"format": "word2vec_binary", "limit": 2}"#).unwrap();
    assert_eq!(o, LoadOptions::default().format(VectorFormat::Word2VecBinary).limit(2));
    assert!(serde_json::from_str::<VectorFormat>("\"parquet\"").is_err());
}
