//! Recommenders end to end: generate ratings from a known low-rank model, split them, train FunkSvd and ALS,
//! evaluate RMSE and NDCG@10, recommend for a few users, fold in a new user, save and reload.
//!
//! `cargo run --release --example recommend`

use oximl::Persist;
use oximl::mf::synthetic::Synthetic;
use oximl::mf::{Als, FunkSvd, MfModel, metrics, split};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // MovieLens-100k shapes: 943 users, 1,682 items, 100,000 ratings from a rank-10 model with noise σ = 0.3.
    let data = Synthetic::default().generate()?;
    let (train, test) = split::random(&data.ratings, 0.2, 42)?;
    println!("{} training and {} test ratings, scale {:?}", train.len(), test.len(), train.scale());

    let start = Instant::now();
    let sgd = FunkSvd { factors: 10, epochs: 60, learning_rate: 0.02, ..Default::default() }.fit(&train)?;
    println!("FunkSvd: fit in {:.2?}, test RMSE {:.4}", start.elapsed(), metrics::rmse(&sgd, &test)?);
    let start = Instant::now();
    let als = Als { factors: 10, iterations: 10, regularization: 0.02, ..Default::default() }.fit(&train)?;
    println!("Als:     fit in {:.2?}, test RMSE {:.4}", start.elapsed(), metrics::rmse(&als, &test)?);
    println!("(noise floor: {:.2})", data.noise_std);

    // Ranking quality: items rated ≥ 4 in the test part are the relevant ones.
    let rank = metrics::ranking(&als, &test, 10, 4.0)?;
    println!(
        "Als top-10 over {} users: NDCG {:.3}, precision {:.3}, recall {:.3}, MAP {:.3}, coverage {:.3}",
        rank.users, rank.ndcg, rank.precision, rank.recall, rank.map, rank.coverage
    );

    for user in ["u0", "u1", "u2"] {
        let top: Vec<String> = als.recommend_ids(user, 5, true)?.iter().map(|(i, s)| format!("{i} ({s:.2})")).collect();
        println!("{user}: {}", top.join(", "));
    }
    println!("items like i0: {:?}", als.similar_items_ids("i0", 3)?);

    // A user who was not in training: fold in their ratings, recommend without retraining.
    let newcomer = als.fold_in(&[("i1", 5.0), ("i2", 4.5), ("i3", 1.0)])?;
    println!("newcomer: {:?}", als.recommend_folded_ids(&newcomer, 3, true)?);

    let path = std::env::temp_dir().join("oximl-recommend-example.oximl");
    als.save(&path)?;
    let back = MfModel::load(&path)?;
    assert_eq!(back.recommend("u0", 5, true)?, als.recommend("u0", 5, true)?);
    println!("saved to {} and reloaded: same recommendations", path.display());
    std::fs::remove_file(&path)?;
    Ok(())
}
