//! Writes the seed corpus `fuzz/corpus/<target>/seed-*`: valid inputs made by the library itself, plus edge
//! cases. Run `cargo run -p oximl-fuzz --example seeds` after changing a format or a config; inputs found by the
//! fuzzer are added beside them by `fuzz/run merge <target>`.

use ndarray::array;
use oximl_core::Persist;
use oximl_core::data::{MinMaxScaler, StandardScaler};
use oximl_core::embed::{KeyedVectors, LoadOptions, UnicodeErrors, VectorFormat};
use oximl_core::kernel::Activation;
use oximl_core::mf::{self, Algorithm, Als, FunkSvd, ImplicitAls, Ratings};
use oximl_core::nn::{Compiled, Dense, FitOptions, Initializer, Layer, Loss, Metric, Sequential};
use oximl_core::optim::{Optimizer, Regularizer};
use oximl_core::{Result, io};
use std::path::Path;

fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus folder");
    std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("corpus file");
}

/// A model file and its sealed form.
fn model<T: Persist>(target: &str, name: &str, model: &T) -> Result<()> {
    let bytes = model.to_bytes()?;
    let sealed = oximl_fuzz::sealed::unseal(&io::from_bytes(&bytes, T::KIND)?).expect("small tensors");
    write(target, &format!("{name}-sealed"), sealed);
    write(target, name, bytes);
    Ok(())
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("serializable")
}

fn nn() -> Result<()> {
    let compiled = [
        Compiled {
            optimizer: Optimizer::adam(0.01),
            loss: Loss::SparseCategoricalCrossentropy { from_logits: false },
            metrics: vec![Metric::Accuracy],
            weighted_metrics: vec![],
        },
        Compiled {
            optimizer: Optimizer::sgd(0.1).momentum(0.9).nesterov(true).clipnorm(1.0),
            loss: Loss::MeanSquaredError,
            metrics: vec![],
            weighted_metrics: vec![],
        },
        Compiled {
            optimizer: Optimizer::rmsprop(0.001),
            loss: Loss::Huber { delta: 0.5 },
            metrics: vec![Metric::Accuracy],
            weighted_metrics: vec![],
        },
        Compiled {
            optimizer: Optimizer::adamw(0.01, 0.1).amsgrad(true),
            loss: Loss::CategoricalCrossentropy { from_logits: true },
            metrics: vec![],
            weighted_metrics: vec![],
        },
        Compiled {
            optimizer: Optimizer::adam(0.01),
            loss: Loss::BinaryCrossentropy { from_logits: true },
            metrics: vec![],
            weighted_metrics: vec![],
        },
    ];
    for (i, c) in compiled.iter().enumerate() {
        write("compile_json", &format!("{i}"), json(c));
    }
    write(
        "compile_json",
        "empty-metrics-unknown-loss",
        r#"{"optimizer":{"name":"sgd","learning_rate":0.1},"loss":{"name":"nope"},"metrics":[]}"#,
    );

    let layers = [
        Layer::from(Dense::new(3).activation(Activation::Relu)),
        Layer::from(
            Dense::new(2)
                .activation(Activation::LeakyRelu { alpha: 0.1 })
                .kernel_initializer(Initializer::from_name("he_normal").expect("an initializer"))
                .kernel_regularizer(Regularizer::l1_l2(0.01, 0.02))
                .bias_regularizer(Regularizer::l2(0.1)),
        ),
        Layer::from(Dense::new(5).activation(Activation::Softmax)),
        Layer::Dropout { rate: 0.5 },
    ];
    for (i, l) in layers.iter().enumerate() {
        write("layer_json", &format!("{i}"), json(l));
    }
    write("layer_json", "zero-units", r#"{"type":"dense","units":0}"#);
    write("layer_json", "dropout-one", r#"{"type":"dropout","rate":1.0}"#);

    let mut m = Sequential::with_seed(3, 1);
    m.add(Dense::new(4).activation(Activation::Tanh))?.add(Layer::Dropout { rate: 0.2 })?.add(Dense::new(2))?;
    let c = &compiled[0];
    m.compile(c.optimizer.clone(), c.loss, &c.metrics)?;
    let x = array![[0.0f32, 1.0, 2.0], [1.0, 0.0, -1.0], [0.5, 0.5, 0.5]];
    m.fit(x.view(), array![[0.0f32], [1.0], [0.0]].view(), FitOptions { epochs: 2, ..Default::default() })?;
    model("sequential_bytes", "trained", &m)?;
    let mut plain = Sequential::new(2);
    plain.add(Dense::new(1).use_bias(false))?;
    model("sequential_bytes", "plain", &plain)?;
    // ONNX graphs load through the same `from_bytes` (recognized by content).
    write("sequential_bytes", "onnx-trained", m.to_onnx());
    write("sequential_bytes", "onnx-plain", plain.to_onnx());
    write("sequential_bytes", "empty", b"");

    // fit_options: inputs, units, rows, loss, raw targets, epochs, batch size (8 bytes), shuffle, seed (8), split (4).
    let mut fit = vec![3, 2, 10, 1, 0, 2, 4, 0, 0, 0, 0, 0, 0, 0, 1, 7, 0, 0, 0, 0, 0, 0, 0];
    fit.extend(0.2f32.to_le_bytes());
    fit.extend((0..40).flat_map(|i| (i as f32 / 10.0).to_le_bytes()));
    write("fit_options", "classes", &fit);
    write("fit_options", "regression-raw", [1, 0, 5, 0, 1, 1, 255, 255, 255, 255, 255, 255, 255, 255, 0]);
    write("fit_options", "binary", [2, 0, 6, 2, 0, 3, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
    Ok(())
}

fn recommenders() -> Result<()> {
    let triplets = [("u1", "a", 5.0), ("u1", "b", 3.0), ("u2", "a", 4.0), ("u2", "c", 1.0), ("u3", "b", 2.0)];
    let r = Ratings::from_triplets(triplets, Default::default())?;
    let algorithms = [
        Algorithm::FunkSvd(FunkSvd { factors: 3, epochs: 5, blocks: 2, ..Default::default() }),
        Algorithm::Als(Als { factors: 2, iterations: 3, ..Default::default() }),
        Algorithm::ImplicitAls(ImplicitAls { factors: 2, iterations: 2, cg_steps: 2, ..Default::default() }),
    ];
    for (i, a) in algorithms.iter().enumerate() {
        write("mf_algorithm_json", &format!("{i}"), json(a));
        let m = match a {
            Algorithm::FunkSvd(a) => a.fit(&r)?,
            Algorithm::Als(a) => a.fit(&r)?,
            Algorithm::ImplicitAls(a) => a.fit(&r)?,
        };
        model("mf_model_bytes", &format!("{i}"), &m)?;
    }
    write("mf_algorithm_json", "defaults", r#"{"algorithm":"als"}"#);

    let bodies: [(u8, &str, &str); 5] = [
        (0, "csv", "user,item,rating,timestamp\n1,10,4.5,881250949\n2,10,3,881250950\n1,20,1,881250951\n"),
        (1, "tsv", "u1\ti1\t5\nu2\ti1\t2\n\nu2\ti2\t3\n"),
        (2, "ml100k", "196\t242\t3\t881250949\r\n186\t302\t3\t891717742\r\n196\t302\t9\t1\n"),
        (3, "ml1m", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::bad::1\n"),
        (4, "quoted", "userId,movieId,rating,timestamp\n1,\"Heat, 1995\",4.0,964982703\n\"2\",\"3\",5,1\n"),
    ];
    for (pick, name, body) in bodies {
        write("ratings_csv", name, [&[pick][..], body.as_bytes()].concat());
        write("ratings_csv", &format!("{name}-skip-invalid"), [&[pick | 16][..], body.as_bytes()].concat());
    }
    let mut options = mf::Preset::Csv.options();
    options.columns = (1, 0, 2, None);
    options.ratings.scale = Some((1.0, 5.0));
    write("ratings_csv_options", "swapped", format!("{}\n{}", json(&options), bodies[0].2));
    write("ratings_csv_options", "ml1m", format!("{}\n{}", json(&mf::Preset::Movielens1m.options()), bodies[3].2));
    Ok(())
}

fn embeddings() -> Result<()> {
    let words = ["king", "queen", "apple", "Über"].map(String::from).to_vec();
    let kv =
        KeyedVectors::new(words, array![[1.0f32, 2.0, 0.5], [1.5, 2.0, 0.0], [-3.0, 0.25, 1e-8], [0.0, 0.0, 1.0]])?;
    let formats = [
        ("embed_word2vec_text", VectorFormat::Word2VecText),
        ("embed_word2vec_binary", VectorFormat::Word2VecBinary),
        ("embed_glove", VectorFormat::Glove),
        ("embed_fasttext", VectorFormat::FastText),
    ];
    let path = std::env::temp_dir().join(format!("oximl-fuzz-seeds-{}", std::process::id()));
    for (target, format) in formats {
        kv.save_as(&path, format)?;
        let bytes = std::fs::read(&path).expect("saved file");
        write(target, "four", &bytes);
        write(target, "truncated", &bytes[..bytes.len() * 2 / 3]);
        if target != "embed_glove" {
            let options = LoadOptions::default().format(format).limit(2);
            write("embed_load_options", target, [json(&options).as_bytes(), b"\n", &bytes].concat());
        }
    }
    std::fs::remove_file(&path).expect("temporary file");
    write("embed_word2vec_text", "header-mismatch", "3 2\na 1 2\nb 3\n");
    write("embed_glove", "ragged", "a 1 2\nb 3\n");
    write("embed_fasttext", "crlf", "2 2\r\nx 1 2\r\ny 3 4\r\n");
    let bytes = kv.to_bytes()?;
    write(
        "embed_oximl",
        "four-sealed",
        oximl_fuzz::sealed::unseal(&io::from_bytes(&bytes, "embeddings")?).expect("small"),
    );
    write("embed_oximl", "four", &bytes);
    write("embed_load_options", "auto", [b"{}\n", &bytes[..]].concat());
    // A fastText model written by gensim (tests/fixtures/embed/make_fixtures.py).
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/embed/tiny.bin");
    let model = std::fs::read(model).expect("the fixture tests/fixtures/embed/tiny.bin");
    write("embed_fasttext_bin", "tiny", &model);
    write("embed_fasttext_bin", "truncated", &model[..model.len() / 2]);
    let options = LoadOptions::default().unicode_errors(UnicodeErrors::Replace).limit(5);
    write("embed_load_options", "fasttext-bin", [json(&options).as_bytes(), b"\n", &model].concat());
    write("embed_load_options", "replace", [json(&options).as_bytes(), b"\n", b"2 1\na\xff 1\nb 2\n"].concat());
    Ok(())
}

fn scalers() -> Result<()> {
    let x = array![[1.0f32, -2.0, 0.5], [3.0, 2.0, 0.5], [5.0, 0.0, 0.5]];
    let mut standard = StandardScaler::new();
    standard.fit(&x)?;
    write("standard_scaler", "fitted", standard.to_bytes()?);
    write("standard_scaler", "unfitted-no-mean", StandardScaler::new().with_mean(false).to_bytes()?);
    write("standard_scaler", "wrong-kind", MinMaxScaler::new().to_bytes()?);
    let mut minmax = MinMaxScaler::with_range(-1.0, 1.0)?.clip(true);
    minmax.fit(&x)?;
    write("minmax_scaler", "fitted", minmax.to_bytes()?);
    write("minmax_scaler", "unfitted", MinMaxScaler::new().to_bytes()?);
    write("minmax_scaler", "not-json", "\u{feff}{\"format\"");
    Ok(())
}

fn data_csv() {
    // flags (header, comment, missing markers, drop, target, features), target column, delimiter, comment byte.
    let seeds: [(&str, [u8; 4], &str); 5] = [
        ("header-target-last", [1 | 32, 0, b',', b'#'], "a,b,y\n1,2,0\n3,4,1\n"),
        ("detect-target-name", [16 | 96, 0, b';', 0], "x;label\n1.5;?\n2.5;1\n"),
        ("no-header-index-drop", [2 | 4 | 64, 1, b'\t', 0], "1\t2\t3\n\t5\t6\n7\t8\t9\n"),
        ("comment-features", [1 | 8 | 128 | 32, 2, b',', b'%'], "% note\nc0,c1,c2\n1,2,3\n% x\n4,5,6\n"),
        ("quoted", [1, 0, b',', 0], "\"a,1\",b\n\"1\",\"2\"\n"),
    ];
    for (name, options, body) in seeds {
        write("data_csv", name, [&options[..], body.as_bytes()].concat());
    }
}

fn main() -> Result<()> {
    nn()?;
    recommenders()?;
    embeddings()?;
    scalers()?;
    data_csv();
    println!("seeds written to fuzz/corpus/");
    Ok(())
}
