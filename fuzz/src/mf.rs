//! Targets of the recommenders: the model file, the algorithm's JSON config (then a fit), and ratings CSV parsing
//! with preset or JSON options.

use crate::{config_and_data, models, round_trip, too_slow};
use oximl_core::mf::{Algorithm, FunkSvd, MfModel, Preset, Ratings, RatingsCsvOptions};

/// Predicts for known and unknown ids and recommends: errors are fine, panics are not.
fn exercise(model: &MfModel) {
    let user = model.users().id(0).unwrap_or("nobody").to_string();
    let item = model.items().id(0).unwrap_or("nothing").to_string();
    let _ = model.predict(&user, &item);
    let _ = model.predict("nobody", "nothing");
    let _ = model.recommend(&user, 3, true);
    let _ = model.recommend(&user, model.items().len(), false);
}

/// `MfModel::from_bytes` (a model file, or its sealed form); a loaded model predicts, recommends and round-trips.
pub fn mf_model_bytes(data: &[u8]) {
    for model in models::<MfModel>(data) {
        round_trip(&model);
        exercise(&model);
    }
}

/// The ratings every algorithm config is fitted on: 5 users, 4 items, 12 ratings in [1, 5].
fn sample_ratings() -> Ratings {
    let triplets = (0..12u32).map(|k| (k % 5, (k * 3) % 4, 1.0 + (k % 5) as f32));
    Ratings::from_triplets(triplets, Default::default()).expect("valid ratings")
}

/// `mf::Algorithm` from JSON (`{"algorithm": "als", "factors": 4, ...}`), fitted on [`sample_ratings`]; the
/// model predicts, recommends and round-trips.
pub fn mf_algorithm_json(data: &[u8]) {
    let Ok(algorithm) = serde_json::from_slice::<Algorithm>(data) else { return };
    let ratings = sample_ratings();
    let (rows, nnz) = ((ratings.users().len() + ratings.items().len()) as u128, ratings.len() as u128);
    let (elements, work) = match &algorithm {
        Algorithm::FunkSvd(a) => {
            let k = a.factors as u128;
            (k * rows, (a.epochs as u128).saturating_mul(nnz * k))
        }
        Algorithm::Als(a) => {
            let k = a.factors as u128;
            let solves = rows.saturating_mul(k.saturating_pow(3)).saturating_add(nnz * k * k);
            (k * rows + k * k, (a.iterations as u128).saturating_mul(solves))
        }
        Algorithm::ImplicitAls(a) => {
            let (k, steps) = (a.factors as u128, a.cg_steps as u128 + 1);
            let solves = steps.saturating_mul(rows * k * k).saturating_add(k.saturating_pow(3));
            (k * rows + k * k, (a.iterations as u128).saturating_mul(solves))
        }
    };
    if too_slow(elements, work) {
        return;
    }
    let fitted = match algorithm {
        Algorithm::FunkSvd(a) => a.fit(&ratings),
        Algorithm::Als(a) => a.fit(&ratings),
        Algorithm::ImplicitAls(a) => a.fit(&ratings),
    };
    if let Ok(model) = fitted {
        exercise(&model);
        round_trip(&model);
    }
}

/// Parses ratings and, if any, fits a small FunkSVD on them (which checks the id maps and the scale).
fn parse(body: &[u8], options: &RatingsCsvOptions) {
    if let Ok(ratings) = Ratings::parse_csv(body, options)
        && let Ok(model) = (FunkSvd { factors: 2, epochs: 1, ..Default::default() }).fit(&ratings)
    {
        exercise(&model);
    }
}

/// `Ratings::parse_csv` with a preset picked by the first byte (csv, tsv, MovieLens 100k/1M/CSV; bit 3 flips
/// `header`, bit 4 `skip_invalid`), on the rest of the input.
pub fn ratings_csv(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else { return };
    let mut options = match pick % 5 {
        0 => Preset::Csv.options(),
        1 => Preset::Tsv.options(),
        2 => Preset::Movielens100k.options(),
        3 => Preset::Movielens1m.options(),
        _ => Preset::MovielensCsv.options(),
    };
    options.header ^= pick & 8 != 0;
    options.skip_invalid ^= pick & 16 != 0;
    parse(body, &options);
}

/// `mf::RatingsCsvOptions::from_json` (what C and Python call) on the first line, applied to the rest of the input.
pub fn ratings_csv_options(data: &[u8]) {
    let (config, body) = config_and_data(data);
    if let Ok(value) = serde_json::from_slice(config)
        && let Ok(options) = RatingsCsvOptions::from_json(value)
    {
        parse(body, &options);
    }
}
