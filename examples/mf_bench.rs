//! Runner for `benches/compare/mf.py`: trains on a tab-separated `user item rating` file, evaluates on another,
//! prints one JSON line of timings and RMSE per thread count.
//!
//! `cargo run --release --example mf_bench -- train.tsv test.tsv [threads...]` (`MF_BENCH_SKIP_IMPLICIT=1`: FunkSvd
//! and `recommend_batch` only)

use oximl::mf::{FunkSvd, ImplicitAls, Preset, Ratings, metrics};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(train_path), Some(test_path)) = (args.first(), args.get(1)) else {
        return Err("usage: mf_bench train.tsv test.tsv [threads...]".into());
    };
    let threads: Vec<usize> = args[2..].iter().map(|t| t.parse()).collect::<Result<_, _>>()?;
    let threads = if threads.is_empty() { vec![1, 2] } else { threads };
    let opts = Preset::Tsv.options();
    let all = {
        // Train and test share id maps: read both into one set, then split by line count.
        let train = std::fs::read_to_string(train_path)?;
        let test = std::fs::read_to_string(test_path)?;
        let n_train = train.lines().filter(|l| !l.trim().is_empty()).count();
        (Ratings::parse_csv(format!("{train}{test}").as_bytes(), &opts)?, n_train)
    };
    let (ratings, n_train) = all;
    let idx: Vec<usize> = (0..ratings.len()).collect();
    let (train, test) = oximl::mf::split::by_positions(&ratings, &idx[..n_train], &idx[n_train..])?;
    for &t in &threads {
        oximl::set_num_threads(t)?;
        let sgd = FunkSvd {
            factors: 100,
            epochs: 20,
            learning_rate: 0.005,
            reg_bias: 0.02,
            reg_factors: 0.02,
            ..Default::default()
        };
        let start = Instant::now();
        let model = sgd.fit(&train)?;
        let sgd_s = start.elapsed().as_secs_f64();
        let rmse = metrics::rmse(&model, &test)?;
        let users: Vec<&str> = model.users().ids().iter().map(String::as_str).collect();
        let start = Instant::now();
        let recs = model.recommend_batch(&users, 10, true)?;
        let rec_s = start.elapsed().as_secs_f64();
        if std::env::var_os("MF_BENCH_SKIP_IMPLICIT").is_some() {
            println!(
                "{{\"threads\": {t}, \"funksvd_fit_s\": {sgd_s:.4}, \"funksvd_rmse\": {rmse:.5}, \"recommend_users\": {}, \
                 \"recommend_s\": {rec_s:.4}}}",
                recs.len()
            );
            continue;
        }
        let imp = ImplicitAls { factors: 64, iterations: 15, regularization: 0.01, alpha: 1.0, ..Default::default() };
        let start = Instant::now();
        let imodel = imp.fit(&train)?;
        let imp_s = start.elapsed().as_secs_f64();
        let p10 = metrics::ranking(&imodel, &test, 10, f32::NEG_INFINITY)?.precision;
        println!(
            "{{\"threads\": {t}, \"funksvd_fit_s\": {sgd_s:.4}, \"funksvd_rmse\": {rmse:.5}, \"recommend_users\": {}, \
             \"recommend_s\": {rec_s:.4}, \"implicit_fit_s\": {imp_s:.4}, \"implicit_p10\": {p10:.5}}}",
            recs.len()
        );
    }
    Ok(())
}
