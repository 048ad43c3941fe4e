//! `oximl_recommender`: matrix-factorization recommenders from C, trained on `oximl_ratings`. Ids are UTF-8
//! strings; hyper-parameters travel as JSON with the field names of the Rust types (`FunkSvd`, `Als`,
//! `ImplicitAls`). Results with ids are written into caller buffers: `ids` receives pointers owned by the model
//! handle (valid until it is freed), `scores` the matching scores.

use super::cancel::oximl_cancel;
use super::convert::{CIds, Ranked, boxed, config, handle, out_slot, release, strings, text, values};
use super::ratings::oximl_ratings;
use super::{guard, oximl_status};
use oximl_core::Persist;
use oximl_core::mf::{Algorithm, MfModel, metrics};
use oximl_core::{Error, Result};
use std::ffi::{CString, c_char};
use std::mem::MaybeUninit;

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

fn new_recommender(model: MfModel, out: &mut MaybeUninit<*mut oximl_recommender>) -> Result<()> {
    let items = CIds::new(model.items().ids())?;
    boxed(oximl_recommender { model, items }, out);
    Ok(())
}

impl oximl_recommender {
    /// The model's ranked `(item index, score)` list as id pointers owned by this handle.
    fn ranked(&self, list: Vec<(usize, f32)>) -> impl Iterator<Item = Result<(*const c_char, f32)>> + '_ {
        list.into_iter().map(|(i, s)| Ok((self.items.get(Some(i))?, s)))
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
/// `factors` is at most 4096, `epochs`/`iterations`/`cg_steps` at most 2^20, `blocks` at most 1024. Results are
/// deterministic for a given seed, whatever the thread count. `cancel` (may be NULL) stops the training from
/// another thread: the call then returns `OXIML_STATUS_CANCELLED` within about a second. Free with
/// `oximl_recommender_free`.
///
/// ```c
/// oximl_recommender *model = NULL;
/// oximl_recommender_fit(train, "{\"algorithm\": \"funk_svd\", \"factors\": 16, \"epochs\": 30}", &model, NULL);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_recommender_fit(
    ratings: *const oximl_ratings,
    config_json: *const c_char,
    out: *mut *mut oximl_recommender,
    cancel: *const oximl_cancel,
) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let r = &handle("ratings", ratings)?.ratings;
        let cancel = super::cancel::token(cancel)?;
        let model = config::<Algorithm>("config_json", config_json, None)?.fit_cancellable(r, &cancel)?;
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
