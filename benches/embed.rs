//! Sentence embedding throughput: 100,000 words × 300 dimensions and 100,000 texts of 5–30 tokens, generated
//! from a fixed seed; texts per second at 1 and 2 threads (criterion reports them as elements/s).
//!
//! `cargo bench --bench embed`; `benches/compare/embed.py` runs the same workload against numpy and gensim.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use ndarray_rand::RandomExt;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::{Rng, SeedableRng};
use ndarray_rand::rand_distr::Normal;
use oximl::embed::{Embedder, KeyedVectors};
use std::hint::black_box;
use std::time::Duration;

const WORDS: usize = 100_000;
const DIM: usize = 300;
const TEXTS: usize = 100_000;
const SEED: u64 = 42;

fn data() -> (KeyedVectors, Vec<String>) {
    let mut rng = StdRng::seed_from_u64(SEED);
    let v = Array2::random_using((WORDS, DIM), Normal::new(0.0f32, 1.0).expect("valid normal"), &mut rng);
    let words = (0..WORDS).map(|i| format!("w{i}")).collect();
    let kv = KeyedVectors::new(words, v).expect("valid table");
    let texts = (0..TEXTS)
        .map(|_| {
            let n = rng.random_range(5..=30);
            (0..n).map(|_| format!("w{}", rng.random_range(0..WORDS))).collect::<Vec<_>>().join(" ")
        })
        .collect();
    (kv, texts)
}

fn bench(c: &mut Criterion) {
    let (kv, texts) = data();
    let embedder = Embedder::new(&kv);
    let mut group = c.benchmark_group("embed_batch");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(TEXTS as u64));
    for threads in [1, 2] {
        oximl::set_num_threads(threads).expect("thread count");
        group.bench_function(format!("{TEXTS} texts, {threads} thread(s)"), |b| {
            b.iter(|| black_box(embedder.embed_batch(black_box(&texts)).expect("embeds")))
        });
    }
    group.finish();
    let queries = kv.vectors().slice(ndarray::s![..256, ..]).to_owned();
    let mut group = c.benchmark_group("most_similar_batch");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(256));
    let _ = kv.normalized();
    for threads in [1, 2] {
        oximl::set_num_threads(threads).expect("thread count");
        group.bench_function(format!("256 queries, k=10, {threads} thread(s)"), |b| {
            b.iter(|| black_box(kv.most_similar_batch(queries.view(), 10, &[]).expect("queries")))
        });
    }
    group.finish();
    oximl::set_num_threads(0).expect("thread count");
}

criterion_group!(benches, bench);
criterion_main!(benches);
