//! The oximl side of `benches/compare/embed.py`: loads the vectors and texts the script wrote, embeds the texts
//! at 1 and 2 threads (best of `repeats` runs each) and prints one JSON line of timings.
//!
//! `cargo run --release --example embed_bench -- vectors.bin texts.txt [repeats]`

use oximl::embed::{Embedder, KeyedVectors, LoadOptions};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(vectors), Some(texts)) = (args.get(1), args.get(2)) else {
        return Err("usage: embed_bench <vectors.bin> <texts.txt> [repeats]".into());
    };
    let repeats: usize = args.get(3).map(|r| r.parse()).transpose()?.unwrap_or(3).max(1);
    let t = Instant::now();
    let kv = KeyedVectors::read(vectors, &LoadOptions::default())?;
    let load_s = t.elapsed().as_secs_f64();
    let texts: Vec<String> = std::fs::read_to_string(texts)?.lines().map(str::to_string).collect();
    let embedder = Embedder::new(&kv);
    let mut best = Vec::new();
    let mut checksum = 0.0f64;
    for threads in [1, 2] {
        oximl::set_num_threads(threads)?;
        let mut b = f64::INFINITY;
        for _ in 0..repeats {
            let t = Instant::now();
            let out = embedder.embed_batch(&texts)?;
            b = b.min(t.elapsed().as_secs_f64());
            checksum = out.vectors.iter().map(|&v| f64::from(v)).sum();
        }
        best.push(b);
    }
    println!(
        "{{\"words\": {}, \"dim\": {}, \"texts\": {}, \"load_s\": {load_s}, \"embed_s_1\": {}, \"embed_s_2\": {}, \"checksum\": {checksum}}}",
        kv.len(),
        kv.dim(),
        texts.len(),
        best[0],
        best[1]
    );
    Ok(())
}
