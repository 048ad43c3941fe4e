//! [`Ratings`]: (user, item, rating[, timestamp]) triplets whose external ids (any strings; integers are written
//! as their decimal text) are mapped to dense indices `0..n` in order of first appearance, with a CSR view per
//! user and per item. Built from triplets ([`Ratings::from_triplets`], [`RatingsBuilder`]) or read from
//! CSV/TSV ([`Ratings::read_csv`], [`CsvOptions`], with the MovieLens layouts as presets).
//!
//! Refused: no ratings, NaN or infinite ratings ([`Error::NonFinite`]), ratings outside the declared scale
//! ([`Error::InvalidArgument`] `rating`), malformed lines ([`Error::Format`] with the line number, or skipped and
//! counted with [`CsvOptions::skip_invalid`]).

use crate::{Error, Result};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

/// External ids ↔ dense indices `0..len`.
///
/// ```
/// use oximl_core::mf::Ratings;
/// let r = Ratings::from_triplets([("alice", "x", 4.0), ("bob", "x", 2.0)], Default::default()).unwrap();
/// assert_eq!(r.users().index("bob"), Some(1));
/// assert_eq!(r.users().id(0), Some("alice"));
/// assert_eq!(r.users().len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdMap {
    ids: Vec<String>,
    index: HashMap<String, u32>,
}

impl IdMap {
    /// A map from ids in index order; duplicates are refused.
    ///
    /// ```
    /// let m = oximl_core::mf::IdMap::from_ids(vec!["a".into(), "b".into()]).unwrap();
    /// assert_eq!(m.index("b"), Some(1));
    /// assert!(oximl_core::mf::IdMap::from_ids(vec!["a".into(), "a".into()]).is_err());
    /// ```
    pub fn from_ids(ids: Vec<String>) -> Result<IdMap> {
        if ids.len() > u32::MAX as usize {
            return Err(Error::invalid("ids", "more than 2^32 - 1 ids"));
        }
        let mut index = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if index.insert(id.clone(), i as u32).is_some() {
                return Err(Error::invalid("ids", format!("duplicate id `{id}`")));
            }
        }
        Ok(IdMap { ids, index })
    }

    /// Number of ids.
    ///
    /// ```
    /// assert_eq!(oximl_core::mf::IdMap::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no ids.
    ///
    /// ```
    /// assert!(oximl_core::mf::IdMap::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The index of `id`, if known.
    ///
    /// ```
    /// let m = oximl_core::mf::IdMap::from_ids(vec!["7".into()]).unwrap();
    /// assert_eq!(m.index("7"), Some(0));
    /// assert_eq!(m.index("8"), None);
    /// ```
    pub fn index(&self, id: &str) -> Option<usize> {
        self.index.get(id).map(|&i| i as usize)
    }

    /// The id at `index`, if in range.
    ///
    /// ```
    /// let m = oximl_core::mf::IdMap::from_ids(vec!["7".into()]).unwrap();
    /// assert_eq!(m.id(0), Some("7"));
    /// assert_eq!(m.id(1), None);
    /// ```
    pub fn id(&self, index: usize) -> Option<&str> {
        self.ids.get(index).map(String::as_str)
    }

    /// All ids in index order.
    ///
    /// ```
    /// let m = oximl_core::mf::IdMap::from_ids(vec!["a".into(), "b".into()]).unwrap();
    /// assert_eq!(m.ids(), ["a", "b"]);
    /// ```
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    fn insert(&mut self, id: String) -> Result<u32> {
        if let Some(&i) = self.index.get(&id) {
            return Ok(i);
        }
        let i = u32::try_from(self.ids.len()).map_err(|_| Error::invalid("ids", "more than 2^32 - 1 ids"))?;
        self.index.insert(id.clone(), i);
        self.ids.push(id);
        Ok(i)
    }
}

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
    /// The last rating replaces the earlier ones (and its timestamp theirs).
    #[default]
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
#[serde(default)]
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

/// Compressed sparse rows: for each row, its column indices (ascending) and values.
///
/// ```
/// use oximl_core::mf::Ratings;
/// let r = Ratings::from_triplets([("u", "b", 1.0), ("u", "a", 2.0), ("v", "a", 3.0)], Default::default()).unwrap();
/// let (items, values) = r.by_user().row(0); // items "b" = 0 and "a" = 1, in order of first appearance
/// assert_eq!((items, values), (&[0u32, 1][..], &[1.0f32, 2.0][..]));
/// assert_eq!(r.by_item().row(1).0, [0, 1]); // "a" is rated by both users
/// assert_eq!((r.by_user().rows(), r.by_user().nnz()), (2, 3));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Csr {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl Csr {
    /// Builds the CSR of `rows` rows from coordinates (columns sorted within each row): a counting sort by row,
    /// then a sort of each row by column (a global sort by `(row, col)` was 5× slower on 900k ratings).
    pub(crate) fn build(rows: usize, row: &[u32], col: &[u32], value: &[f32]) -> Csr {
        let mut indptr = vec![0usize; rows + 1];
        for &r in row {
            indptr[r as usize + 1] += 1;
        }
        for r in 0..rows {
            indptr[r + 1] += indptr[r];
        }
        let mut next = indptr[..rows].to_vec();
        let mut entries = vec![(0u32, 0.0f32); row.len()];
        for ((&r, &c), &v) in row.iter().zip(col).zip(value) {
            entries[next[r as usize]] = (c, v);
            next[r as usize] += 1;
        }
        for w in indptr.windows(2) {
            entries[w[0]..w[1]].sort_unstable_by_key(|e| e.0);
        }
        let (indices, values) = entries.into_iter().unzip();
        Csr { indptr, indices, values }
    }

    pub(crate) fn from_parts(indptr: Vec<usize>, indices: Vec<u32>, values: Vec<f32>) -> Csr {
        Csr { indptr, indices, values }
    }

    pub(crate) fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    pub(crate) fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// Number of rows.
    ///
    /// ```
    /// assert_eq!(oximl_core::mf::Csr::default().rows(), 0);
    /// ```
    pub fn rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Number of stored entries.
    ///
    /// ```
    /// assert_eq!(oximl_core::mf::Csr::default().nnz(), 0);
    /// ```
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row `r`'s column indices and values (empty if `r` is out of range).
    ///
    /// ```
    /// assert!(oximl_core::mf::Csr::default().row(3).0.is_empty());
    /// ```
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        match (self.indptr.get(r), self.indptr.get(r + 1)) {
            (Some(&a), Some(&b)) => (&self.indices[a..b], self.values.get(a..b).unwrap_or(&[])),
            _ => (&[], &[]),
        }
    }
}

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

/// Where to find the fields of a delimited ratings file and how strict to be.
///
/// ```
/// use oximl_core::mf::{CsvOptions, Ratings};
/// let text = "user,item,rating\n1,10,4\n1,11,oops\n2,10,5\n";
/// let opts = CsvOptions { skip_invalid: true, ..CsvOptions::csv() };
/// let r = Ratings::parse_csv(text.as_bytes(), &opts).unwrap();
/// assert_eq!((r.len(), r.skipped()), (2, 1));
/// let e = Ratings::parse_csv(text.as_bytes(), &CsvOptions::csv()).unwrap_err();
/// assert!(e.to_string().contains("line 3"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// Field separator (any non-empty string: `","`, `"\t"`, `"::"`).
    pub separator: String,
    /// Whether the first line is a header to skip.
    pub header: bool,
    /// Skip malformed lines and invalid ratings (counted in [`Ratings::skipped`]) instead of failing.
    pub skip_invalid: bool,
    /// Columns (0-based) of user, item, rating and optional timestamp.
    pub columns: (usize, usize, usize, Option<usize>),
    /// Validation and duplicates policy.
    pub ratings: RatingsOptions,
}

impl CsvOptions {
    /// Comma-separated `user,item,rating[,timestamp]` with a header line.
    ///
    /// ```
    /// assert_eq!(oximl_core::mf::CsvOptions::csv().separator, ",");
    /// ```
    pub fn csv() -> CsvOptions {
        CsvOptions {
            separator: ",".into(),
            header: true,
            skip_invalid: false,
            columns: (0, 1, 2, Some(3)),
            ratings: RatingsOptions::default(),
        }
    }

    /// Tab-separated `user item rating [timestamp]`, no header.
    ///
    /// ```
    /// assert!(!oximl_core::mf::CsvOptions::tsv().header);
    /// ```
    pub fn tsv() -> CsvOptions {
        CsvOptions { separator: "\t".into(), header: false, ..CsvOptions::csv() }
    }

    /// MovieLens 100k `u.data`: tab-separated, no header, scale 1–5.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::parse_csv(&b"196\t242\t3\t881250949\n"[..],
    ///     &oximl_core::mf::CsvOptions::movielens_100k()).unwrap();
    /// assert_eq!(r.timestamps(), Some(&[881250949i64][..]));
    /// ```
    pub fn movielens_100k() -> CsvOptions {
        CsvOptions { ratings: RatingsOptions { scale: Some((1.0, 5.0)), ..Default::default() }, ..CsvOptions::tsv() }
    }

    /// MovieLens 1M/10M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header, scale 1–5 (0.5–5 for 10M:
    /// change `ratings.scale`).
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::parse_csv(&b"1::1193::5::978300760\n"[..],
    ///     &oximl_core::mf::CsvOptions::movielens_1m()).unwrap();
    /// assert_eq!(r.items().id(0), Some("1193"));
    /// ```
    pub fn movielens_1m() -> CsvOptions {
        CsvOptions { separator: "::".into(), ..CsvOptions::movielens_100k() }
    }

    /// MovieLens `ratings.csv` (latest, 25M, 32M): `userId,movieId,rating,timestamp` with a header, scale 0.5–5.
    ///
    /// ```
    /// let text = "userId,movieId,rating,timestamp\n1,1,4.5,964982703\n";
    /// let r = oximl_core::mf::Ratings::parse_csv(text.as_bytes(), &oximl_core::mf::CsvOptions::movielens_csv());
    /// assert_eq!(r.unwrap().values(), [4.5]);
    /// ```
    pub fn movielens_csv() -> CsvOptions {
        CsvOptions { ratings: RatingsOptions { scale: Some((0.5, 5.0)), ..Default::default() }, ..CsvOptions::csv() }
    }
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

    /// Reads a delimited file (see [`Ratings::parse_csv`]).
    ///
    /// ```
    /// let e = oximl_core::mf::Ratings::read_csv("/no/such/u.data", &oximl_core::mf::CsvOptions::movielens_100k());
    /// assert_eq!(e.unwrap_err().code(), 4);
    /// ```
    pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Ratings> {
        let path = path.as_ref();
        let file = crate::io::LineLimit::new(crate::io::open_file(path)?, crate::io::MAX_LINE_BYTES);
        Ratings::parse_csv(std::io::BufReader::new(file), options)
    }

    /// Parses delimited text: one rating per line, blank lines ignored. A malformed line (missing field, an id
    /// that is empty, a rating or timestamp that is not a number) is an [`Error::Format`] naming its line; an
    /// out-of-scale or NaN rating is refused with its line too. With `skip_invalid` such lines are skipped and
    /// counted instead.
    ///
    /// ```
    /// use oximl_core::mf::{CsvOptions, Ratings};
    /// let e = Ratings::parse_csv(&b"1\t2\t9\n"[..], &CsvOptions::movielens_100k()).unwrap_err();
    /// assert!(e.to_string().contains("line 1"));
    /// ```
    pub fn parse_csv(reader: impl BufRead, options: &CsvOptions) -> Result<Ratings> {
        if options.separator.is_empty() {
            return Err(Error::invalid("separator", "must not be empty"));
        }
        let mut b = RatingsBuilder::new(options.ratings)?;
        let (cu, ci, cr, ct) = options.columns;
        let need = cu.max(ci).max(cr) + 1;
        let mut skipped = 0usize;
        for (n, line) in reader.lines().enumerate() {
            let line_no = n + 1;
            let line = line.map_err(|e| Error::Format(format!("line {line_no}: {e}")))?;
            let text = line.trim_end_matches('\r');
            if text.trim().is_empty() || (options.header && n == 0) {
                continue;
            }
            let result = (|| -> Result<()> {
                let fields: Vec<&str> = text.split(options.separator.as_str()).map(str::trim).collect();
                if fields.len() < need {
                    return Err(Error::Format(format!("line {line_no}: expected at least {need} fields")));
                }
                let (user, item) = (fields[cu], fields[ci]);
                if user.is_empty() || item.is_empty() {
                    return Err(Error::Format(format!("line {line_no}: empty user or item id")));
                }
                let rating: f32 = fields[cr]
                    .parse()
                    .map_err(|_| Error::Format(format!("line {line_no}: rating `{}` is not a number", fields[cr])))?;
                let time = match ct.and_then(|c| fields.get(c)) {
                    Some(t) => Some(
                        t.parse::<i64>()
                            .map_err(|_| Error::Format(format!("line {line_no}: timestamp `{t}` is not an integer")))?,
                    ),
                    None => None,
                };
                let added = match time {
                    Some(t) => b.push_at(user, item, rating, t),
                    None => b.push(user, item, rating),
                };
                added.map_err(|e| match e {
                    Error::NonFinite(m) => Error::NonFinite(format!("line {line_no}: {m}")),
                    Error::InvalidArgument { name, reason } => {
                        Error::InvalidArgument { name, reason: format!("line {line_no}: {reason}") }
                    }
                    other => other,
                })
            })();
            match result {
                Ok(()) => {}
                Err(_) if options.skip_invalid => skipped += 1,
                Err(e) => return Err(e),
            }
        }
        let mut r = b.build()?;
        r.skipped = skipped;
        Ok(r)
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

    /// Lines skipped by [`CsvOptions::skip_invalid`] when this set was read.
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
