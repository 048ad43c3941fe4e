//! [`Ratings`]: (user, item, rating[, timestamp]) triplets whose external ids (any strings; integers are written
//! as their decimal text) are mapped to dense indices `0..n` in order of first appearance, with a CSR view per
//! user and per item. Built from triplets ([`Ratings::from_triplets`], [`RatingsBuilder`]) or read from
//! CSV/TSV ([`Ratings::read_csv`], [`RatingsCsvOptions`], with the MovieLens layouts as [`Preset`]s).
//!
//! Refused: no ratings, NaN or infinite ratings ([`crate::Error::NonFinite`]), ratings outside the declared
//! scale ([`crate::Error::InvalidArgument`] `rating`), malformed lines ([`crate::Error::Format`] with the line
//! number, or skipped and counted with [`RatingsCsvOptions::skip_invalid`]).

mod builder;
mod csr;
mod csv;
mod ids;

pub use builder::{Duplicates, RatingsBuilder, RatingsOptions};
pub use csr::Csr;
pub use csv::{MAX_LINE, Preset, RatingsCsvOptions};
pub use ids::IdMap;

use crate::Result;
use std::sync::Arc;

/// A set of ratings with its id maps and CSR views. Subsets made by [`crate::mf::split`] share the id maps of
/// the set they come from, so a model trained on one part can be evaluated on another.
///
/// ```
/// use oximl_core::mf::Ratings;
/// let r = Ratings::from_triplets([(1, 10, 5.0), (2, 10, 3.0), (1, 20, 1.0)], Default::default()).unwrap();
/// assert_eq!((r.len(), r.users().len(), r.items().len()), (3, 2, 2));
/// assert_eq!(r.scale(), (1.0, 5.0));
/// assert_eq!(r.items().id(1), Some("20"));
/// ```
#[derive(Debug, Clone)]
pub struct Ratings {
    users: Arc<IdMap>,
    items: Arc<IdMap>,
    user: Vec<u32>,
    item: Vec<u32>,
    value: Vec<f32>,
    time: Option<Vec<i64>>,
    scale: (f32, f32),
    by_user: Csr,
    by_item: Csr,
    skipped: usize,
}

impl Ratings {
    pub(crate) fn from_parts(
        users: Arc<IdMap>,
        items: Arc<IdMap>,
        user: Vec<u32>,
        item: Vec<u32>,
        value: Vec<f32>,
        time: Option<Vec<i64>>,
        scale: (f32, f32),
    ) -> Ratings {
        let by_user = Csr::build(users.len(), &user, &item, &value);
        let by_item = Csr::build(items.len(), &item, &user, &value);
        Ratings { users, items, user, item, value, time, scale, by_user, by_item, skipped: 0 }
    }

    /// The ratings at positions `keep` (in that order), sharing this set's id maps and scale.
    pub(crate) fn subset(&self, keep: &[usize]) -> Ratings {
        let pick_u32 = |v: &[u32]| keep.iter().map(|&k| v[k]).collect::<Vec<_>>();
        Ratings::from_parts(
            Arc::clone(&self.users),
            Arc::clone(&self.items),
            pick_u32(&self.user),
            pick_u32(&self.item),
            keep.iter().map(|&k| self.value[k]).collect(),
            self.time.as_ref().map(|t| keep.iter().map(|&k| t[k]).collect()),
            self.scale,
        )
    }

    /// Ratings from `(user, item, rating)` triplets; ids may be strings or integers.
    ///
    /// ```
    /// use oximl_core::mf::Ratings;
    /// assert!(Ratings::from_triplets(Vec::<(u32, u32, f32)>::new(), Default::default()).is_err());
    /// ```
    pub fn from_triplets<U: ToString, I: ToString>(
        triplets: impl IntoIterator<Item = (U, I, f32)>,
        options: RatingsOptions,
    ) -> Result<Ratings> {
        let mut b = RatingsBuilder::new(options)?;
        for (u, i, r) in triplets {
            b.push(u, i, r)?;
        }
        b.build()
    }

    /// Number of ratings (after deduplication).
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.0)], Default::default()).unwrap();
    /// assert_eq!(r.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Always false: an empty set is refused when built (kept for the `len`/`is_empty` convention).
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.0)], Default::default()).unwrap();
    /// assert!(!r.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Lines skipped by [`RatingsCsvOptions::skip_invalid`] when this set was read.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.0)], Default::default()).unwrap();
    /// assert_eq!(r.skipped(), 0);
    /// ```
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The user ids.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.0)], Default::default()).unwrap();
    /// assert_eq!(r.users().ids(), ["u"]);
    /// ```
    pub fn users(&self) -> &IdMap {
        &self.users
    }

    /// The item ids.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.0)], Default::default()).unwrap();
    /// assert_eq!(r.items().ids(), ["i"]);
    /// ```
    pub fn items(&self) -> &IdMap {
        &self.items
    }

    pub(crate) fn user_map(&self) -> &Arc<IdMap> {
        &self.users
    }

    pub(crate) fn item_map(&self) -> &Arc<IdMap> {
        &self.items
    }

    /// The rating scale `(min, max)`: declared, or the observed range.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 2.0), ("v", "i", 3.0)], Default::default());
    /// assert_eq!(r.unwrap().scale(), (2.0, 3.0));
    /// ```
    pub fn scale(&self) -> (f32, f32) {
        self.scale
    }

    /// User index of each rating.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.0), ("v", "i", 1.0)], Default::default());
    /// assert_eq!(r.unwrap().user_indices(), [0, 1]);
    /// ```
    pub fn user_indices(&self) -> &[u32] {
        &self.user
    }

    /// Item index of each rating.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.0), ("u", "j", 1.0)], Default::default());
    /// assert_eq!(r.unwrap().item_indices(), [0, 1]);
    /// ```
    pub fn item_indices(&self) -> &[u32] {
        &self.item
    }

    /// Rating values.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.5)], Default::default());
    /// assert_eq!(r.unwrap().values(), [1.5]);
    /// ```
    pub fn values(&self) -> &[f32] {
        &self.value
    }

    /// Timestamps, if every rating has one.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.5)], Default::default());
    /// assert_eq!(r.unwrap().timestamps(), None);
    /// ```
    pub fn timestamps(&self) -> Option<&[i64]> {
        self.time.as_deref()
    }

    /// The ratings of each user (rows = users, columns = items).
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.5)], Default::default()).unwrap();
    /// assert_eq!(r.by_user().row(0).1, [1.5]);
    /// ```
    pub fn by_user(&self) -> &Csr {
        &self.by_user
    }

    /// The ratings of each item (rows = items, columns = users).
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.5)], Default::default()).unwrap();
    /// assert_eq!(r.by_item().row(0).0, [0]);
    /// ```
    pub fn by_item(&self) -> &Csr {
        &self.by_item
    }

    /// Mean rating.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::from_triplets([("u", "i", 1.0), ("v", "i", 2.0)], Default::default());
    /// assert_eq!(r.unwrap().mean(), 1.5);
    /// ```
    pub fn mean(&self) -> f32 {
        (self.value.iter().map(|&v| f64::from(v)).sum::<f64>() / self.value.len().max(1) as f64) as f32
    }
}
