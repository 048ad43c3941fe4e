//! `oximl_ratings`: sets of ratings for the recommenders, built from arrays, read from delimited files, split.
//! Options travel as JSON with the field names of the Rust types (`RatingsOptions`, `RatingsCsvOptions`,
//! `split::Split`).

use super::convert::{boxed, config, handle, object, out_slot, release, strings, text, values};
use super::{guard, oximl_status};
use oximl_core::mf::split::Split;
use oximl_core::mf::{Ratings, RatingsBuilder, RatingsCsvOptions, RatingsOptions};
use std::ffi::c_char;
use std::mem::MaybeUninit;

/// An opaque set of ratings (user id, item id, rating, optional timestamp). Immutable once built: every
/// function taking a `const oximl_ratings *` is safe to call concurrently on one handle.
pub struct oximl_ratings {
    pub(crate) ratings: Ratings,
}
impl super::convert::Handle for oximl_ratings {
    const NAME: &str = "oximl_ratings";
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

fn new_ratings(ratings: Ratings, out: &mut MaybeUninit<*mut oximl_ratings>) {
    boxed(oximl_ratings { ratings }, out);
}

/// Builds ratings from `n` triplets: `users[i]` rated `items[i]` with `ratings[i]` (and `timestamps[i]` when
/// `timestamps` is not NULL). `options_json` may be NULL or `{"scale": [1, 5], "duplicates": "last_wins" (alias
/// "last") | "mean"}` (a declared scale refuses ratings outside it and clips predictions to it). Errors: NULL
/// arrays, `n = 0`, a non-finite or out-of-scale rating, ids that are not UTF-8.
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
/// with a header) or an object: `"preset"`: `"csv"` (the default), `"tsv"`, `"movielens_100k"` (`u.data`; alias
/// `"ml-100k"`), `"movielens_1m"` (`ratings.dat`, `::`-separated; `"ml-1m"`) or `"movielens_csv"` (`ratings.csv`;
/// `"ml-latest"`), then any field to change: `"separator"` (string), `"header"` (bool), `"skip_invalid"` (bool:
/// skip and count bad lines instead of failing), `"columns"` (`[user, item, rating, timestamp or null]`,
/// 0-based), `"ratings"` (`{"scale": [1, 5], "duplicates": "mean"}`). With a one-byte separator, quoted fields
/// (`"Heat, 1995"`) are read as CSV; lines are at most 1 MiB. Errors: `OXIML_STATUS_IO` (cannot read),
/// `OXIML_STATUS_FORMAT` (a bad line, named).
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
        let options = RatingsCsvOptions::from_json(object("options_json", options_json, true)?)?;
        new_ratings(Ratings::read_csv(path, &options)?, slot);
        Ok(())
    })
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
        let (a, b) = config::<Split>("split_json", split_json, None)?.apply(r)?;
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
