//! The reader of fastText's native model files (`.bin`): the word vectors and the [`Subwords`] for unknown words.
//!
//! Layout (little-endian, as fastText writes it on x86), in the format of fastText ≥ 0.9 (magic `793712314`,
//! version 11 or 12) and in the older one without magic, version, `pruneidx_size` and `quant` that gensim also
//! reads (such files start directly with `dim`):
//!
//! | part | content |
//! |---|---|
//! | header | `i32` magic, `i32` version |
//! | args | `i32` dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate; `f64` t |
//! | dictionary | `i32` size, nwords, nlabels; `i64` ntokens, pruneidx_size; `size` × (word bytes, `0`, `i64` count, `i8` type); `pruneidx_size` × 2 `i32` |
//! | input | `u8` quant (1: a quantized `.ftz`, refused), `i64` rows (`nwords + bucket`), `i64` cols (`dim`), the `f32` rows |
//! | output | `u8` qout, `i64` rows, `i64` cols, the `f32` rows (checked for size, not kept) |
//!
//! Every count is checked against the bytes left before anything is allocated: a truncated or corrupt file is an
//! [`Error::Format`] naming what is wrong and where. Word vectors are gensim's (`load_facebook_vectors`): the mean of
//! the word's row and its n-gram rows (see [`super::subwords`]); labels of supervised models are not words.

use super::formats::LoadOptions;
use super::subwords::Subwords;
use super::vectors::{KeyedVectors, check_word};
use crate::{Cancel, Error, Result};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use std::borrow::Cow;

/// fastText's file magic (`FASTTEXT_FILEFORMAT_MAGIC_INT32`).
pub(crate) const MAGIC: i32 = 793_712_314;

/// Whether `bytes` start like a fastText model: the magic, or (the old format) plausible training arguments.
pub(crate) fn looks_like_fasttext(bytes: &[u8]) -> bool {
    let int = |k: usize| bytes.get(4 * k..4 * k + 4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if int(0) == Some(MAGIC) {
        return true;
    }
    // Old format: dim, ws, epoch, minCount, neg, wordNgrams, loss (1..=4), model (1..=3), bucket, minn, maxn.
    let Some(a) = (0..11).map(int).collect::<Option<Vec<i32>>>() else { return false };
    (1..=1 << 16).contains(&a[0])
        && a[1..6].iter().all(|&x| (0..=1 << 20).contains(&x))
        && (1..=4).contains(&a[6])
        && (1..=3).contains(&a[7])
        && a[8] >= 0
        && (0..=64).contains(&a[9])
        && (0..=64).contains(&a[10])
}

/// A cursor over the file that names the part being read in its errors.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            Error::Format(format!("fastText model: the file ends inside {what} at byte {} (truncated?)", self.pos))
        })?;
        let part = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(part)
    }

    fn i32(&mut self, what: &str) -> Result<i32> {
        let b = self.take(4, what)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self, what: &str) -> Result<i64> {
        let b = self.take(8, what)?;
        Ok(i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// A count read as `i32`/`i64` that must be within `0..=max` (what the bytes left can hold).
    fn count(&self, value: i64, what: &str, max: usize) -> Result<usize> {
        usize::try_from(value).ok().filter(|&v| v <= max).ok_or_else(|| {
            Error::Format(format!("fastText model: {what} is {value}, impossible in the {} bytes left", self.left()))
        })
    }

    /// A matrix header (`i64` rows, `i64` cols) and its `f32` data, checked against `rows × cols` wanted.
    fn matrix(&mut self, what: &str, rows: usize, cols: usize) -> Result<&'a [u8]> {
        let (m, n) = (self.i64(what)?, self.i64(what)?);
        if (m, n) != (rows as i64, cols as i64) {
            return Err(Error::Format(format!("fastText model: the {what} is {m} × {n}, expected {rows} × {cols}")));
        }
        let size = rows.checked_mul(cols).and_then(|e| e.checked_mul(4));
        let size = size.filter(|&s| s <= self.left()).ok_or_else(|| {
            Error::Format(format!("fastText model: the file ends inside the {what} of {rows} × {cols} (truncated?)"))
        })?;
        self.take(size, what)
    }
}

/// The `f32` matrix of `raw` (`rows × cols` little-endian values), checked finite.
fn floats(raw: &[u8], rows: usize, cols: usize, what: &str) -> Result<Array2<f32>> {
    let data: Vec<f32> = raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("fastText model: value {i} of the {what}")));
    }
    Array2::from_shape_vec((rows, cols), data).map_err(|e| Error::Format(format!("fastText model: {e}")))
}

/// Reads a fastText model (see the [module documentation](self)).
pub(crate) fn parse_fasttext(bytes: &[u8], options: &LoadOptions, cancel: &Cancel) -> Result<KeyedVectors> {
    let mut r = Reader { bytes, pos: 0 };
    let new_format = bytes.get(..4) == Some(&MAGIC.to_le_bytes()[..]);
    if new_format {
        r.take(4, "the magic")?;
        let version = r.i32("the version")?;
        if !(11..=12).contains(&version) {
            return Err(Error::Format(format!("fastText model: version {version} (versions 11 and 12 are read)")));
        }
    } else if !looks_like_fasttext(bytes) {
        return Err(Error::Format("not a fastText model (no magic number, no plausible header)".into()));
    }
    let mut args = [0i32; 12];
    for a in &mut args {
        *a = r.i32("the training arguments")?;
    }
    r.take(8, "the training arguments")?;
    let [dim, _ws, _epoch, _min_count, _neg, _word_ngrams, _loss, _model, bucket, minn, maxn, _lr_update] = args;
    let arg = |v: i32, name: &str| {
        usize::try_from(v).map_err(|_| Error::Format(format!("fastText model: {name} is {v}, negative")))
    };
    let (dim, bucket, minn, maxn) = (arg(dim, "dim")?, arg(bucket, "bucket")?, arg(minn, "minn")?, arg(maxn, "maxn")?);
    if dim == 0 {
        return Err(Error::Format("fastText model: dim is 0".into()));
    }
    if maxn > 0 && minn > maxn {
        return Err(Error::Format(format!("fastText model: minn {minn} is above maxn {maxn}")));
    }

    // Dictionary: every entry takes at least 10 bytes (a one-byte word, its 0, the count and the type).
    let size = r.i32("the dictionary")?;
    let size = r.count(size.into(), "the dictionary size", r.left() / 10)?;
    let nwords = r.i32("the dictionary")?;
    let nwords = r.count(nwords.into(), "the number of words", size)?;
    let nlabels = r.i32("the dictionary")?;
    if usize::try_from(nlabels).ok().and_then(|l| l.checked_add(nwords)) != Some(size) {
        return Err(Error::Format(format!("fastText model: {nwords} words and {nlabels} labels in {size} entries")));
    }
    r.i64("the dictionary")?;
    let pruned = if new_format { r.i64("the dictionary")? } else { 0 };
    if pruned > 0 {
        return Err(Error::Format(
            "fastText model: a pruned dictionary (of a quantized model) is not supported".into(),
        ));
    }
    let unicode = options.get_unicode_errors();
    let mut words = Vec::with_capacity(nwords);
    let mut invalid_utf8 = 0;
    for entry in 0..size {
        let start = r.pos;
        let len = bytes[start..].iter().position(|&b| b == 0).ok_or_else(|| {
            Error::Format(format!("fastText model: the file ends inside word {entry} at byte {start} (truncated?)"))
        })?;
        let raw = r.take(len + 1, "a word")?;
        r.take(9, "the dictionary")?;
        if entry < nwords {
            let word = unicode.decode(&raw[..len]).ok_or_else(|| {
                Error::Format(format!(
                    "fastText model: word {entry} (byte {start}) is not valid UTF-8 (unicode_errors \"replace\", \
                     \"ignore\" or \"backslashreplace\" decode it)"
                ))
            })?;
            invalid_utf8 += usize::from(matches!(word, Cow::Owned(_)));
            check_word(&word, &|| format!("fastText model: word {entry} (byte {start})"))?;
            words.push(word.into_owned());
        }
    }
    cancel.check("loading the vectors")?;

    let quantized = new_format && r.take(1, "the input matrix")?[0] != 0;
    if quantized {
        return Err(Error::Format(
            "fastText model: quantized (.ftz) models are not supported; use the .bin model or its .vec".into(),
        ));
    }
    let rows = nwords.checked_add(bucket).ok_or_else(|| Error::Format("fastText model: bucket too large".into()))?;
    let input = r.matrix("input matrix", rows, dim)?;
    if new_format {
        r.take(1, "the output matrix")?;
    }
    let (m, n) = (r.i64("the output matrix")?, r.i64("the output matrix")?);
    let out_size =
        usize::try_from(m).ok().zip(usize::try_from(n).ok()).and_then(|(m, n)| m.checked_mul(n)?.checked_mul(4));
    if out_size != Some(r.left()) {
        return Err(Error::Format(format!(
            "fastText model: the output matrix of {m} × {n} does not fill the {} bytes left (truncated?)",
            r.left()
        )));
    }

    let input = floats(input, rows, dim, "input matrix")?;
    let (vocab, ngrams) = input.view().split_at(Axis(0), nwords);
    let subwords = (bucket > 0).then(|| Subwords::new(minn, maxn, ngrams.to_owned())).transpose()?;
    let mut data = word_vectors(&words, vocab, subwords.as_ref(), cancel)?;
    if let Some(limit) = options.get_limit() {
        words.truncate(limit);
    }
    data.truncate(words.len() * dim);
    Ok(KeyedVectors::assemble(words, data, dim).with_invalid_utf8_words(invalid_utf8).with_subwords(subwords))
}

/// gensim's word vectors: row `i` of `vocab` averaged with the n-gram rows of word `i` (summed in order in `f32`).
fn word_vectors(
    words: &[String],
    vocab: ArrayView2<'_, f32>,
    subwords: Option<&Subwords>,
    cancel: &Cancel,
) -> Result<Vec<f32>> {
    let mut table = vocab.to_owned();
    if let Some(s) = subwords {
        oximl_kernel::install(|| {
            table.axis_chunks_iter_mut(Axis(0), 1024).into_par_iter().enumerate().try_for_each(|(c, mut block)| {
                cancel.check("loading the vectors")?;
                for (k, mut row) in block.rows_mut().into_iter().enumerate() {
                    let n = s.add_ngrams(&words[c * 1024 + k], row.view_mut());
                    row.mapv_inplace(|x| x / (n + 1) as f32);
                }
                Ok::<(), Error>(())
            })
        })?;
    }
    // Finite rows can sum past f32's range (found by the fuzzer): such a file is refused, not loaded with inf.
    if let Some((i, _)) = table.rows().into_iter().enumerate().find(|(_, r)| r.iter().any(|v| !v.is_finite())) {
        return Err(Error::Format(format!(
            "the vector of word {:?} overflows: its row and n-gram rows sum past f32's range",
            words[i]
        )));
    }
    Ok(table.into_raw_vec_and_offset().0)
}
