//! `oximl_ratings` and `oximl_recommender`: matrix-factorization recommenders from C. Ids are UTF-8 strings;
//! options and hyper-parameters travel as JSON with the field names of the Rust types (`CsvOptions`,
//! `RatingsOptions`, `FunkSvd`, `Als`, `ImplicitAls`). Results with ids are written into caller buffers: `ids`
//! receives pointers owned by the model handle (valid until it is freed), `scores` the matching scores.

use super::convert::{CIds, Ranked, boxed, config, merged, object, release, strings, values};
use super::convert::{handle, out_slot, text};
use super::{guard, oximl_status};
use oximl_core::Persist;
use oximl_core::mf::{Algorithm, CsvOptions, MfModel, Ratings, RatingsBuilder, RatingsOptions, metrics, split};
use oximl_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ffi::{CString, c_char};
use std::mem::MaybeUninit;

/// An opaque set of ratings (user id, item id, rating, optional timestamp). Immutable once built: every
/// function taking a `const oximl_ratings *` is safe to call concurrently on one handle.
pub struct oximl_ratings {
    ratings: Ratings,
}
impl super::convert::Handle for oximl_ratings {
    const NAME: &str = "oximl_ratings";
}

/// An opaque trained recommender (`MfModel`). Immutable once created: `predict`, `recommend*`,
/// `similar_items`, `evaluate`, `save` and the accessors are safe to call concurrently on one handle; `free`
/// needs exclusive access and invalidates every id pointer the handle gave out.
pub struct oximl_recommender {
    model: MfModel,
    items: CIds,
}
impl super::convert::Handle for oximl_recommender {
    const NAME: &str = "oximl_recommender";
}

/// Sizes of a ratings set.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct oximl_ratings_info {
    /// Ratings after deduplication.
    pub ratings: usize,
    /// Distinct users.
    pub users: usize,
    /// Distinct items.
    pub items: usize,
    /// Lines skipped by a loader with `skip_invalid`.
    pub skipped: usize,
    /// The rating scale: declared, or the smallest and largest rating seen.
    pub scale_min: f32,
    /// See `scale_min`.
    pub scale_max: f32,
}

/// What a trained recommender is.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct oximl_recommender_info {
    /// Training users.
    pub users: usize,
    /// Training items.
    pub items: usize,
    /// Latent factors per user and item.
    pub factors: usize,
    /// Global mean μ (0 for unbiased and implicit models).
    pub mean: f32,
    /// Predictions of explicit models are clipped to `[scale_min, scale_max]`.
    pub scale_min: f32,
    /// See `scale_min`.
    pub scale_max: f32,
    /// Whether it predicts ratings (`funk_svd`, `als`) rather than implicit preference scores (`implicit_als`).
    pub explicit_ratings: bool,
}

/// Accuracy and top-k quality on a test set (see `oximl_recommender_evaluate`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct oximl_recommender_metrics {
    /// Root mean squared error of the predictions.
    pub rmse: f64,
    /// Mean absolute error of the predictions.
    pub mae: f64,
    /// Mean precision@k.
    pub precision: f64,
    /// Mean recall@k.
    pub recall: f64,
    /// MAP@k.
    pub map: f64,
    /// Mean NDCG@k (binary relevance).
    pub ndcg: f64,
    /// Distinct recommended items / number of items.
    pub coverage: f64,
    /// Users evaluated (known to the model, with at least one relevant test item).
    pub users: usize,
}

fn new_ratings(ratings: Ratings, out: &mut MaybeUninit<*mut oximl_ratings>) {
    boxed(oximl_ratings { ratings }, out);
}

/// Builds ratings from `n` triplets: `users[i]` rated `items[i]` with `ratings[i]` (and `timestamps[i]` when
/// `timestamps` is not NULL). `options_json` may be NULL or `{"scale": [1, 5], "duplicates": "last_wins" |
/// "mean"}` (a declared scale refuses ratings outside it and clips predictions to it). Errors: NULL arrays,
/// `n = 0`, a non-finite or out-of-scale rating, ids that are not UTF-8.
///
/// ```c
/// const char *users[] = {"alice", "alice", "bob"}, *items[] = {"x", "y", "x"};
/// float r[] = {5, 1, 4};
/// oximl_ratings *ratings = NULL;
/// oximl_ratings_new(users, items, r, NULL, 3, "{\"scale\": [1, 5]}", &ratings);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_ratings_new(
    users: *const *const c_char,
    items: *const *const c_char,
    ratings: *const f32,
    timestamps: *const i64,
    n: usize,
    options_json: *const c_char,
    out: *mut *mut oximl_ratings,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let options: RatingsOptions = config("options_json", options_json, Some(&RatingsOptions::default()))?;
        let (u, i, r) = (strings("users", users, n)?, strings("items", items, n)?, values("ratings", ratings, n)?);
        let t = (!timestamps.is_null()).then(|| values("timestamps", timestamps, n)).transpose()?;
        let mut b = RatingsBuilder::new(options)?;
        for k in 0..n {
            match t {
                Some(t) => b.push_at(u[k], i[k], r[k], t[k])?,
                None => b.push(u[k], i[k], r[k])?,
            }
        }
        new_ratings(b.build()?, slot);
        Ok(())
    })
}

/// Reads a delimited ratings file. `options_json` may be NULL (comma-separated `user,item,rating[,timestamp]`
/// with a header) or an object: `"preset"`: `"csv"` (the default), `"tsv"`, `"movielens_100k"` (`u.data`),
/// `"movielens_1m"` (`ratings.dat`, `::`-separated) or `"movielens_csv"` (`ratings.csv`), then any field to
/// change: `"separator"` (string), `"header"` (bool), `"skip_invalid"` (bool: skip and count bad lines instead of
/// failing), `"columns"` (`[user, item, rating, timestamp or null]`, 0-based), `"ratings"` (`{"scale": [1, 5],
/// "duplicates": "mean"}`). Errors: `OXIML_STATUS_IO` (cannot read), `OXIML_STATUS_FORMAT` (a bad line, named).
///
/// ```c
/// oximl_ratings *r = NULL;
/// oximl_ratings_load("ml-100k/u.data", "{\"preset\": \"movielens_100k\"}", &r);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_ratings_load(
    path: *const c_char,
    options_json: *const c_char,
    out: *mut *mut oximl_ratings,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let path = text("path", path)?;
        let mut patch = object("options_json", options_json, true)?;
        let preset = match patch.as_object_mut().and_then(|o| o.remove("preset")) {
            None => CsvOptions::csv(),
            Some(Value::String(p)) => match p.as_str() {
                "csv" => CsvOptions::csv(),
                "tsv" => CsvOptions::tsv(),
                "movielens_100k" => CsvOptions::movielens_100k(),
                "movielens_1m" => CsvOptions::movielens_1m(),
                "movielens_csv" => CsvOptions::movielens_csv(),
                other => return Err(Error::invalid("preset", format!("unknown preset `{other}`"))),
            },
            Some(other) => return Err(Error::invalid("preset", format!("must be a string, got {other}"))),
        };
        let options: CsvOptions = merged("options_json", patch, Some(&preset))?;
        new_ratings(Ratings::read_csv(path, &options)?, slot);
        Ok(())
    })
}

/// How to split ratings into train and test parts.
#[derive(Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
enum Split {
    Random {
        test_fraction: f32,
        #[serde(default)]
        seed: u64,
    },
    PerUserFraction {
        test_fraction: f32,
        #[serde(default)]
        seed: u64,
    },
    LeaveLastK {
        k: usize,
    },
}

/// Splits ratings into two new sets that keep the ids of the whole: `split_json` is `{"method": "random",
/// "test_fraction": 0.2, "seed": 0}`, `{"method": "per_user_fraction", "test_fraction": 0.2, "seed": 0}` (per
/// user, keeping one in training) or `{"method": "leave_last_k", "k": 1}` (each user's latest, by timestamp).
/// Free both with `oximl_ratings_free`.
///
/// ```c
/// oximl_ratings *train = NULL, *test = NULL;
/// oximl_ratings_split(all, "{\"method\": \"random\", \"test_fraction\": 0.2, \"seed\": 1}", &train, &test);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_ratings_split(
    ratings: *const oximl_ratings,
    split_json: *const c_char,
    train: *mut *mut oximl_ratings,
    test: *mut *mut oximl_ratings,
) -> oximl_status {
    guard(|| {
        let (train, test) = (out_slot("train", train)?, out_slot("test", test)?);
        let r = &handle("ratings", ratings)?.ratings;
        let (a, b) = match config::<Split>("split_json", split_json, None)? {
            Split::Random { test_fraction, seed } => split::random(r, test_fraction, seed)?,
            Split::PerUserFraction { test_fraction, seed } => split::per_user_fraction(r, test_fraction, seed)?,
            Split::LeaveLastK { k } => split::leave_last_k(r, k)?,
        };
        new_ratings(a, train);
        new_ratings(b, test);
        Ok(())
    })
}

/// Sizes and scale of a ratings set.
///
/// ```c
/// oximl_ratings_info info; oximl_ratings_get_info(ratings, &info); printf("%zu users\n", info.users);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_ratings_get_info(ratings: *const oximl_ratings, out: *mut oximl_ratings_info) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let r = &handle("ratings", ratings)?.ratings;
        let (scale_min, scale_max) = r.scale();
        slot.write(oximl_ratings_info {
            ratings: r.len(),
            users: r.users().len(),
            items: r.items().len(),
            skipped: r.skipped(),
            scale_min,
            scale_max,
        });
        Ok(())
    })
}

/// Releases ratings; NULL is a no-op.
///
/// ```c
/// oximl_ratings_free(ratings);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_ratings_free(ratings: *mut oximl_ratings) {
    release(ratings)
}

fn new_recommender(model: MfModel, out: &mut MaybeUninit<*mut oximl_recommender>) -> Result<()> {
    let items = CIds::new(model.items().ids())?;
    boxed(oximl_recommender { model, items }, out);
    Ok(())
}

impl oximl_recommender {
    /// The model's ranked `(item id, score)` list as id pointers owned by this handle.
    fn ranked(&self, list: Vec<(String, f32)>) -> impl Iterator<Item = Result<(*const c_char, f32)>> + '_ {
        list.into_iter().map(|(id, s)| Ok((self.items.get(self.model.items().index(&id))?, s)))
    }
}

/// Trains a recommender on `ratings`. `config_json` names the algorithm and any hyper-parameter to change
/// (the others keep their defaults):
/// - `{"algorithm": "funk_svd", "factors": 100, "epochs": 20, "learning_rate": 0.005, "reg_bias": 0.02,
///   "reg_factors": 0.02, "init_std": 0.1, "biased": true, "seed": 0, "blocks": 8}` (biased SGD, as Surprise's SVD);
/// - `{"algorithm": "als", "factors": 10, "iterations": 10, "regularization": 0.05, "biased": true,
///   "init_std": 0.1, "seed": 0}` (explicit ALS);
/// - `{"algorithm": "implicit_als", "factors": 64, "iterations": 15, "regularization": 0.01, "alpha": 1.0,
///   "cg_steps": 3, "init_std": 0.01, "seed": 0}` (implicit feedback, confidence `1 + alpha·r`).
///
/// Results are deterministic for a given seed, whatever the thread count. Free with `oximl_recommender_free`.
///
/// ```c
/// oximl_recommender *model = NULL;
/// oximl_recommender_fit(train, "{\"algorithm\": \"funk_svd\", \"factors\": 16, \"epochs\": 30}", &model);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_fit(
    ratings: *const oximl_ratings,
    config_json: *const c_char,
    out: *mut *mut oximl_recommender,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let r = &handle("ratings", ratings)?.ratings;
        let model = match config::<Algorithm>("config_json", config_json, None)? {
            Algorithm::FunkSvd(a) => a.fit(r)?,
            Algorithm::Als(a) => a.fit(r)?,
            Algorithm::ImplicitAls(a) => a.fit(r)?,
        };
        new_recommender(model, slot)
    })
}

/// The predicted rating of `item` by `user` (clipped to the scale), or the implicit preference score. Unknown
/// ids get the cold-start prediction (`μ + b_i`, `μ + b_u` or `μ`), as in Rust.
///
/// ```c
/// float r = 0; oximl_recommender_predict(model, "alice", "y", &r);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_predict(
    model: *const oximl_recommender,
    user: *const c_char,
    item: *const c_char,
    out: *mut f32,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let m = handle("model", model)?;
        slot.write(m.model.predict(text("user", user)?, text("item", item)?));
        Ok(())
    })
}

/// The `k` items with the highest predicted score for a training user, best first: `ids[j]` (owned by the
/// model handle) and `scores[j]` for `j < *written`. With `exclude_seen` the user's training items are left out,
/// so fewer than `k` may be written. `ids` and `scores` hold `capacity` entries and need `k` (else the status is
/// `OXIML_STATUS_INVALID_ARGUMENT` and `*written = k`). Errors: unknown user, `k = 0` or more than the items.
///
/// ```c
/// const char *ids[10]; float scores[10]; size_t n = 0;
/// oximl_recommender_recommend(model, "alice", 10, true, ids, scores, 10, &n);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_recommender_recommend(
    model: *const oximl_recommender,
    user: *const c_char,
    k: usize,
    exclude_seen: bool,
    ids: *mut *const c_char,
    scores: *mut f32,
    capacity: usize,
    written: *mut usize,
) -> oximl_status {
    guard(|| {
        let m = handle("model", model)?;
        let out = Ranked::new(ids, scores, capacity, k, written)?;
        out.fill(m.ranked(m.model.recommend(text("user", user)?, k, exclude_seen)?))
    })
}

/// `oximl_recommender_recommend` for `n_users` users at once (scored by blocks with a matrix product, in
/// parallel): user `u`'s list is at `ids[u·k ..]`, `scores[u·k ..]`, `counts[u]` entries long. The buffers hold
/// `capacity` entries and need `n_users·k`; `counts` holds `n_users` values. Any unknown user fails the call.
///
/// ```c
/// const char *users[] = {"alice", "bob"}; const char *ids[2 * 5]; float scores[2 * 5]; size_t counts[2];
/// oximl_recommender_recommend_batch(model, users, 2, 5, true, ids, scores, 10, counts);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_recommender_recommend_batch(
    model: *const oximl_recommender,
    users: *const *const c_char,
    n_users: usize,
    k: usize,
    exclude_seen: bool,
    ids: *mut *const c_char,
    scores: *mut f32,
    capacity: usize,
    counts: *mut usize,
) -> oximl_status {
    guard(|| {
        let m = handle("model", model)?;
        let users = strings("users", users, n_users)?;
        if counts.is_null() {
            return Err(Error::invalid("counts", "NULL array"));
        }
        let needed = n_users.checked_mul(k).ok_or_else(|| Error::invalid("k", "n_users × k overflows"))?;
        if ids.is_null() || scores.is_null() || capacity < needed {
            return Err(Error::invalid(
                "ids/scores",
                format!("the buffers hold {capacity} entries, n_users × k = {needed} are needed"),
            ));
        }
        let lists = m.model.recommend_batch(&users, k, exclude_seen)?;
        for (u, list) in lists.into_iter().enumerate() {
            // SAFETY: `u < n_users` counts, and offsets `u·k .. (u + 1)·k <= capacity` (checked above).
            let (ids, scores, count) = unsafe { (ids.add(u * k), scores.add(u * k), counts.add(u)) };
            let out = Ranked::new(ids, scores, k, k, count)?;
            out.fill(m.ranked(list))?;
        }
        Ok(())
    })
}

/// The `k` items most similar to `item` by cosine of their factors (the item itself excluded), written as in
/// `oximl_recommender_recommend`. Errors: unknown item, `k = 0` or `k >=` the number of items.
///
/// ```c
/// const char *ids[5]; float cos[5]; size_t n = 0;
/// oximl_recommender_similar_items(model, "x", 5, ids, cos, 5, &n);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_similar_items(
    model: *const oximl_recommender,
    item: *const c_char,
    k: usize,
    ids: *mut *const c_char,
    scores: *mut f32,
    capacity: usize,
    written: *mut usize,
) -> oximl_status {
    guard(|| {
        let m = handle("model", model)?;
        let out = Ranked::new(ids, scores, capacity, k, written)?;
        out.fill(m.ranked(m.model.similar_items(text("item", item)?, k)?))
    })
}

/// Top-`k` for a user absent from training, from their `n` ratings (`items[i]` rated `ratings[i]`): the user is
/// folded into the model by one least-squares solve against the fixed item factors (no retraining). Unknown
/// items are ignored; none known is an error. Written as in `oximl_recommender_recommend`.
///
/// ```c
/// const char *rated[] = {"x"}; float r[] = {5}; const char *ids[3]; float s[3]; size_t n = 0;
/// oximl_recommender_recommend_new_user(model, rated, r, 1, 3, true, ids, s, 3, &n);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_recommender_recommend_new_user(
    model: *const oximl_recommender,
    items: *const *const c_char,
    ratings: *const f32,
    n: usize,
    k: usize,
    exclude_seen: bool,
    ids: *mut *const c_char,
    scores: *mut f32,
    capacity: usize,
    written: *mut usize,
) -> oximl_status {
    guard(|| {
        let m = handle("model", model)?;
        let out = Ranked::new(ids, scores, capacity, k, written)?;
        let rated: Vec<(&str, f32)> =
            strings("items", items, n)?.into_iter().zip(values("ratings", ratings, n)?.iter().copied()).collect();
        let folded = m.model.fold_in(&rated)?;
        out.fill(m.ranked(m.model.recommend_folded(&folded, k, exclude_seen)?))
    })
}

/// Evaluates on `test` (any ratings; ids are matched by name): RMSE and MAE of the predictions, and for each
/// user known to the model with a test rating `>= threshold` (`-INFINITY`: every test item is relevant), the
/// top-`k` (training items excluded) against those relevant items: precision, recall, MAP, NDCG and coverage.
///
/// ```c
/// oximl_recommender_metrics m; oximl_recommender_evaluate(model, test, 10, 4.0f, &m);
/// printf("RMSE %.3f NDCG@10 %.3f\n", m.rmse, m.ndcg);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_evaluate(
    model: *const oximl_recommender,
    test: *const oximl_ratings,
    k: usize,
    threshold: f32,
    out: *mut oximl_recommender_metrics,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let (m, t) = (&handle("model", model)?.model, &handle("test", test)?.ratings);
        if threshold.is_nan() {
            return Err(Error::NonFinite("threshold is NaN".into()));
        }
        let r = metrics::ranking(m, t, k, threshold)?;
        slot.write(oximl_recommender_metrics {
            rmse: metrics::rmse(m, t)?,
            mae: metrics::mae(m, t)?,
            precision: r.precision,
            recall: r.recall,
            map: r.map,
            ndcg: r.ndcg,
            coverage: r.coverage,
            users: r.users,
        });
        Ok(())
    })
}

/// Sizes, mean and scale of a trained recommender.
///
/// ```c
/// oximl_recommender_info info; oximl_recommender_get_info(model, &info);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_get_info(
    model: *const oximl_recommender,
    out: *mut oximl_recommender_info,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let m = &handle("model", model)?.model;
        let (scale_min, scale_max) = m.scale();
        slot.write(oximl_recommender_info {
            users: m.users().len(),
            items: m.items().len(),
            factors: m.factors(),
            mean: m.mean(),
            scale_min,
            scale_max,
            explicit_ratings: m.algorithm().is_explicit(),
        });
        Ok(())
    })
}

/// The algorithm and all its hyper-parameters as JSON (the schema of `oximl_recommender_fit`); free it with
/// `oximl_string_free`.
///
/// ```c
/// char *json = NULL; oximl_recommender_config(model, &json); puts(json); oximl_string_free(json);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_config(model: *const oximl_recommender, out: *mut *mut c_char) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let json = serde_json::to_string(handle("model", model)?.model.algorithm())
            .map_err(|e| Error::invalid("config", e.to_string()))?;
        slot.write(CString::new(json).map_err(|e| Error::invalid("config", e.to_string()))?.into_raw());
        Ok(())
    })
}

/// The training loss per epoch or sweep into `out` (`capacity` doubles); `*written` receives their number,
/// also when the buffer is NULL or too small (then the status is `OXIML_STATUS_INVALID_ARGUMENT`).
///
/// ```c
/// double loss[100]; size_t n = 0; oximl_recommender_history(model, loss, 100, &n);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_history(
    model: *const oximl_recommender,
    out: *mut f64,
    capacity: usize,
    written: *mut usize,
) -> oximl_status {
    guard(|| {
        let h = handle("model", model)?.model.history();
        let slot = out_slot("written", written)?;
        slot.write(h.len());
        if out.is_null() || capacity < h.len() {
            return Err(Error::invalid("out", format!("the buffer holds {capacity} values, {} are needed", h.len())));
        }
        // SAFETY: `capacity >= h.len()` writable doubles at `out` (checked above), not aliased by `h`.
        unsafe { std::slice::from_raw_parts_mut(out, h.len()) }.copy_from_slice(h);
        Ok(())
    })
}

fn write_factors(f: ndarray::ArrayView1<'_, f32>, out: *mut f32, capacity: usize) -> Result<()> {
    let mut dst = super::convert::output("out", out, capacity, 1, f.len())?;
    dst.row_mut(0).assign(&f);
    Ok(())
}

/// The latent factors of a training user into `out` (`capacity` floats; `oximl_recommender_info.factors` are
/// needed). Unknown user: `OXIML_STATUS_INVALID_ARGUMENT`.
///
/// ```c
/// float p[16]; oximl_recommender_user_factors(model, "alice", p, 16);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_user_factors(
    model: *const oximl_recommender,
    user: *const c_char,
    out: *mut f32,
    capacity: usize,
) -> oximl_status {
    guard(|| write_factors(handle("model", model)?.model.user_factors(text("user", user)?)?, out, capacity))
}

/// The latent factors of a training item, as `oximl_recommender_user_factors`.
///
/// ```c
/// float q[16]; oximl_recommender_item_factors(model, "x", q, 16);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_item_factors(
    model: *const oximl_recommender,
    item: *const c_char,
    out: *mut f32,
    capacity: usize,
) -> oximl_status {
    guard(|| write_factors(handle("model", model)?.model.item_factors(text("item", item)?)?, out, capacity))
}

/// Saves the model (factors, biases, id maps, seen items, hyper-parameters) in the oximl format.
///
/// ```c
/// oximl_recommender_save(model, "recommender.oximl");
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_save(model: *const oximl_recommender, path: *const c_char) -> oximl_status {
    guard(|| handle("model", model)?.model.save(text("path", path)?))
}

/// Loads a model saved from Rust, C or Python; free it with `oximl_recommender_free`. Errors:
/// `OXIML_STATUS_IO`, `OXIML_STATUS_FORMAT` (corrupt, truncated, another kind of model, newer version).
///
/// ```c
/// oximl_recommender *model = NULL;
/// if (oximl_recommender_load("recommender.oximl", &model) != OXIML_STATUS_OK) puts(oximl_last_error());
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_load(path: *const c_char, out: *mut *mut oximl_recommender) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        new_recommender(MfModel::load(text("path", path)?)?, slot)
    })
}

/// Releases a recommender (and the id strings it gave out); NULL is a no-op.
///
/// ```c
/// oximl_recommender_free(model);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_free(model: *mut oximl_recommender) {
    release(model)
}
