//! Loading a numeric CSV file into `Array2<f32>` features and an optional `Array1<f32>` target.

use super::missing::{MissingReport, drop_missing, missing_report};
use crate::io::{LineLimit, MAX_LINE_BYTES};
use crate::{Error, Result};
use ndarray::{Array1, Array2};
use std::io::Read;
use std::path::Path;

/// The cells read as missing (NaN) unless [`CsvOptions::missing_values`] says otherwise: pandas' defaults plus `?`.
pub const DEFAULT_MISSING: &[&str] =
    &["", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "None", "<NA>", "#N/A", "#NA", "?"];

/// A column of a CSV file: by 0-based index, by header name, or the last one.
///
/// ```
/// use oximl_core::data::Column;
/// assert_eq!(Column::from(2), Column::Index(2));
/// assert_eq!(Column::from("label"), Column::Name("label".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// The column at this 0-based position.
    Index(usize),
    /// The column with this header name (needs a header line).
    Name(String),
    /// The last column of the file.
    Last,
}

impl From<usize> for Column {
    fn from(i: usize) -> Column {
        Column::Index(i)
    }
}

impl From<&str> for Column {
    fn from(name: &str) -> Column {
        Column::Name(name.to_string())
    }
}

impl From<String> for Column {
    fn from(name: String) -> Column {
        Column::Name(name)
    }
}

/// How to read a CSV file: header, delimiter, which columns, what counts as missing. Built with chained setters.
///
/// Defaults: header detected (the first line is a header if one of its cells is neither a number nor a missing
/// marker), delimiter `,`, no target, every column a feature, [`DEFAULT_MISSING`] as missing markers, missing
/// cells kept as NaN.
///
/// ```
/// use oximl_core::data::{Column, CsvOptions};
/// let opts = CsvOptions::new().header(true).delimiter(b';').target("price").features(["rooms", "area"]);
/// let opts = CsvOptions::new().header(false).target(Column::Last).drop_missing(true);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone)]
pub struct CsvOptions {
    header: Option<bool>,
    delimiter: u8,
    comment: Option<u8>,
    features: Option<Vec<Column>>,
    target: Option<Column>,
    missing: Vec<String>,
    drop_missing: bool,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions {
            header: None,
            delimiter: b',',
            comment: None,
            features: None,
            target: None,
            missing: DEFAULT_MISSING.iter().map(|s| s.to_string()).collect(),
            drop_missing: false,
        }
    }
}

impl CsvOptions {
    /// The defaults (see [`CsvOptions`]).
    ///
    /// ```
    /// let opts = oximl_core::data::CsvOptions::new();
    /// # let _ = opts;
    /// ```
    pub fn new() -> CsvOptions {
        CsvOptions::default()
    }

    /// Whether the first line holds column names (`true`), data (`false`). Without this call it is detected.
    ///
    /// ```
    /// let opts = oximl_core::data::CsvOptions::new().header(false);
    /// # let _ = opts;
    /// ```
    pub fn header(mut self, has_header: bool) -> CsvOptions {
        self.header = Some(has_header);
        self
    }

    /// The field delimiter, e.g. `b';'`, `b'\t'`, `b' '` (default `b','`).
    ///
    /// ```
    /// let opts = oximl_core::data::CsvOptions::new().delimiter(b'\t');
    /// # let _ = opts;
    /// ```
    pub fn delimiter(mut self, delimiter: u8) -> CsvOptions {
        self.delimiter = delimiter;
        self
    }

    /// Lines starting with this byte are skipped (none by default).
    ///
    /// ```
    /// let opts = oximl_core::data::CsvOptions::new().comment(Some(b'#'));
    /// # let _ = opts;
    /// ```
    pub fn comment(mut self, comment: Option<u8>) -> CsvOptions {
        self.comment = comment;
        self
    }

    /// The feature columns, in the order they get in `x` (default: every column but the target).
    ///
    /// ```
    /// use oximl_core::data::{Column, CsvOptions};
    /// let by_index = CsvOptions::new().features([0usize, 2, 3]);
    /// let by_name = CsvOptions::new().features(["age", "bmi"]);
    /// # let _ = (by_index, by_name);
    /// ```
    pub fn features<C: Into<Column>>(mut self, columns: impl IntoIterator<Item = C>) -> CsvOptions {
        self.features = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// The target column, returned as `y` (default: none).
    ///
    /// ```
    /// use oximl_core::data::{Column, CsvOptions};
    /// let opts = CsvOptions::new().target(Column::Last);
    /// # let _ = opts;
    /// ```
    pub fn target(mut self, column: impl Into<Column>) -> CsvOptions {
        self.target = Some(column.into());
        self
    }

    /// The cell texts (after trimming spaces) that mean "missing" and become NaN, replacing [`DEFAULT_MISSING`].
    /// A cell that parses as NaN is always missing.
    ///
    /// ```
    /// let opts = oximl_core::data::CsvOptions::new().missing_values(["", "-999"]);
    /// # let _ = opts;
    /// ```
    pub fn missing_values<S: Into<String>>(mut self, markers: impl IntoIterator<Item = S>) -> CsvOptions {
        self.missing = markers.into_iter().map(Into::into).collect();
        self
    }

    /// Whether to remove every row with a missing feature or target cell (pandas `dropna`). The rows are still
    /// listed in the [`MissingReport`].
    ///
    /// ```
    /// let opts = oximl_core::data::CsvOptions::new().drop_missing(true);
    /// # let _ = opts;
    /// ```
    pub fn drop_missing(mut self, drop: bool) -> CsvOptions {
        self.drop_missing = drop;
        self
    }
}

/// A loaded CSV file.
///
/// ```
/// let data = oximl_core::data::read_csv_from("a,b\n1,2\n".as_bytes(), &Default::default())?;
/// assert_eq!(data.feature_names, vec!["a", "b"]);
/// assert!(data.y.is_none() && data.target_name.is_none() && data.missing.is_empty());
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CsvData {
    /// The features, one row per data line (missing cells are NaN unless dropped).
    pub x: Array2<f32>,
    /// The target column, if one was chosen.
    pub y: Option<Array1<f32>>,
    /// The names of the columns of `x`: from the header, or `column_<index>` without one.
    pub feature_names: Vec<String>,
    /// The name of the target column, if one was chosen.
    pub target_name: Option<String>,
    /// Where cells were missing, and how many rows were dropped.
    pub missing: MissingReport,
}

/// Reads a numeric CSV file (gzip-compressed if the name ends in `.gz`). See [`read_csv_from`] for the rules.
///
/// ```
/// use oximl_core::data::{read_csv, CsvOptions, Column};
/// let path = std::env::temp_dir().join("oximl_doc_read_csv.csv");
/// std::fs::write(&path, "x1,x2,y\n1,2,0\n3,NA,1\n")?;
/// let data = read_csv(&path, &CsvOptions::new().target("y"))?;
/// assert_eq!(data.x.dim(), (2, 2));
/// assert!(data.x[[1, 1]].is_nan());
/// assert_eq!(data.missing.lines, vec![3]);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvData> {
    let path = path.as_ref();
    let reader = std::io::BufReader::new(crate::io::open_file(path)?);
    let gz = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let result =
        if gz { read_csv_from(flate2::read::GzDecoder::new(reader), options) } else { read_csv_from(reader, options) };
    result.map_err(|e| match e {
        Error::Format(msg) => Error::Format(format!("{}: {msg}", path.display())),
        Error::Io { source, .. } => Error::io(path, source),
        other => other,
    })
}

/// Reads a numeric CSV from any reader.
///
/// - A line longer than [`MAX_LINE_BYTES`](crate::io::MAX_LINE_BYTES) is an [`Error::Format`] (so a file without
///   line breaks cannot exhaust memory).
/// - Every row must have as many fields as the first one, else [`Error::Format`] naming the line.
/// - A selected cell that is neither a number nor a missing marker is an [`Error::Format`] naming line and column.
/// - Missing cells become NaN and are counted in [`CsvData::missing`]; with
///   [`drop_missing(true)`](CsvOptions::drop_missing) their rows are removed (all rows missing is an error).
/// - A column name without a header, an unknown name or an index past the last column is
///   [`Error::InvalidArgument`]; so is a target also listed among the features.
/// - A file with no data rows is an [`Error::Format`].
///
/// ```
/// use oximl_core::data::{read_csv_from, CsvOptions, Column};
/// let text = "1;2;?;0\n4;5;6;1\n";
/// let opts = CsvOptions::new().delimiter(b';').target(Column::Last).drop_missing(true);
/// let data = read_csv_from(text.as_bytes(), &opts)?;
/// assert_eq!(data.x, ndarray::array![[4.0f32, 5.0, 6.0]]);
/// assert_eq!(data.y.unwrap(), ndarray::array![1.0f32]);
/// assert_eq!((data.missing.per_column.clone(), data.missing.lines.clone()), (vec![0, 0, 1], vec![1]));
/// # Ok::<(), oximl_core::Error>(())
/// ```
pub fn read_csv_from(reader: impl Read, options: &CsvOptions) -> Result<CsvData> {
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(options.delimiter)
        .comment(options.comment)
        .flexible(true)
        .from_reader(LineLimit::new(reader, MAX_LINE_BYTES));
    let mut record = ::csv::StringRecord::new();
    if !read(&mut rdr, &mut record)? {
        return Err(Error::Format("the CSV has no rows".into()));
    }
    let ncols = record.len();
    let is_missing = |s: &str| options.missing.iter().any(|m| m == s);
    let has_header = options.header.unwrap_or_else(|| {
        record.iter().any(|cell| {
            let cell = cell.trim();
            !is_missing(cell) && cell.parse::<f32>().is_err()
        })
    });
    let names: Vec<String> = if has_header {
        record.iter().map(|s| s.trim().to_string()).collect()
    } else {
        (0..ncols).map(|i| format!("column_{i}")).collect()
    };
    let resolve = |what: &str, col: &Column| -> Result<usize> {
        match col {
            Column::Index(i) if *i < ncols => Ok(*i),
            Column::Index(i) => Err(Error::invalid(what, format!("column index {i} but the CSV has {ncols} columns"))),
            Column::Last => Ok(ncols - 1),
            Column::Name(n) if !has_header => {
                Err(Error::invalid(what, format!("column name `{n}` but the CSV has no header line")))
            }
            Column::Name(n) => names
                .iter()
                .position(|h| h == n)
                .ok_or_else(|| Error::invalid(what, format!("no column named `{n}` in the header {names:?}"))),
        }
    };
    let target = options.target.as_ref().map(|t| resolve("target", t)).transpose()?;
    let features: Vec<usize> = match &options.features {
        Some(cols) => {
            let idx = cols.iter().map(|c| resolve("features", c)).collect::<Result<Vec<_>>>()?;
            if let Some(t) = target.filter(|t| idx.contains(t)) {
                return Err(Error::invalid("features", format!("the target column `{}` is also a feature", names[t])));
            }
            idx
        }
        None => (0..ncols).filter(|c| Some(*c) != target).collect(),
    };

    let mut xs: Vec<f32> = Vec::new();
    let mut ys: Vec<f32> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let parse = |line: u64, c: usize, cell: &str| -> Result<f32> {
        let cell = cell.trim();
        if is_missing(cell) {
            return Ok(f32::NAN);
        }
        cell.parse::<f32>().map_err(|_| {
            Error::Format(format!("line {line}, column `{}` (index {c}): `{cell}` is not a number", names[c]))
        })
    };
    let mut process = |record: &::csv::StringRecord| -> Result<()> {
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != ncols {
            return Err(Error::Format(format!(
                "line {line} has {} fields but the first line has {ncols} (a ragged row)",
                record.len()
            )));
        }
        for &c in &features {
            xs.push(parse(line, c, &record[c])?);
        }
        if let Some(t) = target {
            ys.push(parse(line, t, &record[t])?);
        }
        lines.push(line);
        Ok(())
    };
    if !has_header {
        process(&record)?;
    }
    while read(&mut rdr, &mut record)? {
        process(&record)?;
    }
    let nrows = lines.len();
    if nrows == 0 {
        return Err(Error::Format("the CSV has a header but no data rows".into()));
    }
    let x = Array2::from_shape_vec((nrows, features.len()), xs).map_err(|e| Error::Format(e.to_string()))?;
    let y = target.map(|_| Array1::from_vec(ys));
    let mut missing = missing_report(&x, y.as_ref().map(|y| y.view()));
    missing.lines = missing.rows.iter().map(|&r| lines[r]).collect();
    let (x, y) = if options.drop_missing && !missing.rows.is_empty() {
        if missing.rows.len() == nrows {
            return Err(Error::Format(format!("all {nrows} data rows have missing cells: nothing left to keep")));
        }
        let (x, y, removed) = drop_missing(&x, y.as_ref().map(|y| y.view()))?;
        missing.dropped = removed.len();
        (x, y)
    } else {
        (x, y)
    };
    Ok(CsvData {
        x,
        y,
        feature_names: features.iter().map(|&c| names[c].clone()).collect(),
        target_name: target.map(|t| names[t].clone()),
        missing,
    })
}

/// Reads the next record; `false` at the end. Errors (bad UTF-8, I/O) become [`Error::Format`] with the line.
fn read<R: Read>(rdr: &mut ::csv::Reader<R>, record: &mut ::csv::StringRecord) -> Result<bool> {
    rdr.read_record(record).map_err(|e| {
        let msg = e.to_string();
        match e.into_kind() {
            ::csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                Error::Format(format!("CSV: {io}"))
            }
            ::csv::ErrorKind::Io(io) => Error::io("<csv reader>", io),
            _ => Error::Format(format!("CSV: {msg}")),
        }
    })
}
