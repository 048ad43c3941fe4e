//! [`RatingsBuilder`] and the options it validates with ([`RatingsOptions`], [`Duplicates`]).

use super::{IdMap, Ratings};
use crate::{Error, Result};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What to do when the same (user, item) pair is rated more than once.
///
/// ```
/// use oximl_core::mf::{Duplicates, Ratings, RatingsOptions};
/// let t = [("u", "i", 2.0), ("u", "i", 4.0)];
/// let opts = RatingsOptions { duplicates: Duplicates::Mean, ..Default::default() };
/// assert_eq!(Ratings::from_triplets(t, opts).unwrap().values(), [3.0]);
/// assert_eq!(Ratings::from_triplets(t, Default::default()).unwrap().values(), [4.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duplicates {
    /// The last rating replaces the earlier ones (and its timestamp theirs): `"last_wins"` (alias `"last"`).
    #[default]
    #[serde(alias = "last")]
    LastWins,
    /// The mean of the ratings (with the latest timestamp).
    Mean,
}

/// How ratings are validated and combined.
///
/// ```
/// use oximl_core::mf::{Ratings, RatingsOptions};
/// let opts = RatingsOptions { scale: Some((1.0, 5.0)), ..Default::default() };
/// assert!(Ratings::from_triplets([("u", "i", 6.0)], opts).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RatingsOptions {
    /// The declared rating scale `(min, max)`: ratings outside are refused and predictions are clipped to it.
    /// `None`: the smallest and largest rating seen.
    pub scale: Option<(f32, f32)>,
    /// The duplicates policy.
    pub duplicates: Duplicates,
}

impl RatingsOptions {
    fn check(&self) -> Result<()> {
        if let Some((lo, hi)) = self.scale
            && !(lo.is_finite() && hi.is_finite() && lo <= hi)
        {
            return Err(Error::invalid("scale", format!("({lo}, {hi}) is not a finite range with min <= max")));
        }
        Ok(())
    }
}

/// Collects ratings one at a time, validating each, then builds [`Ratings`].
///
/// ```
/// use oximl_core::mf::RatingsBuilder;
/// let mut b = RatingsBuilder::new(Default::default()).unwrap();
/// b.push_at("u1", "i1", 4.0, 100).unwrap();
/// b.push_at("u1", "i2", 3.0, 200).unwrap();
/// let r = b.build().unwrap();
/// assert_eq!(r.timestamps(), Some(&[100i64, 200][..]));
/// ```
#[derive(Debug)]
pub struct RatingsBuilder {
    options: RatingsOptions,
    users: IdMap,
    items: IdMap,
    user: Vec<u32>,
    item: Vec<u32>,
    value: Vec<f32>,
    time: Vec<Option<i64>>,
}

impl RatingsBuilder {
    /// An empty builder (the options are checked here).
    ///
    /// ```
    /// use oximl_core::mf::{RatingsBuilder, RatingsOptions};
    /// assert!(RatingsBuilder::new(RatingsOptions { scale: Some((5.0, 1.0)), ..Default::default() }).is_err());
    /// ```
    pub fn new(options: RatingsOptions) -> Result<RatingsBuilder> {
        options.check()?;
        Ok(RatingsBuilder {
            options,
            users: IdMap::default(),
            items: IdMap::default(),
            user: Vec::new(),
            item: Vec::new(),
            value: Vec::new(),
            time: Vec::new(),
        })
    }

    fn check_value(&self, rating: f32) -> Result<()> {
        if !rating.is_finite() {
            return Err(Error::NonFinite(format!("rating {rating}")));
        }
        if let Some((lo, hi)) = self.options.scale
            && !(lo..=hi).contains(&rating)
        {
            return Err(Error::invalid("rating", format!("{rating} is outside the declared scale [{lo}, {hi}]")));
        }
        Ok(())
    }

    /// Adds one rating without a timestamp.
    ///
    /// ```
    /// let mut b = oximl_core::mf::RatingsBuilder::new(Default::default()).unwrap();
    /// assert!(b.push("u", "i", f32::NAN).is_err());
    /// ```
    pub fn push(&mut self, user: impl ToString, item: impl ToString, rating: f32) -> Result<()> {
        self.add(user.to_string(), item.to_string(), rating, None)
    }

    /// Adds one rating with a timestamp (for [`crate::mf::split::leave_last_k`]).
    ///
    /// ```
    /// let mut b = oximl_core::mf::RatingsBuilder::new(Default::default()).unwrap();
    /// b.push_at(7, 8, 1.0, 1_000_000).unwrap();
    /// ```
    pub fn push_at(&mut self, user: impl ToString, item: impl ToString, rating: f32, timestamp: i64) -> Result<()> {
        self.add(user.to_string(), item.to_string(), rating, Some(timestamp))
    }

    fn add(&mut self, user: String, item: String, rating: f32, time: Option<i64>) -> Result<()> {
        self.check_value(rating)?;
        let u = self.users.insert(user)?;
        let i = self.items.insert(item)?;
        self.user.push(u);
        self.item.push(i);
        self.value.push(rating);
        self.time.push(time);
        Ok(())
    }

    /// Number of ratings pushed so far (duplicates included).
    ///
    /// ```
    /// assert_eq!(oximl_core::mf::RatingsBuilder::new(Default::default()).unwrap().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether nothing was pushed.
    ///
    /// ```
    /// assert!(oximl_core::mf::RatingsBuilder::new(Default::default()).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Applies the duplicates policy and builds the ratings; refuses an empty set and a mix of ratings with and
    /// without timestamps.
    ///
    /// ```
    /// let b = oximl_core::mf::RatingsBuilder::new(Default::default()).unwrap();
    /// assert_eq!(b.build().unwrap_err().code(), 1); // no ratings
    /// ```
    pub fn build(self) -> Result<Ratings> {
        if self.value.is_empty() {
            return Err(Error::invalid("ratings", "no ratings"));
        }
        let timed = self.time.iter().filter(|t| t.is_some()).count();
        if timed != 0 && timed != self.time.len() {
            return Err(Error::invalid("timestamps", "some ratings have a timestamp and others do not"));
        }
        // Deduplicate, keeping the position of the first occurrence.
        let mut first: FxHashMap<(u32, u32), usize> =
            FxHashMap::with_capacity_and_hasher(self.value.len(), Default::default());
        let (mut user, mut item, mut value, mut time, mut count) = (vec![], vec![], vec![], vec![], vec![]);
        for k in 0..self.value.len() {
            let key = (self.user[k], self.item[k]);
            let t = self.time[k].unwrap_or(0);
            match first.get(&key) {
                Some(&p) => {
                    match self.options.duplicates {
                        Duplicates::LastWins => {
                            value[p] = f64::from(self.value[k]);
                            time[p] = t;
                        }
                        Duplicates::Mean => {
                            value[p] += f64::from(self.value[k]);
                            time[p] = time[p].max(t);
                        }
                    }
                    count[p] += 1u32;
                }
                None => {
                    first.insert(key, value.len());
                    user.push(key.0);
                    item.push(key.1);
                    value.push(f64::from(self.value[k]));
                    time.push(t);
                    count.push(1);
                }
            }
        }
        let value: Vec<f32> = match self.options.duplicates {
            Duplicates::LastWins => value.iter().map(|&v| v as f32).collect(),
            Duplicates::Mean => value.iter().zip(&count).map(|(&v, &c)| (v / f64::from(c)) as f32).collect(),
        };
        let scale = self.options.scale.unwrap_or_else(|| {
            let lo = value.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = value.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            (lo, hi)
        });
        let time = (timed != 0).then_some(time);
        Ok(Ratings::from_parts(Arc::new(self.users), Arc::new(self.items), user, item, value, time, scale))
    }
}
