//! The parsers of the text formats (word2vec text, fastText `.vec`, GloVe) and of word2vec binary, over bytes
//! already in memory (see [`super::formats`] for the syntax).
//!
//! Nothing is allocated from a number the file states: reservations are capped by the bytes actually present, and
//! a text line may not exceed [`line_limit`], so a file without line breaks (or `/dev/zero`-like content) is an
//! [`Error::Format`] naming the line instead of a huge vector.

use super::formats::{LoadOptions, UnicodeErrors};
use super::vectors::{KeyedVectors, check_word};
use crate::{Cancel, Error, Result};
use rayon::prelude::*;
use std::borrow::Cow;

/// The longest text line accepted: 1 MiB, or 64 bytes per declared value when a header declares more (`dim` = 0
/// when nothing is declared; a 300-value row takes about 3 KB).
pub(crate) fn line_limit(dim: usize) -> usize {
    dim.saturating_mul(64).max(1 << 20)
}

/// The first line of `bytes` (without its `\n`) and what follows it; `None` if the line is longer than `max`
/// bytes (only `max + 1` bytes are looked at).
pub(crate) fn split_line(bytes: &[u8], max: usize) -> Option<(&[u8], &[u8])> {
    let window = &bytes[..bytes.len().min(max.saturating_add(1))];
    match window.iter().position(|&b| b == b'\n') {
        Some(i) => Some((&bytes[..i], &bytes[i + 1..])),
        None if bytes.len() <= max => Some((bytes, &[])),
        None => None,
    }
}

fn line_or_error(bytes: &[u8], max: usize, no: usize) -> Result<(&[u8], &[u8])> {
    split_line(bytes, max)
        .ok_or_else(|| Error::Format(format!("line {no}: longer than {max} bytes (not a text vector file?)")))
}

pub(crate) fn fields(line: &str) -> impl Iterator<Item = &str> {
    line.split([' ', '\t', '\r']).filter(|f| !f.is_empty())
}

/// `<words> <dims>` → both numbers, if the line is exactly that.
pub(crate) fn parse_header(line: &[u8]) -> Option<(usize, usize)> {
    let line = std::str::from_utf8(line).ok()?;
    let mut f = fields(line);
    let words = f.next()?.parse().ok()?;
    let dim = f.next()?.parse().ok()?;
    f.next().is_none().then_some((words, dim))
}

/// The header line at the start of `bytes` and what follows it.
fn header(bytes: &[u8]) -> Result<((usize, usize), &[u8])> {
    let (line, rest) = line_or_error(bytes, line_limit(0), 1)?;
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
    Ok(((words, dim), rest))
}

/// A vector reserved for `wanted` items but never more than `at_most` (what the bytes present can hold).
fn reserve<T>(wanted: usize, at_most: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(wanted.min(at_most))
        .map_err(|e| Error::Format(format!("not enough memory for the vectors: {e}")))?;
    Ok(v)
}

/// A block of parsed text rows: the words, their values, and how many words the policy decoded.
type Rows = (Vec<String>, Vec<f32>, usize);

/// Lines between cancellation polls while splitting, entries between polls in binary files.
const POLL_EVERY: usize = 1 << 16;

/// Text rows (`header` = word2vec, else GloVe).
pub(crate) fn parse_text(
    bytes: &[u8],
    header_line: bool,
    options: &LoadOptions,
    cancel: &Cancel,
) -> Result<KeyedVectors> {
    let (limit, unicode) = (options.get_limit(), options.get_unicode_errors());
    let mut rest = bytes;
    let mut lineno = 0usize;
    let mut declared = None;
    // The declared dimension sizes the line limit; 0 (none declared) is set explicitly rather than read through
    // the `Option`, whose payload the optimizer may load speculatively (valgrind reports that as uninitialised).
    let mut declared_dim = 0;
    if header_line {
        let (h, r) = header(rest)?;
        declared = Some(h);
        declared_dim = h.1;
        rest = r;
        lineno = 1;
    }
    let want = match (declared, limit) {
        (Some((n, _)), Some(l)) => n.min(l),
        (Some((n, _)), None) => n,
        (None, Some(l)) => l,
        (None, None) => usize::MAX,
    };
    let max = line_limit(declared_dim);
    // Line slices with their 1-based numbers, blank lines skipped.
    let mut lines: Vec<(usize, &[u8])> = Vec::new();
    while !rest.is_empty() && lines.len() < want {
        if lineno % POLL_EVERY == 0 {
            cancel.check("loading the vectors")?;
        }
        let (line, r) = line_or_error(rest, max, lineno + 1)?;
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
            let d = fields(&String::from_utf8_lossy(first)).count().saturating_sub(1);
            if d == 0 {
                return Err(Error::Format(format!("line {first_no}: a word without values")));
            }
            d
        }
    };
    const CHUNK: usize = 2048;
    let parts: Vec<Result<Rows>> = oximl_kernel::install(|| {
        lines
            .par_chunks(CHUNK)
            .map(|chunk| {
                cancel.check("loading the vectors")?;
                // Every value takes at least two bytes (a separator and a digit).
                let room = chunk.iter().map(|(_, l)| l.len() / 2).sum();
                let mut data = reserve(chunk.len().saturating_mul(dim), room)?;
                let mut words = Vec::with_capacity(chunk.len());
                let mut invalid = 0;
                for &(no, line) in chunk {
                    let word = parse_row(no, line, dim, unicode, &mut data)?;
                    invalid += usize::from(matches!(word, Cow::Owned(_)));
                    words.push(word.into_owned());
                }
                Ok((words, data, invalid))
            })
            .collect()
    });
    let mut words = Vec::with_capacity(lines.len());
    let mut data = reserve(lines.len().saturating_mul(dim), bytes.len() / 2)?;
    let mut invalid_utf8 = 0;
    for part in parts {
        let (w, d, invalid) = part?;
        words.extend(w);
        data.extend(d);
        invalid_utf8 += invalid;
    }
    Ok(KeyedVectors::assemble(words, data, dim).with_invalid_utf8_words(invalid_utf8))
}

/// Appends the `dim` values of text row `line` (number `no`) to `data` and returns its word, decoded by `policy`
/// (owned if it was not valid UTF-8). As gensim, the word is what precedes the first separator, even if decoding
/// leaves it empty; the values must be UTF-8.
fn parse_row<'a>(
    no: usize,
    line: &'a [u8],
    dim: usize,
    policy: UnicodeErrors,
    data: &mut Vec<f32>,
) -> Result<Cow<'a, str>> {
    let separator = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
    let start = line.iter().position(|b| !separator(b)).unwrap_or(line.len());
    let end = line[start..].iter().position(separator).map_or(line.len(), |e| start + e);
    let invalid = |at: usize| {
        Error::Format(format!(
            "line {no}: invalid UTF-8 at byte {at} of the line (unicode_errors \"replace\" or \"ignore\" decode it)"
        ))
    };
    let word = policy
        .decode(&line[start..end])
        .ok_or_else(|| invalid(start + std::str::from_utf8(&line[start..end]).err().map_or(0, |e| e.valid_up_to())))?;
    let values = std::str::from_utf8(&line[end..]).map_err(|e| invalid(end + e.valid_up_to()))?;
    check_word(&word, &|| format!("line {no}"))?;
    let before = data.len();
    for v in fields(values) {
        if data.len() - before == dim {
            data.truncate(before);
            let found = fields(values).count();
            return Err(Error::Format(format!("line {no}: expected {dim} values, found {found}")));
        }
        let x: f32 = v.parse().map_err(|_| {
            Error::Format(format!("line {no}: {:?} is not a number", v.chars().take(40).collect::<String>()))
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
    Ok(word)
}

/// word2vec binary.
pub(crate) fn parse_binary(bytes: &[u8], options: &LoadOptions, cancel: &Cancel) -> Result<KeyedVectors> {
    let (limit, unicode) = (options.get_limit(), options.get_unicode_errors());
    let mut invalid_utf8 = 0;
    let ((n, dim), body) = header(bytes)?;
    let mut pos = bytes.len() - body.len();
    let want = limit.map_or(n, |l| l.min(n));
    let row_bytes = dim.checked_mul(4).ok_or_else(|| Error::Format("line 1: dimension too large".into()))?;
    // Each entry takes at least a one-byte word, a space and its values: reserve no more than the file can hold.
    let mut words = reserve(want, body.len() / row_bytes.saturating_add(2))?;
    let mut data = reserve(want.saturating_mul(dim), body.len() / 4)?;
    for entry in 1..=want {
        if entry % POLL_EVERY == 0 {
            cancel.check("loading the vectors")?;
        }
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
        let word = unicode.decode(&bytes[start..start + len]).ok_or_else(|| {
            Error::Format(format!(
                "entry {entry} (byte {start}): the word is not valid UTF-8 (unicode_errors \"replace\" or \"ignore\" decode it)"
            ))
        })?;
        invalid_utf8 += usize::from(matches!(word, Cow::Owned(_)));
        check_word(&word, &|| format!("entry {entry} (byte {start})"))?;
        pos = start + len + 1;
        let Some(raw) = bytes.get(pos..pos.saturating_add(row_bytes)) else {
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
    Ok(KeyedVectors::assemble(words, data, dim).with_invalid_utf8_words(invalid_utf8))
}
