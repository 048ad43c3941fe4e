"""oximl's loaders against gensim itself (pinned in requirements-gensim.txt): every vector file of gensim's own
test data that gensim loads with ``load_word2vec_format`` or ``load_facebook_vectors`` loads in oximl with the same
words and vectors, and fastText's vectors for unseen words equal gensim's ``FastTextKeyedVectors``."""

from __future__ import annotations

import os
import random
import warnings
from typing import Any, Callable

import numpy as np
import pytest

gensim = pytest.importorskip("gensim", reason="gensim is the reference (pip install -r requirements-gensim.txt)")
from gensim.models import KeyedVectors as GensimKV  # noqa: E402
from gensim.models.fasttext import load_facebook_vectors as gensim_facebook  # noqa: E402

from oximl.embeddings import KeyedVectors, load_facebook_vectors  # noqa: E402
from oximl.errors import FormatError  # noqa: E402

DATA = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data")
POLICIES = ["strict", "replace", "ignore"]

# oximl's format names for gensim's loaders (the loader oximl's detection must agree with).
LOADERS: dict[str, Callable[[str, str], Any]] = {
    "word2vec_text": lambda p, u: GensimKV.load_word2vec_format(p, binary=False, unicode_errors=u),
    "word2vec_binary": lambda p, u: GensimKV.load_word2vec_format(p, binary=True, unicode_errors=u),
    "glove": lambda p, u: GensimKV.load_word2vec_format(p, binary=False, no_header=True, unicode_errors=u),
    "fasttext_bin": lambda p, u: gensim_facebook(p),
}


def gensim_loads(path: str, fmt: str) -> tuple[Any, str] | None:
    """gensim's vectors of `path` read as `fmt` with the first unicode_errors that works (fastText: gensim's own
    fallback, backslashreplace), or None if gensim cannot read it so or finds no vector in it."""
    for policy in POLICIES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kv = LOADERS[fmt](path, policy)
        except Exception:  # gensim's many errors (ValueError, UnicodeDecodeError, struct.error, ...)
            if fmt == "fasttext_bin":
                return None
            continue
        if kv.vector_size == 0 or len(kv) == 0:
            return None  # a list of words (a vocabulary, an index), not vectors
        return kv, "backslashreplace" if fmt == "fasttext_bin" else policy
    return None


def small_files() -> list[str]:
    # mini_newsgroup is a text corpus gensim's fastText reader mistakes for an old model and reads for minutes.
    return sorted(f for f in os.listdir(DATA) if os.path.isfile(os.path.join(DATA, f)) and f != "mini_newsgroup"
                  and os.path.getsize(os.path.join(DATA, f)) < 4_000_000)


def test_gensims_test_data_loads_with_the_same_words_and_vectors() -> None:
    compared = []
    for f in small_files():
        path = os.path.join(DATA, f)
        for fmt in LOADERS:
            loaded = gensim_loads(path, fmt)
            if loaded is None:
                continue
            ref, policy = loaded
            if fmt == "word2vec_binary" and gensim_loads(path, "word2vec_text") is not None:
                continue  # a text file gensim also misreads as binary: the text reading is the file's
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnicodeWarning)
                kv = KeyedVectors.load(path, "auto", unicode_errors=policy)
                named = KeyedVectors.load(path, fmt, unicode_errors=policy)
            assert kv.index_to_key == ref.index_to_key, (f, fmt)
            assert named.index_to_key == ref.index_to_key, (f, fmt)
            np.testing.assert_allclose(kv.vectors, ref.vectors, rtol=0, atol=1e-6, err_msg=f"{f} ({fmt})")
            compared.append(f)
    for must in ["lee_fasttext.bin", "crime-and-punishment.bin", "pang_lee_polarity_fasttext.vec", "test_glove.txt",
                 "lee_fasttext_new.bin", "toy-model.bin", "lee_fasttext.vec", "euclidean_vectors.bin"]:
        assert must in compared, (must, compared)


def test_pang_lee_needs_unicode_errors_and_reports_the_words() -> None:
    path = os.path.join(DATA, "pang_lee_polarity_fasttext.vec")
    with pytest.raises(FormatError, match="invalid UTF-8"):
        KeyedVectors.load_word2vec_format(path)
    for policy in ["replace", "ignore"]:
        ref = GensimKV.load_word2vec_format(path, unicode_errors=policy)
        with pytest.warns(UnicodeWarning, match="words were not valid UTF-8"):
            kv = KeyedVectors.load_word2vec_format(path, unicode_errors=policy)
        assert kv.index_to_key == ref.index_to_key
        np.testing.assert_allclose(kv.vectors, ref.vectors, rtol=0, atol=1e-6)
        # gensim decodes whole lines; the words that changed are the ones oximl counts.
        raw = [line.split(b" ")[0] for line in open(path, "rb").read().splitlines()[1:]]
        assert kv.invalid_utf8_words == sum(1 for w in raw if w.decode("utf-8", "replace") != w.decode("utf-8", "ignore"))
        assert kv.invalid_utf8_words > 0


def unseen_words(vocab: set[str], n: int, seed: int) -> list[str]:
    """`n` words not in `vocab`: vocabulary words changed by a letter (ASCII and not), and random strings."""
    rng = random.Random(seed)
    words = sorted(vocab)
    letters = "abcdefghijklmnopqrstuvwxyzéèüßøñçж東京😀-'"
    out: set[str] = set()
    while len(out) < n:
        w = rng.choice(words)
        k = rng.randrange(4)
        if k == 0:
            cand = w + rng.choice(letters)
        elif k == 1 and len(w) > 1:
            i = rng.randrange(len(w))
            cand = w[:i] + rng.choice(letters) + w[i + 1:]
        elif k == 2:
            cand = rng.choice(letters).upper() + w
        else:
            cand = "".join(rng.choice(letters) for _ in range(rng.randint(1, 12)))
        if cand not in vocab:
            out.add(cand)
    return sorted(out)


@pytest.mark.parametrize("name", ["lee_fasttext.bin", "crime-and-punishment.bin", "lee_fasttext_new.bin"])
def test_unseen_words_get_gensims_subword_vectors(name: str) -> None:
    path = os.path.join(DATA, name)
    ref = gensim_facebook(path)
    kv = load_facebook_vectors(path)
    assert kv.subwords == (ref.min_n, ref.max_n, ref.bucket)
    unseen = unseen_words(set(ref.index_to_key), 1000, seed=len(name))
    assert not any(w in kv.key_to_index for w in unseen)
    got = kv[unseen]
    want = np.stack([ref[w] for w in unseen])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    # embed(oov="subwords"): the unit-normalized sum of the words' vectors, known or not.
    text = [unseen[0], ref.index_to_key[3], unseen[1]]
    s = ref[text[0]] + ref[text[1]] + ref[text[2]]
    np.testing.assert_allclose(kv.embed([text], oov="subwords")[0], s / np.linalg.norm(s), rtol=0, atol=1e-5)


def test_the_oximl_format_and_pickle_keep_the_subwords(tmp_path: Any) -> None:
    import pickle

    kv = load_facebook_vectors(os.path.join(DATA, "crime-and-punishment.bin"))
    kv.save(tmp_path / "cp.oximl")
    for back in [KeyedVectors.load(tmp_path / "cp.oximl"), pickle.loads(pickle.dumps(kv))]:
        assert back.subwords == kv.subwords
        np.testing.assert_array_equal(back["raskolnikovish"], kv["raskolnikovish"])


def test_cp852_words_as_gensim_decodes_them() -> None:
    path = os.path.join(DATA, "cp852_fasttext.bin")
    with pytest.raises(FormatError, match="not valid UTF-8"):
        load_facebook_vectors(path)
    ref = gensim_facebook(path)
    with pytest.warns(UnicodeWarning):
        kv = load_facebook_vectors(path, unicode_errors="backslashreplace")
    assert kv.index_to_key == ref.index_to_key and kv.invalid_utf8_words > 0
    np.testing.assert_allclose(kv.vectors, ref.vectors, rtol=0, atol=1e-6)
