/* Word embeddings from C: a small word2vec text file is written, loaded, and every result is checked against
   values computed here by hand (sentence vectors Σv/‖Σv‖, SIF weights, cosine neighbours), within 1e-6.
   Exits non-zero if a check fails. Run from the repository root. */
#include <oximl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

enum { WORDS = 8, DIM = 4, TEXTS = 4 };
static const double TOL = 1e-6; /* float sums of a few terms vs. the double reference */
static const char *words[WORDS] = {"the", "cat", "dog", "sat", "mat", "car", "road", "king"};
static const float table[WORDS][DIM] = {
    {0.1f, 0.1f, 0.1f, 0.1f},   {1.0f, 0.5f, 0.0f, 0.2f}, {0.9f, 0.6f, 0.1f, 0.1f},  {0.2f, -0.3f, 0.8f, 0.0f},
    {0.5f, 0.1f, 0.4f, -0.6f}, {0.0f, 1.0f, -0.5f, 0.3f}, {0.1f, 0.8f, -0.4f, 0.5f}, {-0.7f, 0.2f, 0.3f, 0.9f},
};

static int row_of(const char *w) {
  for (int i = 0; i < WORDS; i++)
    if (strcmp(words[i], w) == 0) return i;
  return -1;
}

/* Σ weight(w)·v(w) / ‖…‖ over the known words of a space-separated lowercase text, in double. */
static void reference(const char *text, const double *weight, double *out) {
  char buf[256];
  double norm = 0;
  memset(out, 0, DIM * sizeof *out);
  snprintf(buf, sizeof buf, "%s", text);
  for (char *t = strtok(buf, " "); t; t = strtok(NULL, " ")) {
    int r = row_of(t);
    if (r >= 0)
      for (int j = 0; j < DIM; j++) out[j] += weight[r] * table[r][j];
  }
  for (int j = 0; j < DIM; j++) norm += out[j] * out[j];
  for (int j = 0; j < DIM; j++) out[j] /= sqrt(norm);
}

static int close_to(const float *got, const double *want) {
  for (int j = 0; j < DIM; j++)
    if (fabs(got[j] - want[j]) > TOL) return 0;
  return 1;
}

static double cosine(const float *a, const float *b) {
  double ab = 0, aa = 0, bb = 0;
  for (int j = 0; j < DIM; j++) { ab += a[j] * b[j]; aa += a[j] * a[j]; bb += b[j] * b[j]; }
  return ab / sqrt(aa * bb);
}

static const char *texts[TEXTS] = {"the cat sat", "dog on the road", "nothing known here", "king car car"};

static int check_sentences(const oximl_embeddings *emb, const double *weight, const char *label) {
  float batch[TEXTS * DIM], one[DIM];
  bool found[TEXTS], one_found = false;
  CHECK(oximl_embeddings_embed_batch(emb, texts, TEXTS, batch, TEXTS * DIM, found));
  for (int t = 0; t < TEXTS; t++) {
    CHECK(oximl_embeddings_sentence_vector(emb, texts[t], one, DIM, &one_found));
    EXPECT(one_found == found[t] && memcmp(one, batch + t * DIM, sizeof one) == 0, "%s: text %d batch != one", label, t);
    if (t == 2) { /* no known word: no vector, a zero row */
      EXPECT(!found[t] && one[0] == 0 && one[1] == 0 && one[2] == 0 && one[3] == 0, "%s: unknown text", label);
      continue;
    }
    double want[DIM];
    reference(texts[t], weight, want);
    EXPECT(found[t] && close_to(one, want), "%s: \"%s\" = (%g %g %g %g), want (%g %g %g %g)", label, texts[t], one[0],
           one[1], one[2], one[3], want[0], want[1], want[2], want[3]);
  }
  printf("%s: \"%s\" -> (%.4f %.4f %.4f %.4f) matches Σv/‖Σv‖ within %g\n", label, texts[0], batch[0], batch[1],
         batch[2], batch[3], TOL);
  return 0;
}

int main(void) {
  const char *path = "target/c-example-vectors.txt";
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fprintf(f, "%d %d\n", WORDS, DIM);
  for (int i = 0; i < WORDS; i++) {
    fprintf(f, "%s", words[i]);
    for (int j = 0; j < DIM; j++) fprintf(f, " %.9g", table[i][j]);
    fputc('\n', f);
  }
  fclose(f);

  oximl_embeddings *emb = NULL, *sif = NULL, *back = NULL;
  CHECK(oximl_embeddings_load(path, NULL, &emb));
  oximl_embeddings_info info;
  CHECK(oximl_embeddings_get_info(emb, &info));
  EXPECT(info.dim == DIM && info.words == WORDS, "dim %zu, words %zu", info.dim, info.words);
  float v[DIM];
  CHECK(oximl_embeddings_word_vector(emb, "king", v, DIM));
  EXPECT(memcmp(v, table[7], sizeof v) == 0, "king's vector differs from the file");

  /* Sentence vectors, unweighted and with SIF weights a/(a + p(w)), p by Zipf's law on the row order. */
  double ones[WORDS], sif_w[WORDS], h = 0, a = 0.05;
  for (int i = 0; i < WORDS; i++) { ones[i] = 1; h += 1.0 / (i + 1); }
  for (int i = 0; i < WORDS; i++) sif_w[i] = a / (a + 1.0 / ((i + 1) * h));
  if (check_sentences(emb, ones, "plain")) return 1;
  CHECK(oximl_embeddings_load(path, "{\"sif\": 0.05}", &sif));
  if (check_sentences(sif, sif_w, "sif")) return 1;

  /* Neighbours: the order and cosines computed here. */
  const char *ids[WORDS];
  float scores[WORDS];
  size_t n = 0;
  CHECK(oximl_embeddings_most_similar(emb, "cat", WORDS - 1, NULL, 0, ids, scores, WORDS, &n));
  EXPECT(n == WORDS - 1, "%zu neighbours", n);
  printf("most similar to cat:");
  for (size_t j = 0; j < n; j++) {
    int r = row_of(ids[j]);
    double want = cosine(table[1], table[r]);
    printf(" %s %.3f", ids[j], scores[j]);
    EXPECT(r >= 0 && r != 1 && fabs(scores[j] - want) < TOL, "%s: %g vs %g", ids[j], scores[j], want);
    EXPECT(j == 0 || scores[j] <= scores[j - 1], "not sorted at %zu", j);
  }
  putchar('\n');
  EXPECT(strcmp(ids[0], "dog") == 0, "cat's nearest is %s", ids[0]);
  float s = 0;
  CHECK(oximl_embeddings_similarity(emb, "cat", "dog", &s));
  EXPECT(s == scores[0], "similarity %g vs most_similar %g", s, scores[0]);
  /* A query vector: the sentence vector of "car road", excluding "car". */
  const char *exclude[] = {"car"};
  CHECK(oximl_embeddings_sentence_vector(emb, "car road", v, DIM, NULL));
  CHECK(oximl_embeddings_most_similar_vector(emb, v, DIM, 2, exclude, 1, ids, scores, WORDS, &n));
  EXPECT(n == 2 && strcmp(ids[0], "road") == 0, "nearest to car+road without car: %s", ids[0]);

  /* Analogies (gensim's most_similar(positive, negative)): the cosine to unit(cat) - unit(dog) + unit(king),
     computed here, with the words given left out. */
  const char *pos[] = {"cat", "king"}, *neg[] = {"dog"};
  CHECK(oximl_embeddings_most_similar_words(emb, pos, 2, neg, 1, 3, NULL, 0, ids, scores, WORDS, &n));
  double q[DIM], qn = 0, c = 0, d = 0, k = 0;
  for (int i = 0; i < DIM; i++) { c += table[1][i] * table[1][i]; d += table[2][i] * table[2][i]; k += table[7][i] * table[7][i]; }
  for (int j = 0; j < DIM; j++) {
    q[j] = table[1][j] / sqrt(c) - table[2][j] / sqrt(d) + table[7][j] / sqrt(k);
    qn += q[j] * q[j];
  }
  EXPECT(n == 3, "%zu analogy results", n);
  for (size_t j = 0; j < n; j++) {
    int r = row_of(ids[j]);
    double dot = 0, rn = 0;
    for (int i = 0; i < DIM; i++) { dot += q[i] * table[r][i]; rn += table[r][i] * table[r][i]; }
    EXPECT(r != 1 && r != 2 && r != 7 && fabs(scores[j] - dot / sqrt(qn * rn)) < TOL, "analogy %s: %g vs %g", ids[j],
           scores[j], dot / sqrt(qn * rn));
  }
  printf("cat - dog + king: %s %.3f\n", ids[0], scores[0]);

  /* A cancelled token stops loading and batch embedding with OXIML_STATUS_CANCELLED. */
  oximl_cancel *cancel = NULL;
  CHECK(oximl_cancel_new(&cancel));
  float batch[TEXTS * DIM];
  bool found[TEXTS];
  CHECK(oximl_embeddings_embed_batch_cancellable(emb, texts, TEXTS, batch, TEXTS * DIM, found, cancel));
  CHECK(oximl_cancel_cancel(cancel));
  EXPECT(oximl_embeddings_embed_batch_cancellable(emb, texts, TEXTS, batch, TEXTS * DIM, found, cancel) ==
             OXIML_STATUS_CANCELLED, "batch embedding ran despite the cancelled token");
  EXPECT(oximl_embeddings_load_cancellable(path, NULL, &back, cancel) == OXIML_STATUS_CANCELLED && back == NULL,
         "loading ran despite the cancelled token");
  oximl_cancel_free(cancel);

  /* Saved as word2vec binary and as oximl, reloaded: the same table. */
  const char *formats[] = {"word2vec_binary", NULL};
  for (int k = 0; k < 2; k++) {
    const char *out = "target/c-example-vectors.bin";
    CHECK(oximl_embeddings_save(emb, out, formats[k]));
    CHECK(oximl_embeddings_load(out, NULL, &back));
    remove(out);
    for (int i = 0; i < WORDS; i++) {
      const char *w = NULL;
      CHECK(oximl_embeddings_word(back, (size_t)i, &w));
      CHECK(oximl_embeddings_word_vector(back, w, v, DIM));
      EXPECT(strcmp(w, words[i]) == 0 && memcmp(v, table[i], sizeof v) == 0, "row %d after %s", i,
             formats[k] ? formats[k] : "oximl");
    }
    oximl_embeddings_free(back);
  }
  remove(path);
  oximl_embeddings_free(emb);
  oximl_embeddings_free(sif);
  puts("embeddings: ok");
  return 0;
}
