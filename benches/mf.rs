//! Recommender training and top-N speed on synthetic MovieLens-100k shapes (943 users × 1,682 items, 100k
//! ratings, rank-10 model): FunkSvd (100 factors, 20 epochs), ImplicitAls (64 factors, 15 iterations) and
//! `recommend_batch` for all users (k = 10), at 1 and 2 threads.
//!
//! `cargo bench --bench mf`; `benches/compare/mf.py` runs the same workload against scikit-surprise and implicit.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use oximl::mf::synthetic::Synthetic;
use oximl::mf::{FunkSvd, ImplicitAls};
use std::hint::black_box;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let data = Synthetic::default().generate().expect("synthetic data");
    let ratings = &data.ratings;
    let sgd = FunkSvd { factors: 100, epochs: 20, learning_rate: 0.005, ..Default::default() };
    let imp = ImplicitAls { factors: 64, iterations: 15, ..Default::default() };
    let mut group = c.benchmark_group("mf_fit");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    for threads in [1, 2] {
        oximl::set_num_threads(threads).expect("thread count");
        group.bench_function(format!("FunkSvd 100k ratings, {threads} thread(s)"), |b| {
            b.iter(|| black_box(sgd.fit(black_box(ratings)).expect("fits")))
        });
        group.bench_function(format!("ImplicitAls 100k ratings, {threads} thread(s)"), |b| {
            b.iter(|| black_box(imp.fit(black_box(ratings)).expect("fits")))
        });
    }
    group.finish();
    let model = sgd.fit(ratings).expect("fits");
    let users: Vec<&str> = model.users().ids().iter().map(String::as_str).collect();
    let mut group = c.benchmark_group("mf_recommend_all");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(users.len() as u64));
    for threads in [1, 2] {
        oximl::set_num_threads(threads).expect("thread count");
        group.bench_function(format!("{} users, k=10, {threads} thread(s)", users.len()), |b| {
            b.iter(|| black_box(model.recommend_batch(black_box(&users), 10, true).expect("recommends")))
        });
    }
    group.finish();
    oximl::set_num_threads(0).expect("thread count");
}

criterion_group!(benches, bench);
criterion_main!(benches);
