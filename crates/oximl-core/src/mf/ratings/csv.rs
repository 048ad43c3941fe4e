//! Delimited ratings files: [`RatingsCsvOptions`] (the MovieLens layouts are [`Preset`]s) and
//! [`Ratings::read_csv`]. A one-byte separator is parsed as CSV by the `csv` crate (RFC 4180 quoting, as R's
//! `write.csv` writes: `"Heat, 1995"` is one field); a longer one (`::`) splits each line as it is. Lines are
//! bounded by [`MAX_LINE`] bytes.

use super::{Ratings, RatingsBuilder, RatingsOptions};
use crate::{Cancel, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The longest line accepted in a ratings file (1 MiB); a longer one is an [`Error::Format`], so a file without
/// line breaks cannot exhaust memory.
///
/// ```
/// let long = format!("u,i,1\n{}\n", "x".repeat(oximl_core::mf::ratings::MAX_LINE + 1));
/// let o = oximl_core::mf::RatingsCsvOptions { header: false, ..Default::default() };
/// let e = oximl_core::mf::Ratings::parse_csv(long.as_bytes(), &o).unwrap_err();
/// assert!(e.to_string().contains("line 2"));
/// ```
pub const MAX_LINE: usize = 1 << 20;

/// Records read between two polls of the cancellation token.
const POLL: usize = 1 << 16;

/// A known file layout: the options a [`RatingsCsvOptions`] starts from. Names (serde): `csv`, `tsv`,
/// `movielens_100k` (alias `ml-100k`), `movielens_1m` (alias `ml-1m`), `movielens_csv` (alias `ml-latest`).
///
/// ```
/// use oximl_core::mf::Preset;
/// let p: Preset = serde_json::from_str("\"ml-100k\"").unwrap();
/// assert_eq!((p, serde_json::to_string(&p).unwrap()), (Preset::Movielens100k, "\"movielens_100k\"".into()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Preset {
    /// Comma-separated `user,item,rating[,timestamp]` with a header line.
    #[default]
    #[serde(rename = "csv")]
    Csv,
    /// Tab-separated `user item rating [timestamp]`, no header.
    #[serde(rename = "tsv")]
    Tsv,
    /// MovieLens 100k `u.data`: tab-separated, no header, scale 1–5.
    #[serde(rename = "movielens_100k", alias = "ml-100k")]
    Movielens100k,
    /// MovieLens 1M/10M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header, scale 1–5 (0.5–5 for 10M:
    /// change `ratings.scale`).
    #[serde(rename = "movielens_1m", alias = "ml-1m")]
    Movielens1m,
    /// MovieLens `ratings.csv` (latest, 25M, 32M): `userId,movieId,rating,timestamp` with a header, scale 0.5–5.
    #[serde(rename = "movielens_csv", alias = "ml-latest")]
    MovielensCsv,
}

impl Preset {
    /// The options of this layout.
    ///
    /// ```
    /// let r = oximl_core::mf::Ratings::parse_csv(&b"1::1193::5::978300760\n"[..],
    ///     &oximl_core::mf::Preset::Movielens1m.options()).unwrap();
    /// assert_eq!((r.items().id(0), r.timestamps()), (Some("1193"), Some(&[978300760i64][..])));
    /// ```
    pub fn options(self) -> RatingsCsvOptions {
        let csv = RatingsCsvOptions {
            separator: ",".into(),
            header: true,
            skip_invalid: false,
            columns: (0, 1, 2, Some(3)),
            ratings: RatingsOptions::default(),
        };
        let scale = |lo, hi| RatingsOptions { scale: Some((lo, hi)), ..Default::default() };
        match self {
            Preset::Csv => csv,
            Preset::Tsv => RatingsCsvOptions { separator: "\t".into(), header: false, ..csv },
            Preset::Movielens100k => RatingsCsvOptions { ratings: scale(1.0, 5.0), ..Preset::Tsv.options() },
            Preset::Movielens1m => RatingsCsvOptions { separator: "::".into(), ..Preset::Movielens100k.options() },
            Preset::MovielensCsv => RatingsCsvOptions { ratings: scale(0.5, 5.0), ..csv },
        }
    }
}

/// Where to find the fields of a delimited ratings file and how strict to be (the default: [`Preset::Csv`]).
/// (Not `data::CsvOptions`, which reads numeric tables.)
///
/// ```
/// use oximl_core::mf::{RatingsCsvOptions, Ratings};
/// let text = "user,item,rating\n1,10,4\n1,11,oops\n2,10,5\n";
/// let opts = RatingsCsvOptions { skip_invalid: true, ..Default::default() };
/// let r = Ratings::parse_csv(text.as_bytes(), &opts).unwrap();
/// assert_eq!((r.len(), r.skipped()), (2, 1));
/// let e = Ratings::parse_csv(text.as_bytes(), &Default::default()).unwrap_err();
/// assert!(e.to_string().contains("line 3"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingsCsvOptions {
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

impl Default for RatingsCsvOptions {
    fn default() -> RatingsCsvOptions {
        Preset::Csv.options()
    }
}

impl RatingsCsvOptions {
    /// The options C's `options_json` and Python's `Ratings.load` describe: `"preset"` (a [`Preset`] name, by
    /// default `csv`) and any field to change, objects merged key by key (`{"preset": "ml-100k", "ratings":
    /// {"duplicates": "mean"}}` keeps the preset's scale). Unknown keys are refused, naming the key.
    ///
    /// ```
    /// use oximl_core::mf::{Preset, RatingsCsvOptions};
    /// let o = RatingsCsvOptions::from_json(serde_json::json!({"preset": "movielens_100k", "header": true})).unwrap();
    /// assert_eq!((o.separator.as_str(), o.header, o.ratings.scale), ("\t", true, Some((1.0, 5.0))));
    /// assert!(RatingsCsvOptions::from_json(serde_json::json!({"preset": "parquet"})).is_err());
    /// assert!(RatingsCsvOptions::from_json(serde_json::json!({"seperator": ";"})).unwrap_err().to_string().contains("seperator"));
    /// ```
    pub fn from_json(mut patch: Value) -> Result<RatingsCsvOptions> {
        let bad = |e: serde_json::Error| Error::invalid("options", e.to_string());
        let preset = match patch.as_object_mut().and_then(|o| o.remove("preset")) {
            Some(p) => serde_json::from_value::<Preset>(p).map_err(bad)?,
            None => Preset::default(),
        };
        let mut value = serde_json::to_value(preset.options()).map_err(bad)?;
        merge(&mut value, patch);
        serde_json::from_value(value).map_err(bad)
    }
}

/// `patch` over `dst`, objects merged key by key.
fn merge(dst: &mut Value, patch: Value) {
    match (dst, patch) {
        (Value::Object(d), Value::Object(p)) => {
            for (k, v) in p {
                merge(d.entry(k).or_insert(Value::Null), v);
            }
        }
        (d, p) => *d = p,
    }
}

/// A reader that fails once a line exceeds [`MAX_LINE`] bytes.
struct LineLimit<R> {
    inner: R,
    run: usize,
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        let mut parts = out[..n].split(|&b| b == b'\n').peekable();
        while let Some(part) = parts.next() {
            self.run += part.len();
            if self.run > MAX_LINE {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "line longer than 1 MiB"));
            }
            if parts.peek().is_some() {
                self.run = 0;
            }
        }
        Ok(n)
    }
}

impl Ratings {
    /// Reads a delimited file (see [`Ratings::parse_csv`]).
    ///
    /// ```
    /// use oximl_core::mf::{Preset, Ratings};
    /// let e = Ratings::read_csv("/no/such/u.data", &Preset::Movielens100k.options());
    /// assert_eq!(e.unwrap_err().code(), 4);
    /// ```
    pub fn read_csv(path: impl AsRef<Path>, options: &RatingsCsvOptions) -> Result<Ratings> {
        Ratings::read_csv_cancellable(path, options, &Cancel::new())
    }

    /// [`Ratings::read_csv`], stopped with [`Error::Cancelled`] soon after `cancel` is set.
    ///
    /// ```
    /// let (path, cancel) = (std::env::temp_dir().join("oximl-doc-cancel.csv"), oximl_core::Cancel::new());
    /// std::fs::write(&path, "u,i,r\na,x,1\n").unwrap();
    /// cancel.cancel();
    /// let e = oximl_core::mf::Ratings::read_csv_cancellable(&path, &Default::default(), &cancel);
    /// assert_eq!(e.unwrap_err().code(), 7);
    /// ```
    pub fn read_csv_cancellable(
        path: impl AsRef<Path>,
        options: &RatingsCsvOptions,
        cancel: &Cancel,
    ) -> Result<Ratings> {
        let path = path.as_ref();
        let file = crate::io::open_file(path)?;
        parse(BufReader::new(file), options, cancel)
    }

    /// Parses delimited text: one rating per record, blank lines ignored. A malformed record (missing field, an
    /// id that is empty, a rating or timestamp that is not a number, a line over [`MAX_LINE`]) is an
    /// [`Error::Format`] naming its line; an out-of-scale or NaN rating is refused with its line too. With
    /// `skip_invalid` such records are skipped and counted instead (not an over-long line).
    ///
    /// ```
    /// use oximl_core::mf::{Preset, Ratings};
    /// let e = Ratings::parse_csv(&b"1\t2\t9\n"[..], &Preset::Movielens100k.options()).unwrap_err();
    /// assert!(e.to_string().contains("line 1"));
    /// let r = Ratings::parse_csv(&b"u,i,r\n1,\"Heat, 1995\",4\n"[..], &Default::default()).unwrap();
    /// assert_eq!(r.items().ids(), ["Heat, 1995"]);
    /// ```
    pub fn parse_csv(reader: impl BufRead, options: &RatingsCsvOptions) -> Result<Ratings> {
        parse(reader, options, &Cancel::new())
    }
}

/// The one parser behind [`Ratings::parse_csv`] and [`Ratings::read_csv_cancellable`].
fn parse(reader: impl BufRead, options: &RatingsCsvOptions, cancel: &Cancel) -> Result<Ratings> {
    let mut b = RatingsBuilder::new(options.ratings)?;
    let (cu, ci, cr, _) = options.columns;
    let need = cu.max(ci).max(cr).checked_add(1).ok_or_else(|| Error::invalid("columns", "column out of range"))?;
    let mut skipped = 0usize;
    let mut record = |n: usize, line: usize, fields: &[&str]| -> Result<()> {
        if n % POLL == POLL - 1 {
            cancel.check("reading ratings")?;
        }
        if fields.iter().all(|f| f.is_empty()) || (options.header && n == 0) {
            return Ok(());
        }
        match add(&mut b, fields, need, options.columns).map_err(|e| at_line(e, line)) {
            Err(_) if options.skip_invalid => skipped += 1,
            other => other?,
        }
        Ok(())
    };
    let reader = LineLimit { inner: reader, run: 0 };
    let io = |line: usize, e: &dyn std::fmt::Display| Error::Format(format!("line {line}: {e}"));
    match options.separator.as_bytes() {
        [] => return Err(Error::invalid("separator", "must not be empty")),
        &[delimiter] => {
            let mut csv = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .has_headers(false)
                .flexible(true)
                .trim(csv::Trim::All)
                .from_reader(reader);
            let mut row = csv::StringRecord::new();
            for n in 0.. {
                let line = csv.position().line() as usize;
                let more =
                    csv.read_record(&mut row).map_err(|e| io(e.position().map_or(line, |p| p.line() as usize), &e))?;
                if !more {
                    break;
                }
                let fields: Vec<&str> = row.iter().collect();
                record(n, row.position().map_or(line, |p| p.line() as usize), &fields)?;
            }
        }
        _ => {
            for (n, text) in BufReader::new(reader).lines().enumerate() {
                let text = text.map_err(|e| io(n + 1, &e))?;
                let fields: Vec<&str> =
                    text.trim_end_matches('\r').split(options.separator.as_str()).map(str::trim).collect();
                record(n, n + 1, &fields)?;
            }
        }
    }
    cancel.check("reading ratings")?;
    let mut r = b.build()?;
    r.skipped = skipped;
    Ok(r)
}

/// One record's rating into `b`.
fn add(
    b: &mut RatingsBuilder,
    fields: &[&str],
    need: usize,
    columns: (usize, usize, usize, Option<usize>),
) -> Result<()> {
    let (cu, ci, cr, ct) = columns;
    if fields.len() < need {
        return Err(Error::Format(format!("expected at least {need} fields")));
    }
    let (user, item) = (fields[cu], fields[ci]);
    if user.is_empty() || item.is_empty() {
        return Err(Error::Format("empty user or item id".into()));
    }
    let rating: f32 =
        fields[cr].parse().map_err(|_| Error::Format(format!("rating `{}` is not a number", fields[cr])))?;
    match ct.and_then(|c| fields.get(c)) {
        Some(t) => {
            let t = t.parse::<i64>().map_err(|_| Error::Format(format!("timestamp `{t}` is not an integer")))?;
            b.push_at(user, item, rating, t)
        }
        None => b.push(user, item, rating),
    }
}

/// `e` with `line N: ` before its message.
fn at_line(e: Error, line: usize) -> Error {
    match e {
        Error::Format(m) => Error::Format(format!("line {line}: {m}")),
        Error::NonFinite(m) => Error::NonFinite(format!("line {line}: {m}")),
        Error::InvalidArgument { name, reason } => {
            Error::InvalidArgument { name, reason: format!("line {line}: {reason}") }
        }
        other => other,
    }
}
