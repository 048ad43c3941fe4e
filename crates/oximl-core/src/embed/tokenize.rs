//! Splitting text into words.
//!
//! A word is a maximal run of letters, digits (any script: [`char::is_alphanumeric`]), `_` and combining marks;
//! an apostrophe (`'` or `’`) between two word characters stays inside the word (`don't`). Everything else —
//! whitespace, punctuation, symbols — separates words; punctuation and symbols are dropped, or kept as
//! one-character tokens with [`TokenizeOptions::keep_punctuation`]. With [`TokenizeOptions::lowercase`] words are
//! lowercased with Unicode rules ([`str::to_lowercase`]).

use serde::{Deserialize, Serialize};

/// How [`tokenize`] splits text.
///
/// ```
/// use oximl_core::embed::{tokenize, TokenizeOptions};
/// let o = TokenizeOptions::default().lowercase(true).keep_punctuation(true);
/// assert_eq!(tokenize("Hi, Zoë!", &o), ["hi", ",", "zoë", "!"]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenizeOptions {
    lowercase: bool,
    keep_punctuation: bool,
}

impl TokenizeOptions {
    /// Lowercase every token (default: off, the case is kept).
    ///
    /// ```
    /// use oximl_core::embed::{tokenize, TokenizeOptions};
    /// assert_eq!(tokenize("ÉTÉ", &TokenizeOptions::default().lowercase(true)), ["été"]);
    /// ```
    pub fn lowercase(mut self, yes: bool) -> Self {
        self.lowercase = yes;
        self
    }

    /// Emit each punctuation or symbol character as a token of its own (default: dropped).
    ///
    /// ```
    /// use oximl_core::embed::{tokenize, TokenizeOptions};
    /// assert_eq!(tokenize("a.b", &TokenizeOptions::default().keep_punctuation(true)), ["a", ".", "b"]);
    /// ```
    pub fn keep_punctuation(mut self, yes: bool) -> Self {
        self.keep_punctuation = yes;
        self
    }
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

#[inline]
fn is_word_char(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_alphanumeric() || c == '_' } else { c.is_alphanumeric() || is_combining_mark(c) }
}

/// Calls `f` on every token of `text` in order, lowercasing into `buf` when asked (no allocation per token once
/// `buf` has grown). Stops at the first error `f` returns.
pub(crate) fn for_each_token<E>(
    text: &str,
    opts: &TokenizeOptions,
    buf: &mut String,
    mut f: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let mut emit = |token: &str, f: &mut dyn FnMut(&str) -> Result<(), E>| {
        if !opts.lowercase {
            return f(token);
        }
        if token.is_ascii() {
            if !token.bytes().any(|b| b.is_ascii_uppercase()) {
                return f(token);
            }
            buf.clear();
            buf.push_str(token);
            buf.make_ascii_lowercase();
        } else {
            buf.clear();
            buf.extend(token.chars().flat_map(char::to_lowercase));
            // `str::to_lowercase` also handles a word-final Σ → ς; match it exactly.
            if token.contains('Σ') {
                *buf = token.to_lowercase();
            }
        }
        f(buf)
    };
    let mut start: Option<usize> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_word_char(c) {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start {
            let joins = matches!(c, '\'' | '’') && chars.peek().is_some_and(|&(_, n)| is_word_char(n));
            if joins {
                continue;
            }
            emit(&text[s..i], &mut f)?;
            start = None;
        }
        if opts.keep_punctuation && !c.is_whitespace() && !c.is_control() {
            emit(&text[i..i + c.len_utf8()], &mut f)?;
        }
    }
    if let Some(s) = start {
        emit(&text[s..], &mut f)?;
    }
    Ok(())
}

/// Splits `text` into tokens (see the [module documentation](self) for the rules).
///
/// ```
/// use oximl_core::embed::{tokenize, TokenizeOptions};
/// assert_eq!(tokenize("Don't stop—the 2 trains", &TokenizeOptions::default()), ["Don't", "stop", "the", "2", "trains"]);
/// assert_eq!(tokenize("東京 über", &TokenizeOptions::default()), ["東京", "über"]);
/// assert!(tokenize("  ...  ", &TokenizeOptions::default()).is_empty());
/// ```
pub fn tokenize(text: &str, opts: &TokenizeOptions) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let _ = for_each_token::<()>(text, opts, &mut buf, |t| {
        out.push(t.to_string());
        Ok(())
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let d = TokenizeOptions::default();
        assert_eq!(tokenize("", &d), Vec::<String>::new());
        assert_eq!(tokenize("New_York's 'quoted' x'", &d), ["New_York's", "quoted", "x"]);
        assert_eq!(tokenize("cafe\u{301} naïve", &d), ["cafe\u{301}", "naïve"]);
        let l = d.lowercase(true);
        assert_eq!(tokenize("ΟΔΟΣ Straße ABC abc", &l), ["οδος", "straße", "abc", "abc"]);
        let p = d.keep_punctuation(true);
        assert_eq!(tokenize("(a) $5", &p), ["(", "a", ")", "$", "5"]);
    }
}
