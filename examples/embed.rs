//! Load a word-vector file, embed a few sentences, print their nearest words.
//!
//! `cargo run --example embed [path/to/vectors]` — without a path, a small word2vec text file with three topics
//! (animals, vehicles, food) is generated in the temporary directory.

use oximl::embed::{Embedder, KeyedVectors, LoadOptions, Query, TokenizeOptions};

/// Writes a tiny word2vec text file: each word is its topic's direction plus a little word-specific noise.
fn generate(path: &std::path::Path) -> std::io::Result<()> {
    let topics: [(&str, [f32; 3]); 3] = [
        ("cat dog horse cow sheep mouse", [1.0, 0.0, 0.0]),
        ("car bus train truck bicycle plane", [0.0, 1.0, 0.0]),
        ("bread cheese apple soup rice cake", [0.0, 0.0, 1.0]),
    ];
    let mut out = String::new();
    let mut n = 0;
    for (t, (words, dir)) in topics.iter().enumerate() {
        for (i, w) in words.split(' ').enumerate() {
            // A deterministic wobble so the words of a topic differ.
            let noise = |k: usize| (((t * 7 + i * 13 + k * 29) % 17) as f32 / 17.0 - 0.5) * 0.4;
            let v: Vec<String> = (0..3).map(|k| format!("{}", dir[k] + noise(k))).collect();
            out.push_str(&format!("{w} {}\n", v.join(" ")));
            n += 1;
        }
    }
    std::fs::write(path, format!("{n} 3\n{out}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = match std::env::args().nth(1) {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let p = std::env::temp_dir().join("oximl-example-vectors.txt");
            generate(&p)?;
            p
        }
    };
    let kv = KeyedVectors::read(&path, &LoadOptions::default())?;
    println!("{} words × {} dimensions from {}", kv.len(), kv.dim(), path.display());
    let embedder = Embedder::new(&kv).lowercase_fallback(true).tokenizer(TokenizeOptions::default().lowercase(true));
    let sentences = ["The cat chased a mouse.", "A bus, a train and a plane!", "Cheese on bread", "Quantum flux"];
    let batch = embedder.embed_batch(&sentences)?;
    for (i, s) in sentences.iter().enumerate() {
        if !batch.found[i] {
            println!("{s:?}: no known word");
            continue;
        }
        let near = kv.most_similar(batch.vectors.row(i), 3, &[])?;
        let near: Vec<String> = near.iter().map(|&(i, s)| format!("{} ({s:.3})", kv.words()[i])).collect();
        println!("{s:?} → {}", near.join(", "));
    }
    let near = kv.most_similar("car", 2, &[])?;
    println!("most similar to `car`: {:?}", near.iter().map(|&(i, s)| (&kv.words()[i], s)).collect::<Vec<_>>());
    // Analogies (gensim's `most_similar(positive, negative)`): bus − car + bread ≈ another food.
    let (positive, negative) = ([Query::Word("bus"), Query::Word("bread")], [Query::Word("car")]);
    let best = kv.most_similar_combined(&positive, &negative, 1, &[])?;
    println!("bus - car + bread ≈ {}", kv.words()[best[0].0]);
    Ok(())
}
