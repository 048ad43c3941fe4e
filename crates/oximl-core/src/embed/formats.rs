//! Reading and writing word-vector files: word2vec text and binary, GloVe text, fastText `.vec`, and the oximl
//! format.
//!
//! | format | header line | rows |
//! |---|---|---|
//! | word2vec text, fastText `.vec` | `<words> <dims>` | `word v1 v2 …` |
//! | GloVe | none | `word v1 v2 …` (the first row sets the dimension) |
//! | word2vec binary | `<words> <dims>` | `word` + space + `dims` little-endian `f32` (+ an optional newline) |
//! | oximl | safetensors, kind `"embeddings"` | tensor `vectors` (`F32`, words × dims) and tensor `vocab` (`U8`: the words in row order, UTF-8, joined by `\n`); config `{"words": n, "dim": d}` |
//!
//! Detection ([`VectorFormat::Auto`]) looks at the content only: a safetensors header → oximl; a first line of
//! two integers → word2vec (text if the next line is a word and `dims` numbers, binary otherwise); anything else
//! → GloVe. (A GloVe file whose first row is a 1-dimensional vector for a number-word, like `7 0.5`, reads as a
//! header: name the format explicitly for such files.) fastText `.vec` is the word2vec text syntax.
//!
//! Fields are separated by spaces or tabs, `\r\n` line ends are accepted, blank lines are skipped. Every row must
//! have exactly `dims` numbers; every value must be finite; text must be UTF-8; the number of rows must match the
//! header (unless `limit` stops reading first). Errors name the line (text) or the entry and byte offset (binary).
//! Files are memory-mapped, and text rows are parsed in parallel on the library's pool.

use super::vectors::{KeyedVectors, check_word};
use crate::io::{self, Storage, TensorRef};
use crate::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// A word-vector file format.
///
/// ```
/// use oximl_core::embed::{KeyedVectors, LoadOptions, VectorFormat};
/// let kv = KeyedVectors::from_bytes(b"a 1 2\nb 3 4\n", &LoadOptions::default()).unwrap();
/// assert_eq!(kv.dim(), 2);
/// assert_eq!(VectorFormat::detect(b"a 1 2\n").unwrap(), VectorFormat::Glove);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorFormat {
    /// Decide from the content (see the [module documentation](self)).
    #[default]
    Auto,
    /// word2vec text: a `<words> <dims>` header line, then one word and its values per line.
    #[serde(rename = "word2vec_text")]
    Word2VecText,
    /// word2vec binary: the header line, then each word, a space and its values as little-endian `f32`.
    #[serde(rename = "word2vec_binary")]
    Word2VecBinary,
    /// GloVe text: the word2vec text rows without a header.
    Glove,
    /// fastText `.vec`: the word2vec text syntax (read and written as [`VectorFormat::Word2VecText`]).
    #[serde(rename = "fasttext")]
    FastText,
    /// oximl's own format (see [`crate::io`]), the fastest to reload.
    Oximl,
}

impl VectorFormat {
    /// The format of a file's content (never [`VectorFormat::Auto`] or [`VectorFormat::FastText`]).
    /// An empty (or blank) content is an [`Error::Format`].
    ///
    /// ```
    /// use oximl_core::embed::VectorFormat;
    /// assert_eq!(VectorFormat::detect(b"1 2\nw 0.5 1\n").unwrap(), VectorFormat::Word2VecText);
    /// let mut bin = b"1 1\nw ".to_vec();
    /// bin.extend_from_slice(&0.5f32.to_le_bytes());
    /// assert_eq!(VectorFormat::detect(&bin).unwrap(), VectorFormat::Word2VecBinary);
    /// assert!(VectorFormat::detect(b"  \n").is_err());
    /// ```
    pub fn detect(bytes: &[u8]) -> Result<VectorFormat> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Format("empty file: no vectors".into()));
        }
        if io::looks_like_oximl(bytes) {
            return Ok(VectorFormat::Oximl);
        }
        let (first, rest) = split_line(bytes);
        let Some((_, dim)) = parse_header(first) else {
            return Ok(VectorFormat::Glove);
        };
        let (second, _) = split_line(rest);
        let is_text = std::str::from_utf8(second).is_ok_and(|line| {
            let mut fields = fields(line);
            fields.next().is_some() && {
                let values: Vec<&str> = fields.collect();
                values.len() == dim && values.iter().all(|v| v.parse::<f32>().is_ok())
            }
        });
        Ok(if is_text || rest.iter().all(u8::is_ascii_whitespace) {
            VectorFormat::Word2VecText
        } else {
            VectorFormat::Word2VecBinary
        })
    }
}

/// How to read a word-vector file.
///
/// ```
/// use oximl_core::embed::{LoadOptions, VectorFormat};
/// let o = LoadOptions::default().format(VectorFormat::Glove).limit(100_000);
/// assert_eq!(o.get_limit(), Some(100_000));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadOptions {
    format: VectorFormat,
    limit: Option<usize>,
}

impl LoadOptions {
    /// The format, instead of detecting it (default [`VectorFormat::Auto`]).
    ///
    /// ```
    /// use oximl_core::embed::{LoadOptions, VectorFormat};
    /// assert_eq!(LoadOptions::default().format(VectorFormat::Glove).get_format(), VectorFormat::Glove);
    /// ```
    pub fn format(mut self, format: VectorFormat) -> Self {
        self.format = format;
        self
    }

    /// Read only the first `n` entries of the file (duplicates among them included), as gensim's `limit`; what
    /// follows them is not read (nor checked against the header count).
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, LoadOptions};
    /// let kv = KeyedVectors::from_bytes(b"a 1\nb 2\nc 3\n", &LoadOptions::default().limit(2)).unwrap();
    /// assert_eq!(kv.words(), ["a", "b"]);
    /// ```
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// The format set.
    ///
    /// ```
    /// assert_eq!(oximl_core::embed::LoadOptions::default().get_format(), oximl_core::embed::VectorFormat::Auto);
    /// ```
    pub fn get_format(&self) -> VectorFormat {
        self.format
    }

    /// The limit set.
    ///
    /// ```
    /// assert_eq!(oximl_core::embed::LoadOptions::default().get_limit(), None);
    /// ```
    pub fn get_limit(&self) -> Option<usize> {
        self.limit
    }
}

/// The first line of `bytes` (without its `\n`) and what follows it.
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

fn fields(line: &str) -> impl Iterator<Item = &str> {
    line.split([' ', '\t', '\r']).filter(|f| !f.is_empty())
}

/// `<words> <dims>` → both numbers, if the line is exactly that.
fn parse_header(line: &[u8]) -> Option<(usize, usize)> {
    let line = std::str::from_utf8(line).ok()?;
    let mut f = fields(line);
    let words = f.next()?.parse().ok()?;
    let dim = f.next()?.parse().ok()?;
    f.next().is_none().then_some((words, dim))
}

fn header_or_error(line: &[u8]) -> Result<(usize, usize)> {
    let (words, dim) = parse_header(line).ok_or_else(|| {
        Error::Format(format!(
            "line 1: expected a header `<words> <dims>`, found {:?}",
            String::from_utf8_lossy(&line[..line.len().min(80)])
        ))
    })?;
    if dim == 0 {
        return Err(Error::Format("line 1: the header declares 0 dimensions".into()));
    }
    if words == 0 {
        return Err(Error::Format("line 1: the header declares 0 words: no vectors".into()));
    }
    Ok((words, dim))
}

impl KeyedVectors {
    /// Reads a word-vector file (memory-mapped) in any [`VectorFormat`].
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, LoadOptions};
    /// let path = std::env::temp_dir().join("oximl-doc-load.txt");
    /// std::fs::write(&path, "2 2\nking 1 2\nqueen 1.5 2\n").unwrap();
    /// let kv = KeyedVectors::load(&path, &LoadOptions::default()).unwrap();
    /// assert_eq!(kv.words(), ["king", "queen"]);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn load(path: impl AsRef<Path>, options: &LoadOptions) -> Result<KeyedVectors> {
        let path = path.as_ref();
        let storage = Storage::open(path)?;
        Self::from_bytes(storage.bytes(), options).map_err(|e| match e {
            Error::Format(m) => Error::Format(format!("{}: {m}", path.display())),
            Error::NonFinite(m) => Error::NonFinite(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Parses a word-vector file held in memory, in any [`VectorFormat`].
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, LoadOptions};
    /// let e = KeyedVectors::from_bytes(b"2 2\na 1 2\n", &LoadOptions::default()).unwrap_err();
    /// assert!(e.to_string().contains("header declares 2 words"));
    /// ```
    pub fn from_bytes(bytes: &[u8], options: &LoadOptions) -> Result<KeyedVectors> {
        if options.limit == Some(0) {
            return Err(Error::invalid("limit", "must be at least 1"));
        }
        let format = match options.format {
            VectorFormat::Auto => VectorFormat::detect(bytes)?,
            f => f,
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Format("empty file: no vectors".into()));
        }
        match format {
            VectorFormat::Oximl => Self::from_oximl(bytes),
            VectorFormat::Word2VecBinary => parse_binary(bytes, options.limit),
            VectorFormat::Glove => parse_text(bytes, false, options.limit),
            _ => parse_text(bytes, true, options.limit),
        }
    }

    fn from_oximl(bytes: &[u8]) -> Result<KeyedVectors> {
        Self::from_loaded(&io::from_bytes(bytes, KIND)?)
    }

    fn from_loaded(l: &io::Loaded) -> Result<KeyedVectors> {
        let n = l.config().get("words").and_then(serde_json::Value::as_u64);
        let dim = l.config().get("dim").and_then(serde_json::Value::as_u64);
        let (Some(n), Some(dim)) = (n, dim) else {
            return Err(Error::Format("embeddings config needs integer `words` and `dim`".into()));
        };
        let (n, dim) = (n as usize, dim as usize);
        let vocab = std::str::from_utf8(l.bytes("vocab")?)
            .map_err(|e| Error::Format(format!("tensor `vocab` is not UTF-8: {e}")))?;
        let words: Vec<String> = if n == 0 { Vec::new() } else { vocab.split('\n').map(str::to_string).collect() };
        if words.len() != n {
            return Err(Error::Format(format!("tensor `vocab` holds {} words, config says {n}", words.len())));
        }
        let vectors = l.matrix::<f32>("vectors", Some(n), Some(dim))?;
        KeyedVectors::new(words, vectors).map_err(|e| Error::Format(format!("invalid embeddings: {e}")))
    }

    /// Reads a file written by [`KeyedVectors::save`] (same as [`KeyedVectors::load`] with
    /// [`VectorFormat::Oximl`]).
    ///
    /// ```
    /// use oximl_core::embed::KeyedVectors;
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32, 2.0]]).unwrap();
    /// let path = std::env::temp_dir().join("oximl-doc-kv.oximl");
    /// kv.save(&path).unwrap();
    /// assert_eq!(KeyedVectors::load_oximl(&path).unwrap().vectors(), kv.vectors());
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn load_oximl(path: impl AsRef<Path>) -> Result<KeyedVectors> {
        Self::from_loaded(&io::load(path, KIND)?)
    }

    fn oximl_parts(&self) -> (serde_json::Value, Vec<u8>) {
        let config = serde_json::json!({"words": self.len(), "dim": self.dim(), "vocab": "UTF-8 words joined by \\n"});
        (config, self.words().join("\n").into_bytes())
    }

    /// Saves the table in the oximl format (kind `"embeddings"`; see the [module documentation](self)),
    /// atomically.
    ///
    /// ```
    /// let kv = oximl_core::embed::KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// let path = std::env::temp_dir().join("oximl-doc-save.oximl");
    /// kv.save(&path).unwrap();
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let (config, vocab) = self.oximl_parts();
        let tensors = [("vectors", TensorRef::new(self.vectors())), ("vocab", TensorRef::bytes(&vocab))];
        io::save(path, KIND, &config, &tensors)
    }

    /// The bytes of the oximl file [`KeyedVectors::save`] writes (for pickling); read back with
    /// [`KeyedVectors::from_bytes`].
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, LoadOptions};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32]]).unwrap();
    /// let back = KeyedVectors::from_bytes(&kv.to_bytes().unwrap(), &LoadOptions::default()).unwrap();
    /// assert_eq!(back.words(), kv.words());
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let (config, vocab) = self.oximl_parts();
        let tensors = [("vectors", TensorRef::new(self.vectors())), ("vocab", TensorRef::bytes(&vocab))];
        io::to_bytes(KIND, &config, &tensors)
    }

    /// Writes the table as text, atomically: word2vec / fastText `.vec` ([`VectorFormat::Word2VecText`],
    /// [`VectorFormat::FastText`], with the header line), GloVe ([`VectorFormat::Glove`]), word2vec binary
    /// ([`VectorFormat::Word2VecBinary`]) or oximl. Values are written in the shortest form that reads back to the
    /// same `f32`.
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, VectorFormat};
    /// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[0.5f32, -1.0]]).unwrap();
    /// let path = std::env::temp_dir().join("oximl-doc-glove.txt");
    /// kv.save_as(&path, VectorFormat::Glove).unwrap();
    /// assert_eq!(std::fs::read_to_string(&path).unwrap(), "a 0.5 -1\n");
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn save_as(&self, path: impl AsRef<Path>, format: VectorFormat) -> Result<()> {
        let path = path.as_ref();
        let header = match format {
            VectorFormat::Oximl => return self.save(path),
            VectorFormat::Auto => return Err(Error::invalid("format", "name the format to write")),
            VectorFormat::Glove => false,
            _ => true,
        };
        let binary = format == VectorFormat::Word2VecBinary;
        io::write_bytes_atomically(path, |w| {
            if header {
                writeln!(w, "{} {}", self.len(), self.dim())?;
            }
            let mut line = Vec::with_capacity(self.dim() * 12);
            for (word, row) in self.words().iter().zip(self.vectors().rows()) {
                line.clear();
                line.extend_from_slice(word.as_bytes());
                line.push(b' ');
                for (j, v) in row.iter().enumerate() {
                    if binary {
                        line.extend_from_slice(&v.to_le_bytes());
                    } else {
                        if j > 0 {
                            line.push(b' ');
                        }
                        write!(line, "{v}")?;
                    }
                }
                line.push(b'\n');
                w.write_all(&line)?;
            }
            Ok(())
        })
    }
}

/// The model kind of embeddings in oximl files.
pub(crate) const KIND: &str = "embeddings";

/// Text rows (`header` = word2vec, else GloVe).
fn parse_text(bytes: &[u8], header: bool, limit: Option<usize>) -> Result<KeyedVectors> {
    let mut rest = bytes;
    let mut lineno = 0usize;
    let mut declared = None;
    if header {
        let (first, r) = split_line(rest);
        declared = Some(header_or_error(first)?);
        rest = r;
        lineno = 1;
    }
    let want = match (declared, limit) {
        (Some((n, _)), Some(l)) => n.min(l),
        (Some((n, _)), None) => n,
        (None, Some(l)) => l,
        (None, None) => usize::MAX,
    };
    // Line slices with their 1-based numbers, blank lines skipped.
    let mut lines: Vec<(usize, &[u8])> = Vec::new();
    while !rest.is_empty() && lines.len() < want {
        let (line, r) = split_line(rest);
        rest = r;
        lineno += 1;
        if !line.iter().all(u8::is_ascii_whitespace) {
            lines.push((lineno, line));
        }
    }
    if let Some((n, _)) = declared {
        if lines.len() < want {
            return Err(Error::Format(format!("the header declares {n} words but the file has {}", lines.len())));
        }
        if limit.is_none() && !rest.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Format(format!("the header declares {n} words but the file has more rows")));
        }
    }
    let Some(&(first_no, first)) = lines.first() else {
        return Err(Error::Format("empty file: no vectors".into()));
    };
    let dim = match declared {
        Some((_, d)) => d,
        None => {
            let line = utf8_line(first_no, first)?;
            let d = fields(line).count().saturating_sub(1);
            if d == 0 {
                return Err(Error::Format(format!("line {first_no}: a word without values")));
            }
            d
        }
    };
    const CHUNK: usize = 2048;
    let parts: Vec<Result<(Vec<String>, Vec<f32>)>> = oximl_kernel::install(|| {
        lines
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut words = Vec::with_capacity(chunk.len());
                let mut data = Vec::with_capacity(chunk.len() * dim);
                for &(no, line) in chunk {
                    let line = utf8_line(no, line)?;
                    let mut f = fields(line);
                    let word = f.next().unwrap_or_default();
                    check_word(word, &|| format!("line {no}"))?;
                    let before = data.len();
                    for v in f {
                        if data.len() - before == dim {
                            data.truncate(before);
                            let found = fields(line).count() - 1;
                            return Err(Error::Format(format!("line {no}: expected {dim} values, found {found}")));
                        }
                        let x: f32 = v.parse().map_err(|_| {
                            Error::Format(format!("line {no}: {:?} is not a number", &v[..v.len().min(40)]))
                        })?;
                        if !x.is_finite() {
                            return Err(Error::NonFinite(format!("line {no}: value {v:?} of word {word:?}")));
                        }
                        data.push(x);
                    }
                    if data.len() - before != dim {
                        let found = data.len() - before;
                        return Err(Error::Format(format!("line {no}: expected {dim} values, found {found}")));
                    }
                    words.push(word.to_string());
                }
                Ok((words, data))
            })
            .collect()
    });
    let mut words = Vec::with_capacity(lines.len());
    let mut data = Vec::with_capacity(lines.len() * dim);
    for part in parts {
        let (w, d) = part?;
        words.extend(w);
        data.extend(d);
    }
    Ok(KeyedVectors::assemble(words, data, dim))
}

fn utf8_line(no: usize, line: &[u8]) -> Result<&str> {
    std::str::from_utf8(line)
        .map_err(|e| Error::Format(format!("line {no}: invalid UTF-8 at byte {} of the line", e.valid_up_to())))
}

/// word2vec binary.
fn parse_binary(bytes: &[u8], limit: Option<usize>) -> Result<KeyedVectors> {
    let (first, _) = split_line(bytes);
    let (n, dim) = header_or_error(first)?;
    let mut pos = first.len() + 1;
    let want = limit.map_or(n, |l| l.min(n));
    let row_bytes = dim.checked_mul(4).ok_or_else(|| Error::Format("line 1: dimension too large".into()))?;
    let mut words = Vec::with_capacity(want);
    let mut data = Vec::with_capacity(want.saturating_mul(dim).min(bytes.len() / 4));
    for entry in 1..=want {
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= bytes.len() {
            return Err(Error::Format(format!("the header declares {n} words but the file has {}", entry - 1)));
        }
        let start = pos;
        let Some(len) = bytes[start..].iter().position(|&b| b == b' ') else {
            return Err(Error::Format(format!(
                "entry {entry} (byte {start}): the file ends inside a word (truncated?)"
            )));
        };
        let word = std::str::from_utf8(&bytes[start..start + len])
            .map_err(|_| Error::Format(format!("entry {entry} (byte {start}): the word is not valid UTF-8")))?;
        check_word(word, &|| format!("entry {entry} (byte {start})"))?;
        pos = start + len + 1;
        let Some(raw) = bytes.get(pos..pos + row_bytes) else {
            return Err(Error::Format(format!(
                "entry {entry} ({word:?}): the file ends inside its vector of {dim} values (truncated?)"
            )));
        };
        for c in raw.chunks_exact(4) {
            let x = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            if !x.is_finite() {
                return Err(Error::NonFinite(format!("entry {entry}: a value of word {word:?}")));
            }
            data.push(x);
        }
        words.push(word.to_string());
        pos += row_bytes;
    }
    if limit.is_none() && !bytes[pos.min(bytes.len())..].iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Format(format!("the header declares {n} words but the file has more data after them")));
    }
    Ok(KeyedVectors::assemble(words, data, dim))
}
