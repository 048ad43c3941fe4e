//! Reading and writing word-vector files: word2vec text and binary, GloVe text, fastText `.vec`, and the oximl
//! format.
//!
//! | format | header line | rows |
//! |---|---|---|
//! | word2vec text, fastText `.vec` | `<words> <dims>` | `word v1 v2 …` |
//! | GloVe | none | `word v1 v2 …` (the first row sets the dimension) |
//! | word2vec binary | `<words> <dims>` | `word` + space + `dims` little-endian `f32` (+ an optional newline) |
//! | fastText model (`.bin`, read only) | see [`super::fasttext`] | words, n-gram buckets |
//! | oximl | safetensors, kind `"embeddings"` | tensor `vectors` (`F32`, words × dims) and tensor `vocab` (`U8`: the words in row order, UTF-8, joined by `\n`); config `{"words": n, "dim": d}`; for a fastText model also tensor `ngrams` (`F32`, buckets × dims) and config `"subwords": {"minn": 3, "maxn": 6}` |
//!
//! Detection ([`VectorFormat::Auto`]) looks at the content only: a safetensors header → oximl; fastText's magic
//! number, or a plausible header of its older format → fastText `.bin`; a first line of
//! two integers → word2vec (text if the next line is a word and `dims` numbers, binary otherwise); anything else
//! → GloVe. (A GloVe file whose first row is a 1-dimensional vector for a number-word, like `7 0.5`, reads as a
//! header: name the format explicitly for such files.) fastText `.vec` is the word2vec text syntax.
//!
//! Fields are separated by spaces or tabs, `\r\n` line ends are accepted, blank lines are skipped. Every row must
//! have exactly `dims` numbers; every value must be finite; words must be UTF-8 (or decoded by
//! [`LoadOptions::unicode_errors`], as gensim's `unicode_errors`); the number of rows must match the
//! header (unless `limit` stops reading first); a text line may not exceed 1 MiB (or 64 bytes per value the
//! header declares, if more). Errors name the line (text) or the entry and byte offset (binary). Files are
//! memory-mapped, and text rows are parsed in parallel on the library's pool.
//!
//! Format names (serde, JSON from C, `format=` in Python): `"auto"`, `"word2vec_text"` (also accepted:
//! `"word2vec"`, the former Python spelling), `"word2vec_binary"`, `"glove"`, `"fasttext"`, `"fasttext_bin"`,
//! `"oximl"`.
//!
//! Two families of entry points: [`KeyedVectors::read`] reads any of these formats (detected or named), and the
//! [`Persist`] methods (`save`, `load`, `to_bytes`, `from_bytes`) handle the oximl format only, as for every
//! model kind.

use super::fasttext::{looks_like_fasttext, parse_fasttext};
use super::parse::{fields, line_limit, parse_binary, parse_header, parse_text, split_line};
use super::subwords::Subwords;
use super::vectors::KeyedVectors;
use crate::io::{self, Loaded, Persist, Storage, TensorRef};
use crate::{Cancel, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

/// A word-vector file format.
///
/// ```
/// use oximl_core::embed::{KeyedVectors, LoadOptions, VectorFormat};
/// let kv = KeyedVectors::read_bytes(b"a 1 2\nb 3 4\n", &LoadOptions::default()).unwrap();
/// assert_eq!(kv.dim(), 2);
/// assert_eq!(VectorFormat::detect(b"a 1 2\n").unwrap(), VectorFormat::Glove);
/// let old: VectorFormat = serde_json::from_str("\"word2vec\"").unwrap(); // the former Python spelling
/// assert_eq!(old, VectorFormat::Word2VecText);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorFormat {
    /// Decide from the content (see the [module documentation](self)).
    #[default]
    Auto,
    /// word2vec text: a `<words> <dims>` header line, then one word and its values per line (`"word2vec_text"`,
    /// or `"word2vec"`).
    #[serde(rename = "word2vec_text", alias = "word2vec")]
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
    /// fastText's native model (`.bin`, read only): the word vectors and the [`Subwords`] that give unknown
    /// words a vector (see [`super::fasttext`]).
    #[serde(rename = "fasttext_bin")]
    FastTextBin,
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
        if looks_like_fasttext(bytes) {
            return Ok(VectorFormat::FastTextBin);
        }
        let header = split_line(bytes, line_limit(0)).and_then(|(first, rest)| Some((parse_header(first)?, rest)));
        let Some(((_, dim), rest)) = header else {
            return Ok(VectorFormat::Glove);
        };
        let second = split_line(rest, line_limit(dim)).map(|(second, _)| second);
        let is_text = second.map(String::from_utf8_lossy).is_some_and(|line| {
            let mut fields = fields(&line);
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

/// What to do with a word whose bytes are not valid UTF-8, as Python's (and gensim's) `unicode_errors`:
/// `"strict"` (the default: an [`Error::Format`] naming the line or entry), `"replace"` (each invalid sequence
/// becomes U+FFFD, as Python's decoder does), `"ignore"` (invalid bytes are dropped) or `"backslashreplace"`
/// (each invalid byte becomes `\xNN`, what gensim's `load_facebook_vectors` falls back to). The words decoded so
/// are counted: [`KeyedVectors::invalid_utf8_words`].
///
/// ```
/// use oximl_core::embed::UnicodeErrors;
/// assert_eq!(UnicodeErrors::Replace.decode(b"caf\xe9").as_deref(), Some("caf\u{fffd}"));
/// assert_eq!(UnicodeErrors::Ignore.decode(b"caf\xe9").as_deref(), Some("caf"));
/// assert_eq!(UnicodeErrors::BackslashReplace.decode(b"caf\xe9").as_deref(), Some("caf\\xe9"));
/// assert_eq!(UnicodeErrors::Strict.decode(b"caf\xe9"), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnicodeErrors {
    /// Invalid UTF-8 is an error.
    #[default]
    Strict,
    /// Each maximal invalid sequence becomes U+FFFD (`String::from_utf8_lossy`, the same as Python).
    Replace,
    /// Invalid bytes are dropped.
    Ignore,
    /// Each invalid byte becomes `\xNN` (two lowercase hex digits).
    #[serde(rename = "backslashreplace")]
    BackslashReplace,
}

impl UnicodeErrors {
    /// `bytes` as text: borrowed if valid UTF-8, owned if decoded by the policy, `None` if invalid under
    /// [`UnicodeErrors::Strict`].
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use oximl_core::embed::UnicodeErrors;
    /// assert!(matches!(UnicodeErrors::Strict.decode(b"ok"), Some(Cow::Borrowed("ok"))));
    /// ```
    pub fn decode(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        if let Ok(s) = std::str::from_utf8(bytes) {
            return Some(Cow::Borrowed(s));
        }
        match self {
            UnicodeErrors::Strict => None,
            UnicodeErrors::Replace => Some(Cow::Owned(String::from_utf8_lossy(bytes).into_owned())),
            UnicodeErrors::Ignore => Some(Cow::Owned(bytes.utf8_chunks().map(|c| c.valid()).collect())),
            UnicodeErrors::BackslashReplace => Some(Cow::Owned(bytes.utf8_chunks().fold(String::new(), |mut s, c| {
                s.push_str(c.valid());
                c.invalid().iter().for_each(|b| s.push_str(&format!("\\x{b:02x}")));
                s
            }))),
        }
    }
}

/// How to read a word-vector file.
///
/// ```
/// use oximl_core::embed::{LoadOptions, UnicodeErrors, VectorFormat};
/// let o = LoadOptions::default().format(VectorFormat::Glove).limit(100_000).unicode_errors(UnicodeErrors::Ignore);
/// assert_eq!(o.get_limit(), Some(100_000));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadOptions {
    format: VectorFormat,
    limit: Option<usize>,
    unicode_errors: UnicodeErrors,
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
    /// let kv = KeyedVectors::read_bytes(b"a 1\nb 2\nc 3\n", &LoadOptions::default().limit(2)).unwrap();
    /// assert_eq!(kv.words(), ["a", "b"]);
    /// ```
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// How words that are not valid UTF-8 are decoded (default [`UnicodeErrors::Strict`]: an error).
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, LoadOptions, UnicodeErrors};
    /// let o = LoadOptions::default().unicode_errors(UnicodeErrors::Replace);
    /// let kv = KeyedVectors::read_bytes(b"caf\xe9 1\n", &o).unwrap();
    /// assert_eq!((kv.words(), kv.invalid_utf8_words()), (&["caf\u{fffd}".to_string()][..], 1));
    /// ```
    pub fn unicode_errors(mut self, policy: UnicodeErrors) -> Self {
        self.unicode_errors = policy;
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

    /// The decoding policy set.
    ///
    /// ```
    /// use oximl_core::embed::{LoadOptions, UnicodeErrors};
    /// assert_eq!(LoadOptions::default().get_unicode_errors(), UnicodeErrors::Strict);
    /// ```
    pub fn get_unicode_errors(&self) -> UnicodeErrors {
        self.unicode_errors
    }
}

/// The one place where embeddings open a file: a memory map of `path` (adopt the io module's safe opener here).
fn open(path: &Path) -> Result<Storage> {
    Storage::open(path)
}

/// Adds the file's path to a format or value error.
fn in_file(path: &Path, e: Error) -> Error {
    match e {
        Error::Format(m) => Error::Format(format!("{}: {m}", path.display())),
        Error::NonFinite(m) => Error::NonFinite(format!("{}: {m}", path.display())),
        other => other,
    }
}

impl KeyedVectors {
    /// Reads a word-vector file (memory-mapped) in any [`VectorFormat`], detected from the content unless
    /// `options` name it. (For oximl files only, [`Persist::load`] does the same.)
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, LoadOptions};
    /// let path = std::env::temp_dir().join("oximl-doc-read.txt");
    /// std::fs::write(&path, "2 2\nking 1 2\nqueen 1.5 2\n").unwrap();
    /// let kv = KeyedVectors::read(&path, &LoadOptions::default()).unwrap();
    /// assert_eq!(kv.words(), ["king", "queen"]);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn read(path: impl AsRef<Path>, options: &LoadOptions) -> Result<KeyedVectors> {
        Self::read_cancellable(path, options, &Cancel::new())
    }

    /// [`KeyedVectors::read`] that stops with [`Error::Cancelled`] soon after `cancel` is cancelled (polled every
    /// block of lines or entries).
    ///
    /// ```
    /// use oximl_core::{Cancel, embed::{KeyedVectors, LoadOptions}};
    /// let path = std::env::temp_dir().join("oximl-doc-read-cancel.txt");
    /// std::fs::write(&path, "a 1 2\n").unwrap();
    /// let cancel = Cancel::new();
    /// cancel.cancel();
    /// assert!(KeyedVectors::read_cancellable(&path, &LoadOptions::default(), &cancel).is_err());
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn read_cancellable(path: impl AsRef<Path>, options: &LoadOptions, cancel: &Cancel) -> Result<KeyedVectors> {
        let path = path.as_ref();
        let storage = open(path)?;
        cancel.check("loading the vectors")?;
        decode(storage.bytes(), options, cancel).map_err(|e| in_file(path, e))
    }

    /// Parses a word-vector file held in memory, in any [`VectorFormat`] (detected unless `options` name it).
    ///
    /// ```
    /// use oximl_core::embed::{KeyedVectors, LoadOptions};
    /// let e = KeyedVectors::read_bytes(b"2 2\na 1 2\n", &LoadOptions::default()).unwrap_err();
    /// assert!(e.to_string().contains("header declares 2 words"));
    /// ```
    pub fn read_bytes(bytes: &[u8], options: &LoadOptions) -> Result<KeyedVectors> {
        decode(bytes, options, &Cancel::new())
    }

    /// Writes the table, atomically, in `format`: word2vec / fastText `.vec` ([`VectorFormat::Word2VecText`],
    /// [`VectorFormat::FastText`], with the header line), GloVe ([`VectorFormat::Glove`]), word2vec binary
    /// ([`VectorFormat::Word2VecBinary`]) or oximl (as [`Persist::save`]). Text values are written in the
    /// shortest form that reads back to the same `f32`.
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
            VectorFormat::FastTextBin => {
                return Err(Error::invalid("format", "fastText models are read, not written (save as oximl)"));
            }
            VectorFormat::Glove => false,
            _ => true,
        };
        let binary = format == VectorFormat::Word2VecBinary;
        if self.index_of("").is_some() {
            return Err(Error::invalid("words", "the empty word cannot be written in a text or word2vec format"));
        }
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

/// Any format, from bytes.
fn decode(bytes: &[u8], options: &LoadOptions, cancel: &Cancel) -> Result<KeyedVectors> {
    if options.get_limit() == Some(0) {
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
        VectorFormat::Oximl => KeyedVectors::from_bytes(bytes),
        VectorFormat::Word2VecBinary => parse_binary(bytes, options, cancel),
        VectorFormat::FastTextBin => parse_fasttext(bytes, options, cancel),
        VectorFormat::Glove => parse_text(bytes, false, options, cancel),
        _ => parse_text(bytes, true, options, cancel),
    }
}

/// The oximl format of embeddings (kind `"embeddings"`; see the [module documentation](self)): `save`, `load`,
/// `to_bytes` and `from_bytes` read and write it only ([`KeyedVectors::read`] reads every format).
///
/// ```
/// use oximl_core::{Persist, embed::KeyedVectors};
/// let kv = KeyedVectors::new(vec!["a".into()], ndarray::array![[1.0f32, 2.0]]).unwrap();
/// let path = std::env::temp_dir().join("oximl-doc-kv.oximl");
/// kv.save(&path).unwrap();
/// assert_eq!(KeyedVectors::load(&path).unwrap().vectors(), kv.vectors());
/// assert_eq!(KeyedVectors::from_bytes(&kv.to_bytes().unwrap()).unwrap().words(), kv.words());
/// # std::fs::remove_file(&path).unwrap();
/// ```
impl Persist for KeyedVectors {
    const KIND: &'static str = "embeddings";

    fn with_tensors<R>(&self, f: impl FnOnce(&Value, &[(&str, TensorRef<'_>)]) -> Result<R>) -> Result<R> {
        let mut config =
            serde_json::json!({"words": self.len(), "dim": self.dim(), "vocab": "UTF-8 words joined by \\n"});
        let vocab = self.words().join("\n").into_bytes();
        let mut tensors = vec![("vectors", TensorRef::new(self.vectors())), ("vocab", TensorRef::bytes(&vocab))];
        if let Some(s) = self.subwords() {
            config["subwords"] = serde_json::json!({"minn": s.minn(), "maxn": s.maxn()});
            tensors.push(("ngrams", TensorRef::new(s.ngrams())));
        }
        f(&config, &tensors)
    }

    fn from_loaded(l: &Loaded) -> Result<KeyedVectors> {
        let size = |key: &str| l.config().get(key).and_then(Value::as_u64).and_then(|v| usize::try_from(v).ok());
        let (Some(n), Some(dim)) = (size("words"), size("dim")) else {
            return Err(Error::Format("embeddings config needs integer `words` and `dim`".into()));
        };
        let vocab = std::str::from_utf8(l.bytes("vocab")?)
            .map_err(|e| Error::Format(format!("tensor `vocab` is not UTF-8: {e}")))?;
        let words: Vec<String> = if n == 0 { Vec::new() } else { vocab.split('\n').map(str::to_string).collect() };
        if words.len() != n {
            return Err(Error::Format(format!("tensor `vocab` holds {} words, config says {n}", words.len())));
        }
        let vectors = l.matrix::<f32>("vectors", Some(n), Some(dim))?;
        let kv = KeyedVectors::new(words, vectors).map_err(|e| Error::Format(format!("invalid embeddings: {e}")))?;
        let Some(sub) = l.config().get("subwords") else { return Ok(kv) };
        let len = |key: &str| sub.get(key).and_then(Value::as_u64).and_then(|v| usize::try_from(v).ok());
        let (Some(minn), Some(maxn)) = (len("minn"), len("maxn")) else {
            return Err(Error::Format("embeddings config: `subwords` needs integer `minn` and `maxn`".into()));
        };
        let ngrams = l.matrix::<f32>("ngrams", None, Some(dim))?;
        let subwords =
            Subwords::new(minn, maxn, ngrams).map_err(|e| Error::Format(format!("invalid subwords: {e}")))?;
        Ok(kv.with_subwords(Some(subwords)))
    }
}
