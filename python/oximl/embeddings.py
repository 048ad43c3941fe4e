"""Word vectors with gensim's ``KeyedVectors`` verbs, and sentence vectors ``Σv / ‖Σv‖`` over a text's known words.

>>> from oximl.embeddings import KeyedVectors
>>> kv = KeyedVectors.load_word2vec_format("vectors.txt")  # doctest: +SKIP
>>> kv["king"].shape, "queen" in kv, kv.most_similar("king", topn=3)  # doctest: +SKIP
>>> kv.embed(["the cat sat", "a dog"]).shape  # doctest: +SKIP
(2, 300)

fastText models (``.bin``, read by ``load_facebook_vectors`` or ``load``) give unknown words a vector from their
character n-grams, as gensim's ``FastTextKeyedVectors``: ``kv["unseen"]``.

Sentence-vector options (keywords of ``embed`` and ``sentence_vector``): ``oov`` is "skip" (unknown words are
ignored), "error" (an unknown word raises ``InvalidArgumentError``, a ``ValueError``), "zero" (unknown words
count as zero vectors: a text of unknown words gets a zero vector instead of none) or "subwords" (a fastText
model's n-gram vector, weight 1); ``lowercase`` and
``keep_punctuation`` configure the tokenizer (see ``tokenize``); ``lowercase_fallback`` looks an unknown word up
again lowercased; ``weights`` multiplies each word's vector (one float per table row, e.g. ``kv.sif_weights()``).
A text without a known word has no direction: ``embed`` gives it a zero row (``return_found=True`` tells which),
``sentence_vector`` returns None.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Iterable, Sequence, Union

import numpy as np

from oximl import _oximl
from oximl._config import dumps
from oximl.errors import ShapeError

__all__ = ["KeyedVectors", "load_facebook_vectors", "tokenize"]

PathLike = Union[str, "os.PathLike[str]"]
Text = Union[str, Sequence[str]]


def load_facebook_vectors(path: PathLike, unicode_errors: str | None = None) -> KeyedVectors:
    """gensim's ``load_facebook_vectors``: a fastText model (``.bin``), whose unknown words get vectors from their
    character n-grams (``kv["unseen"]``, ``embed(..., oov="subwords")``). gensim decodes invalid UTF-8 words with
    ``unicode_errors="backslashreplace"``; oximl refuses them unless asked."""
    return KeyedVectors.load(path, "fasttext_bin", None, unicode_errors)


def tokenize(text: str, lowercase: bool = False, keep_punctuation: bool = False) -> list[str]:
    """The words of ``text`` as ``embed`` splits it: runs of letters, digits, ``_`` and inner apostrophes."""
    return _oximl.tokenize_text(text, bool(lowercase), bool(keep_punctuation))


class KeyedVectors:
    """A vocabulary and one float32 vector per word (``KeyedVectors(words, vectors)``, or ``load``)."""

    def __init__(self, words: Iterable[str], vectors: Any) -> None:
        table = np.ascontiguousarray(vectors, dtype=np.float32)
        if table.ndim != 2:
            raise ShapeError(f"shape mismatch: expected vectors as a 2-D array (words x dim), got shape {table.shape}")
        self._adopt(_oximl.KeyedVectors(list(words), table))

    def _adopt(self, core: Any) -> None:
        self._core = core
        self._index_to_key: list[str] | None = None
        self._key_to_index: dict[str, int] | None = None

    @classmethod
    def _wrap(cls, core: Any) -> KeyedVectors:
        kv = cls.__new__(cls)
        kv._adopt(core)
        return kv

    @classmethod
    def load(cls, path: PathLike, format: str = "auto", limit: int | None = None,
             unicode_errors: str | None = None) -> KeyedVectors:
        """Reads word2vec text or binary, GloVe, fastText ``.vec`` or ``.bin``, or oximl files (``format="auto"``
        detects it from the content; else "word2vec_text" (or "word2vec"), "word2vec_binary", "glove",
        "fasttext", "fasttext_bin", "oximl"); ``limit`` reads only the first entries. Words that are not valid
        UTF-8 raise ``FormatError`` unless ``unicode_errors`` is "replace", "ignore" or "backslashreplace" (as
        Python's decoder; a warning gives their count, also in ``invalid_utf8_words``). A malformed file raises
        ``FormatError`` (an ``OSError``) naming the line; a NaN or infinite value ``NonFiniteError``. Ctrl-C stops
        it (``KeyboardInterrupt``)."""
        options: dict[str, Any] = {"format": format, "limit": limit}
        if unicode_errors is not None:
            options["unicode_errors"] = unicode_errors
        kv = cls._wrap(_oximl.KeyedVectors.load(os.fspath(path), dumps("load options", options)))
        if kv.invalid_utf8_words:
            warnings.warn(f"{os.fspath(path)}: {kv.invalid_utf8_words} words were not valid UTF-8 and were decoded "
                          f"with unicode_errors={unicode_errors!r}", UnicodeWarning, stacklevel=2)
        return kv

    @classmethod
    def load_word2vec_format(cls, fname: PathLike, binary: bool = False, limit: int | None = None,
                             no_header: bool = False, unicode_errors: str | None = None) -> KeyedVectors:
        """gensim's loader: word2vec text, or binary with ``binary=True``; ``no_header=True`` for GloVe files;
        ``unicode_errors`` as gensim's ("strict" unless given)."""
        fmt = "glove" if no_header else "word2vec_binary" if binary else "word2vec_text"
        return cls.load(fname, fmt, limit, unicode_errors)

    def save(self, path: PathLike) -> None:
        """Writes the oximl format, the fastest to load again."""
        self._core.save(os.fspath(path), "oximl")

    def save_word2vec_format(self, fname: PathLike, binary: bool = False) -> None:
        self._core.save(os.fspath(fname), "word2vec_binary" if binary else "word2vec_text")

    def __len__(self) -> int:
        return len(self._core)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._core

    def __getitem__(self, key: str | Sequence[str]) -> np.ndarray:
        """The vector of a word (a copy), or a (len(keys), dim) matrix for a list of words. An unknown word gets
        its character n-gram vector in a fastText model (as gensim), else ``KeyError``."""
        if isinstance(key, str):
            v = self._core.word_vector(key)
            if v is None:
                raise KeyError(f"word {key!r} not in vocabulary")
            return v
        return np.stack([self[k] for k in key]) if len(key) else np.zeros((0, self.vector_size), np.float32)

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} words, vector_size={self.vector_size})"

    @property
    def vector_size(self) -> int:
        return self._core.dim

    @property
    def index_to_key(self) -> list[str]:
        """The words in row order."""
        if self._index_to_key is None:
            self._index_to_key = self._core.words
        return self._index_to_key

    @property
    def key_to_index(self) -> dict[str, int]:
        if self._key_to_index is None:
            self._key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        return self._key_to_index

    @property
    def vectors(self) -> np.ndarray:
        """The table (words × vector_size, float32) as a read-only view, without a copy."""
        return self._core.vectors

    @property
    def invalid_utf8_words(self) -> int:
        """How many words of the file were not valid UTF-8 and were decoded by ``unicode_errors``."""
        return self._core.invalid_utf8_words

    @property
    def subwords(self) -> tuple[int, int, int] | None:
        """``(min_n, max_n, buckets)`` of a fastText model's character n-grams, or None for other tables."""
        return self._core.subwords

    @property
    def duplicates(self) -> tuple[int, list[str]]:
        """How many duplicated words the file had (the first occurrence was kept) and the first few."""
        return self._core.duplicates

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words (0 if either vector is zero)."""
        return self._core.similarity(w1, w2)

    def most_similar(self, positive: Any = None, negative: Any = None, topn: int = 10,
                     exclude: Iterable[str] = ()) -> Any:
        """The ``topn`` words nearest by cosine as (word, similarity), best first.

        ``positive`` is a word, a vector, a list of words and vectors (with ``negative``, gensim's analogy: the
        query is the sum of the unit-normalized positives minus the negatives, and the words given are left out),
        or a 2-D array of query vectors (one result list per row). ``exclude`` leaves out more words.
        """
        exclude = list(exclude)
        if isinstance(positive, str) and negative is None:
            return self._core.most_similar_word(positive, int(topn), exclude)
        if isinstance(positive, np.ndarray) and positive.ndim in (1, 2) and negative is None:
            queries = np.ascontiguousarray(positive, dtype=np.float32)
            found = self._core.most_similar_vectors(queries.reshape(-1, queries.shape[-1]), int(topn), exclude)
            return found if queries.ndim == 2 else found[0]
        positive, negative = self._terms(positive), self._terms(negative)
        return self._core.most_similar_combined(positive, negative, int(topn), exclude)

    def _terms(self, x: Any) -> list[Any]:
        """Words (a ``KeyError`` for one not in the table, as gensim) and vectors as float32 arrays."""
        if x is None:
            return []
        if isinstance(x, str) or (isinstance(x, np.ndarray) and x.ndim == 1):
            x = [x]
        terms: list[Any] = []
        for t in x:
            if isinstance(t, str):
                if t not in self:
                    raise KeyError(f"word {t!r} not in vocabulary")
                terms.append(t)
            else:
                terms.append(np.ascontiguousarray(t, dtype=np.float32))
        return terms

    def embed(self, texts: Iterable[Text], *, oov: str = "skip", lowercase: bool = False,
              keep_punctuation: bool = False, lowercase_fallback: bool = False, weights: Any = None,
              return_found: bool = False) -> Any:
        """Sentence vectors of many texts, (len(texts), vector_size) float32, computed in parallel with the GIL
        released (Ctrl-C stops it: ``KeyboardInterrupt``). Each text is a string (split by the tokenizer) or a list of tokens (all of one kind). With
        ``return_found=True``, also a bool array telling which texts had a known word."""
        texts = list(texts)
        w = None if weights is None else np.ascontiguousarray(weights, dtype=np.float32)
        options = {"oov": oov, "lowercase_fallback": bool(lowercase_fallback)}
        if texts and not isinstance(texts[0], str):
            vectors, found = self._core.embed_tokens(texts, dumps("embed options", options), w)
        else:
            options["tokenizer"] = {"lowercase": bool(lowercase), "keep_punctuation": bool(keep_punctuation)}
            vectors, found = self._core.embed(texts, dumps("embed options", options), w)
        return (vectors, np.array(found, dtype=bool)) if return_found else vectors

    def sentence_vector(self, text: Text, **options: Any) -> np.ndarray | None:
        """``Σv / ‖Σv‖`` over the known words of ``text`` (a string or a list of tokens), or None if it has none;
        the keywords of ``embed`` apply."""
        vectors, found = self.embed([text], return_found=True, **options)
        return vectors[0] if found[0] else None

    def sif_weights(self, a: float = 1e-3, counts: dict[str, float] | None = None) -> np.ndarray:
        """Smooth-inverse-frequency weights ``a / (a + p(w))`` per row, for ``embed(..., weights=...)``: p from
        ``counts`` (word → count), or from Zipf's law over the row order (files sorted by frequency)."""
        return self._core.sif_weights(float(a), None if counts is None else {str(k): float(v) for k, v in counts.items()})

    def __getstate__(self) -> dict[str, Any]:
        return {"bytes": self._core.to_bytes()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._adopt(_oximl.KeyedVectors.from_bytes(state["bytes"]))
