import pickle

import numpy as np
import pytest

import oximl
from oximl.embeddings import KeyedVectors, tokenize

WORDS = ["the", "cat", "sat", "on", "mat", "dog", "King", "queen", "man", "woman", "apple", "zero"]


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(len(WORDS), 6)).astype(np.float32)
    vectors[WORDS.index("zero")] = 0
    return WORDS, vectors


@pytest.fixture()
def w2v_file(tmp_path, table):
    words, vectors = table
    path = tmp_path / "vectors.txt"
    lines = [f"{len(words)} {vectors.shape[1]}"] + [w + " " + " ".join(repr(float(x)) for x in v)
                                                    for w, v in zip(words, vectors)]
    path.write_text("\n".join(lines) + "\n")
    return path


def reference(vectors, words, tokens, weights=None):
    """Σ c·v / ‖Σ c·v‖ over the known tokens, in float64; None without a known token."""
    rows = [words.index(t) for t in tokens if t in words]
    if not rows:
        return None
    c = np.ones(len(rows)) if weights is None else np.asarray(weights, dtype=np.float64)[rows]
    s = (vectors[rows].astype(np.float64) * c[:, None]).sum(axis=0)
    n = np.linalg.norm(s)
    return s / n if n > 0 else s


def test_load_lookup_and_vocabulary(w2v_file, table):
    words, vectors = table
    kv = KeyedVectors.load_word2vec_format(w2v_file)
    assert len(kv) == len(words) and kv.vector_size == 6 and kv.index_to_key == words
    assert kv.key_to_index["cat"] == 1
    np.testing.assert_array_equal(kv["cat"], vectors[1])
    np.testing.assert_array_equal(kv[["cat", "dog"]], vectors[[1, 5]])
    assert "cat" in kv and "cow" not in kv and 3 not in kv
    with pytest.raises(KeyError):
        kv["cow"]
    assert kv.duplicates == (0, [])
    assert KeyedVectors.load(w2v_file, limit=3).index_to_key == words[:3]


def test_vectors_are_a_read_only_view_without_copy(w2v_file, table):
    kv = KeyedVectors.load(w2v_file)
    a, b = kv.vectors, kv.vectors
    assert a.dtype == np.float32 and a.shape == (12, 6) and np.shares_memory(a, b)
    np.testing.assert_array_equal(a, table[1])
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0, 0] = 1.0
    del kv  # the view keeps the table alive
    np.testing.assert_array_equal(a, table[1])


def test_sentence_vectors_match_the_numpy_formula(w2v_file, table):
    words, vectors = table
    kv = KeyedVectors.load(w2v_file)
    texts = ["the cat sat on the mat", "King and queen", "dog, dog! apple?", "nothing known here", "", "zero"]
    got, found = kv.embed(texts, return_found=True)
    assert got.dtype == np.float32 and got.shape == (6, 6) and got.flags.c_contiguous
    for text, row, f in zip(texts, got, found):
        want = reference(vectors, words, tokenize(text))
        assert f == (want is not None)
        np.testing.assert_allclose(row, np.zeros(6) if want is None else want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kv.sentence_vector("the cat sat"), reference(vectors, words, ["the", "cat", "sat"]),
                               rtol=1e-5, atol=1e-6)
    assert kv.sentence_vector("unknown words only") is None
    # Pre-split tokens, the lowercase options and weights.
    np.testing.assert_allclose(kv.embed([["cat", "??", "dog"]])[0], reference(vectors, words, ["cat", "dog"]),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kv.sentence_vector("KING", lowercase_fallback=True), reference(vectors, words, ["King"]),
                               rtol=1e-5)
    assert kv.sentence_vector("KING") is None
    weights = np.linspace(0.5, 2.0, len(words))
    np.testing.assert_allclose(kv.sentence_vector("the cat sat", weights=weights),
                               reference(vectors, words, ["the", "cat", "sat"], weights), rtol=1e-5, atol=1e-6)
    # SIF from Zipf's law over the row order: a / (a + (1/r) / H_n).
    ranks = np.arange(1, len(words) + 1)
    np.testing.assert_allclose(kv.sif_weights(1e-2), 1e-2 / (1e-2 + (1 / ranks) / np.sum(1 / ranks)), rtol=1e-6)
    counts = {"the": 8.0, "cat": 2.0}
    want = np.array([1e-3 / (1e-3 + counts.get(w, 0.0) / 10.0) for w in words])
    np.testing.assert_allclose(kv.sif_weights(counts=counts), want, rtol=1e-6)
    # OOV policies: "zero" gives a text of unknown words a zero vector that counts as found; "error" raises.
    vecs, found = kv.embed(["nothing known"], oov="zero", return_found=True)
    assert found.tolist() == [True] and not vecs.any()
    with pytest.raises(oximl.InvalidArgumentError, match="nothing"):
        kv.embed(["cat nothing"], oov="error")
    assert tokenize("Hi, Zoë! don't", lowercase=True, keep_punctuation=True) == ["hi", ",", "zoë", "!", "don't"]


def cosine_top(vectors, words, query, topn, skip=()):
    v = vectors.astype(np.float64)
    norms = np.linalg.norm(v, axis=1)
    sims = np.where(norms > 0, v @ query / np.where(norms > 0, norms, 1) / np.linalg.norm(query), 0.0)
    order = [i for i in np.argsort(-sims, kind="stable") if words[i] not in skip]
    return [words[i] for i in order[:topn]], sims[order[:topn]]


def test_neighbours_and_similarity_match_numpy(w2v_file, table):
    words, vectors = table
    kv = KeyedVectors.load(w2v_file)
    v = vectors.astype(np.float64)
    got = kv.most_similar("cat", topn=4)
    want, sims = cosine_top(vectors, words, v[1], 4, skip={"cat"})
    assert [w for w, _ in got] == want
    np.testing.assert_allclose([s for _, s in got], sims, rtol=1e-5)
    assert kv.similarity("cat", "dog") == pytest.approx(v[1] @ v[5] / np.linalg.norm(v[1]) / np.linalg.norm(v[5]),
                                                        rel=1e-5)
    assert kv.similarity("cat", "zero") == 0.0
    q = np.array([1, 0, 0, 0, 0, 0.5])
    assert [w for w, _ in kv.most_similar(q, topn=3)] == cosine_top(vectors, words, q, 3)[0]
    assert [w for w, _ in kv.most_similar(q, topn=3, exclude=["the"])] == cosine_top(vectors, words, q, 3, {"the"})[0]
    batch = kv.most_similar(np.stack([q, v[2]]), topn=2)
    assert [[w for w, _ in r] for r in batch] == [cosine_top(vectors, words, q, 2)[0],
                                                  cosine_top(vectors, words, v[2], 2)[0]]
    # gensim's analogy: king - man + woman over unit vectors, the given words left out.
    unit = v / np.linalg.norm(v, axis=1, keepdims=True).clip(1e-30)
    query = unit[6] - unit[8] + unit[9]
    got = kv.most_similar(positive=["King", "woman"], negative=["man"], topn=3)
    assert [w for w, _ in got] == cosine_top(vectors, words, query, 3, skip={"King", "man", "woman"})[0]


def test_formats_save_load_and_pickle_round_trip(tmp_path, table):
    words, vectors = table
    kv = KeyedVectors(words, vectors)
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    kv.save_word2vec_format(tmp_path / "v.txt")
    kv.save(tmp_path / "v.oximl")
    kv._core.save(str(tmp_path / "v.glove"), "glove")
    for loaded in (KeyedVectors.load_word2vec_format(tmp_path / "v.bin", binary=True),
                   KeyedVectors.load(tmp_path / "v.bin"), KeyedVectors.load_word2vec_format(tmp_path / "v.txt"),
                   KeyedVectors.load(tmp_path / "v.oximl"), KeyedVectors.load_word2vec_format(tmp_path / "v.glove",
                                                                                              no_header=True),
                   pickle.loads(pickle.dumps(kv))):
        assert loaded.index_to_key == words
        np.testing.assert_array_equal(loaded.vectors, vectors)
    # Duplicated words: the first wins and they are counted.
    dup = KeyedVectors(["a", "b", "a"], np.eye(3))
    assert len(dup) == 2 and dup.duplicates == (1, ["a"]) and dup["a"].tolist() == [1, 0, 0]


def test_bad_inputs_raise_the_documented_exceptions(tmp_path, w2v_file):
    kv = KeyedVectors.load(w2v_file)
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\ncat 1 2 3\ndog 1 2\n")
    with pytest.raises(oximl.FormatError, match="line 3") as info:
        KeyedVectors.load(bad)
    assert isinstance(info.value, OSError)
    bad.write_text("2 2\ncat 1 nan\ndog 1 2\n")
    with pytest.raises(oximl.NonFiniteError):
        KeyedVectors.load(bad)
    bad.write_text("")
    with pytest.raises(oximl.FormatError):
        KeyedVectors.load(bad)
    bad.write_bytes(b"2 4\ncat \x00\x00")
    with pytest.raises(oximl.FormatError):
        KeyedVectors.load(bad, format="word2vec_binary")
    with pytest.raises(OSError):
        KeyedVectors.load(tmp_path / "missing.txt")
    with pytest.raises(ValueError):
        KeyedVectors.load(w2v_file, format="parquet")
    with pytest.raises(ValueError):
        KeyedVectors.load(w2v_file, limit=0)
    with pytest.raises(oximl.ShapeError):
        KeyedVectors(["a", "b"], np.ones((3, 2)))
    with pytest.raises(ValueError):
        KeyedVectors(["a b"], np.ones((1, 2)))  # whitespace in a word
    with pytest.raises(oximl.NonFiniteError):
        KeyedVectors(["a"], np.array([[np.inf, 1.0]]))
    with pytest.raises(ValueError):
        KeyedVectors(["a"], np.ones((1, 2, 1)))
    with pytest.raises(oximl.InvalidArgumentError, match="cow"):
        kv.most_similar("cow")
    with pytest.raises(oximl.InvalidArgumentError):
        kv.similarity("cat", "cow")
    with pytest.raises(oximl.ShapeError):
        kv.most_similar(np.ones(5))
    with pytest.raises(oximl.InvalidArgumentError):
        kv.most_similar(np.zeros(6))  # no direction
    with pytest.raises(oximl.NonFiniteError):
        kv.most_similar(np.full(6, np.nan))
    with pytest.raises(ValueError):
        kv.most_similar()
    with pytest.raises(oximl.ShapeError):
        kv.embed(["cat"], weights=np.ones(3))
    with pytest.raises(oximl.NonFiniteError):
        kv.embed(["cat"], weights=np.full(len(kv), np.nan))
    with pytest.raises(oximl.InvalidArgumentError):
        kv.embed(["cat"], oov="ignore")
    with pytest.raises(TypeError):
        kv.embed(["cat", ["dog"]])  # texts and token lists mixed
    with pytest.raises(TypeError):
        kv.embed([None])
    with pytest.raises(oximl.InvalidArgumentError):
        kv.sif_weights(a=0)
    with pytest.raises(oximl.InvalidArgumentError):
        kv.sif_weights(counts={"cat": -1.0})


def test_embed_releases_the_gil(table, run_beside_python):
    kv = KeyedVectors(*table)
    texts = ["the cat sat on the mat with the dog and the queen"] * 300_000
    out = run_beside_python(lambda: kv.embed(texts))
    assert out.shape == (300_000, 6)
    np.testing.assert_array_equal(out[0], out[-1])


def test_format_names_come_from_the_core_with_the_old_spelling_kept(tmp_path, table):
    # Issue 16: "word2vec" (the former Python spelling) and "word2vec_text" (the core's, used by C) both work.
    kv = KeyedVectors(*table)
    for name in ("word2vec", "word2vec_text"):
        kv._core.save(str(tmp_path / "v.txt"), name)
        back = KeyedVectors.load(tmp_path / "v.txt", format=name)
        np.testing.assert_array_equal(back.vectors, table[1])
    with pytest.raises(oximl.InvalidArgumentError, match="word2vec_text"):
        KeyedVectors.load(tmp_path / "v.txt", format="word2vec_txt")


def test_huge_finite_vectors_give_finite_unit_sentence_vectors():
    # Issue 15: the float32 sum of vectors near 3.4e38 overflowed and the sentence vector was inf.
    kv = KeyedVectors(["a", "b"], np.array([[3e38, 3e38], [3e38, -1e38]], dtype=np.float32))
    v = kv.sentence_vector("a b a")
    want = np.array([9e38, 5e38]) / np.linalg.norm([9e38, 5e38])
    np.testing.assert_allclose(v, want, rtol=1e-6)
    assert np.isfinite(kv.embed(["a a a", "b a"])).all()


def test_analogies_are_computed_by_the_core(w2v_file, table):
    # Issue 16: the 3CosAdd query, vectors among the terms, the core's errors; KeyError for unknown words.
    words, vectors = table
    kv = KeyedVectors.load(w2v_file)
    v = vectors.astype(np.float64)
    unit = v / np.linalg.norm(v, axis=1, keepdims=True).clip(1e-30)
    extra = np.array([1, -2, 0, 0.5, 0, 1], dtype=np.float32)
    query = unit[1] + extra / np.linalg.norm(extra) - unit[5]
    got = kv.most_similar(positive=["cat", extra], negative="dog", topn=4)
    want, sims = cosine_top(vectors, words, query, 4, skip={"cat", "dog"})
    assert [w for w, _ in got] == want
    np.testing.assert_allclose([s for _, s in got], sims, rtol=1e-5)
    with pytest.raises(KeyError):
        kv.most_similar(positive=["cat", "cow"])
    with pytest.raises(oximl.ShapeError):
        kv.most_similar(positive=["cat", np.ones(3)])
    with pytest.raises(oximl.InvalidArgumentError):
        kv.most_similar(positive=["cat"], negative=["cat"])  # zero: no direction


CTRL_C_CHILD = """
import json, os, signal, threading, time
import numpy as np
from oximl.embeddings import KeyedVectors

rng = np.random.default_rng(0)
kv = KeyedVectors([f"w{i}" for i in range(500)], rng.normal(size=(500, 2048)).astype(np.float32))
texts = [" ".join(f"w{(i * 7 + j) % 500}" for j in range(1000)) for i in range(10_000)]
start = time.perf_counter()
kv.embed(texts[:1000])
tenth = time.perf_counter() - start
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
start = time.perf_counter()
try:
    kv.embed(texts)
    print(json.dumps({"interrupted": False}))
except KeyboardInterrupt:
    print(json.dumps({"interrupted": True, "seconds": time.perf_counter() - start, "full": 10 * tenth,
                      "usable": kv.sentence_vector("w1 w2") is not None}))
"""


def test_ctrl_c_stops_batch_embedding():
    # Issue 15: embed runs on a helper thread polling a cancellation token; SIGINT raises KeyboardInterrupt.
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", CTRL_C_CHILD], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["interrupted"], "embed ran to its end despite SIGINT"
    assert result["seconds"] < max(0.3 + 0.5 * (result["full"] - 0.3), 0.6) and result["usable"], result
