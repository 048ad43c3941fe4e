/* Every error path of the C API returns its status and leaves a non-empty message; nothing crashes. */
#include <oximl.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;
#define EXPECT(call, status)                                                                      \
  do {                                                                                            \
    oximl_status s_ = (call);                                                                     \
    if (s_ != (status) || strlen(oximl_last_error()) == 0) {                                      \
      fprintf(stderr, "%s:%d: %s -> %d (wanted %d), message \"%s\"\n", __FILE__, __LINE__, #call, \
              (int)s_, (int)(status), oximl_last_error());                                        \
      failures++;                                                                                 \
    }                                                                                             \
  } while (0)

static void write_file(const char *path, const char *content, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f) { fwrite(content, 1, len, f); fclose(f); }
}

/* Keeps the first half of a file. */
static int truncate_file(const char *path) {
  static char buf[1 << 16];
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  write_file(path, buf, len / 2);
  return 0;
}

static int recommender_errors(void) {
  const char *users[] = {"a", "a", "b", "b"}, *items[] = {"x", "y", "x", "z"}, *ids[4], *bad_utf8[] = {"\xff", "a", "b", "b"};
  float r[] = {5, 1, 4, 2}, nan_r[] = {5, 0.0f / 0.0f, 4, 2}, scores[4], f = 0;
  size_t n = 0, counts[2];
  oximl_ratings *ratings = NULL, *other = NULL;
  oximl_recommender *model = NULL, *loaded = NULL;
  oximl_recommender_metrics metrics;
  oximl_ratings_info info;

  EXPECT(oximl_ratings_new(NULL, items, r, NULL, 4, NULL, &ratings), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_ratings_new(users, items, r, NULL, 0, NULL, &ratings), OXIML_STATUS_INVALID_ARGUMENT); /* empty */
  EXPECT(oximl_ratings_new(users, items, nan_r, NULL, 4, NULL, &ratings), OXIML_STATUS_NON_FINITE);
  EXPECT(oximl_ratings_new(bad_utf8, items, r, NULL, 4, NULL, &ratings), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_ratings_new(users, items, r, NULL, 4, "{\"scale\": [1, 4]}", &ratings), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_ratings_new(users, items, r, NULL, 4, "{\"scael\": [1, 5]}", &ratings), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_ratings_new(users, items, r, NULL, 4, NULL, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_ratings_get_info(NULL, &info), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_ratings_load("/no/such/u.data", NULL, &ratings), OXIML_STATUS_IO);
  EXPECT(oximl_ratings_load("/no/such/u.data", "{\"preset\": \"movielens_2m\"}", &ratings), OXIML_STATUS_INVALID_ARGUMENT);
  write_file("target/bad.data", "1\t2\t3\n1\t2\n", 11);
  EXPECT(oximl_ratings_load("target/bad.data", "{\"preset\": \"tsv\"}", &ratings), OXIML_STATUS_FORMAT);
  remove("target/bad.data");

  if (oximl_ratings_new(users, items, r, NULL, 4, NULL, &ratings) != OXIML_STATUS_OK) return 1;
  EXPECT(oximl_ratings_split(ratings, "{\"method\": \"random\", \"test_fraction\": 1.5}", &other, &other), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_ratings_split(ratings, "{\"method\": \"shuffle\"}", &other, &other), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_fit(NULL, "{\"algorithm\": \"als\"}", &model, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_fit(ratings, NULL, &model, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_fit(ratings, "{\"algorithm\": \"svd++\"}", &model, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_fit(ratings, "{\"algorithm\": \"als\", \"factor\": 2}", &model, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_fit(ratings, "{\"algorithm\": \"funk_svd\", \"factors\": 0}", &model, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  if (oximl_recommender_fit(ratings, "{\"algorithm\": \"als\", \"factors\": 2}", &model, NULL) != OXIML_STATUS_OK) return 1;

  /* A handle of another type (a C cast gone wrong) is refused by its type tag, naming the type expected, and a
   * free through the wrong function leaves it alone. */
  EXPECT(oximl_sequential_output_dim((const oximl_sequential *)model, &n), OXIML_STATUS_INVALID_ARGUMENT);
  if (!strstr(oximl_last_error(), "oximl_sequential")) { fprintf(stderr, "wrong handle: \"%s\"\n", oximl_last_error()); failures++; }
  EXPECT(oximl_ratings_get_info((const oximl_ratings *)model, &info), OXIML_STATUS_INVALID_ARGUMENT);
  oximl_sequential_free((oximl_sequential *)model);

  EXPECT(oximl_recommender_predict(NULL, "a", "x", &f), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_predict(model, "a", NULL, &f), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_predict(model, "a", "x", NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_recommend(NULL, "a", 2, true, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_recommend(model, "nobody", 2, true, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_recommend(model, "a", 0, true, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_recommend(model, "a", 4, true, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT); /* 3 items */
  EXPECT(oximl_recommender_recommend(model, "a", 2, true, NULL, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  n = 0;
  EXPECT(oximl_recommender_recommend(model, "a", 3, true, ids, scores, 2, &n), OXIML_STATUS_INVALID_ARGUMENT);
  if (n != 3) { fprintf(stderr, "recommend should report the 3 entries it needs, said %zu\n", n); failures++; }
  EXPECT(oximl_recommender_recommend(model, "a", 2, true, ids, scores, 4, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_recommend_batch(model, users, 2, 2, true, ids, scores, 3, counts), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_recommend_batch(model, users, 2, 2, true, ids, scores, 4, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_recommend_batch(model, items, 2, 2, true, ids, scores, 4, counts), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_similar_items(model, "w", 1, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_similar_items(model, "x", 3, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_recommend_new_user(model, users, r, 2, 1, true, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_recommend_new_user(model, items, nan_r, 2, 1, true, ids, scores, 4, &n), OXIML_STATUS_NON_FINITE);
  EXPECT(oximl_recommender_evaluate(model, NULL, 2, 4.0f, &metrics), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_evaluate(model, ratings, 0, 4.0f, &metrics), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_user_factors(model, "a", scores, 1), OXIML_STATUS_INVALID_ARGUMENT); /* needs 2 */
  EXPECT(oximl_recommender_item_factors(model, "w", scores, 4), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_recommender_history(model, NULL, 0, &n), OXIML_STATUS_INVALID_ARGUMENT);

  EXPECT(oximl_recommender_save(model, "/no/such/dir/model.oximl"), OXIML_STATUS_IO);
  EXPECT(oximl_recommender_load("/no/such/model.oximl", &loaded), OXIML_STATUS_IO);
  write_file("target/garbage.oximl", "\x10\x00\x00\x00\x00\x00\x00\x00{\"garbage\": 1}", 22);
  EXPECT(oximl_recommender_load("target/garbage.oximl", &loaded), OXIML_STATUS_FORMAT);
  if (oximl_recommender_save(model, "target/truncated.oximl") != OXIML_STATUS_OK) return 1;
  if (truncate_file("target/truncated.oximl") != 0) return 1;
  EXPECT(oximl_recommender_load("target/truncated.oximl", &loaded), OXIML_STATUS_FORMAT);
  remove("target/garbage.oximl");
  remove("target/truncated.oximl");

  oximl_recommender_free(model);
  oximl_recommender_free(NULL);
  oximl_ratings_free(ratings);
  oximl_ratings_free(NULL);
  return 0;
}

static int embeddings_errors(void) {
  oximl_embeddings *emb = NULL;
  const char *ids[4], *w = NULL, *texts[] = {"a b", NULL}, *exclude[] = {"a"};
  float v[4], scores[4], zero[2] = {0, 0}, nan_v[2] = {0.0f / 0.0f, 1}, s = 0;
  size_t n = 0;
  bool found[2];

  EXPECT(oximl_embeddings_load("/no/such/vectors.txt", NULL, &emb), OXIML_STATUS_IO);
  EXPECT(oximl_embeddings_load(NULL, NULL, &emb), OXIML_STATUS_INVALID_ARGUMENT);
  write_file("target/vectors.txt", "2 2\na 1 0\nb 0 1\n", 16);
  EXPECT(oximl_embeddings_load("target/vectors.txt", NULL, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_load("target/vectors.txt", "{\"limt\": 1}", &emb), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_load("target/vectors.txt", "{\"oov\": \"ignore\"}", &emb), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_load("target/vectors.txt", "{\"sif\": -1}", &emb), OXIML_STATUS_INVALID_ARGUMENT);
  write_file("target/truncated.txt", "3 2\na 1 0\nb 0 1\n", 16); /* the header promises 3 words */
  EXPECT(oximl_embeddings_load("target/truncated.txt", NULL, &emb), OXIML_STATUS_FORMAT);
  write_file("target/truncated.txt", "2 2\na 1 0\nb 0\n", 14); /* a short row */
  EXPECT(oximl_embeddings_load("target/truncated.txt", NULL, &emb), OXIML_STATUS_FORMAT);
  write_file("target/truncated.txt", "2 2\na 1 inf\nb 0 1\n", 18);
  EXPECT(oximl_embeddings_load("target/truncated.txt", NULL, &emb), OXIML_STATUS_NON_FINITE);
  remove("target/truncated.txt");
  oximl_embeddings_info info;
  EXPECT(oximl_embeddings_get_info(NULL, &info), OXIML_STATUS_INVALID_ARGUMENT);

  if (oximl_embeddings_load("target/vectors.txt", "{\"oov\": \"error\"}", &emb) != OXIML_STATUS_OK) return 1;
  remove("target/vectors.txt");
  EXPECT(oximl_embeddings_get_info(emb, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_word(emb, 2, &w), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_word_vector(emb, "zzz", v, 4), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_word_vector(emb, "a", v, 1), OXIML_STATUS_INVALID_ARGUMENT); /* needs 2 */
  EXPECT(oximl_embeddings_word_vector(emb, "a", NULL, 2), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_sentence_vector(emb, "a zzz", v, 2, NULL), OXIML_STATUS_INVALID_ARGUMENT); /* oov: error */
  EXPECT(oximl_embeddings_sentence_vector(emb, NULL, v, 2, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_sentence_vector(emb, "a", v, 1, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_sentence_vector_tokens(emb, NULL, 2, v, 2, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_embed_batch(emb, texts, 2, v, 4, found), OXIML_STATUS_INVALID_ARGUMENT); /* NULL text */
  EXPECT(oximl_embeddings_embed_batch(emb, texts, 1, v, 1, found), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_embed_batch(NULL, texts, 1, v, 2, found), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_most_similar(emb, "zzz", 1, NULL, 0, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_most_similar(emb, "a", 0, NULL, 0, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_most_similar(emb, "a", 1, NULL, 1, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  n = 0;
  EXPECT(oximl_embeddings_most_similar(emb, "a", 3, exclude, 1, ids, scores, 2, &n), OXIML_STATUS_INVALID_ARGUMENT);
  if (n != 3) { fprintf(stderr, "most_similar should report the 3 entries it needs, said %zu\n", n); failures++; }
  EXPECT(oximl_embeddings_most_similar_vector(emb, zero, 2, 1, NULL, 0, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_most_similar_vector(emb, nan_v, 2, 1, NULL, 0, ids, scores, 4, &n), OXIML_STATUS_NON_FINITE);
  EXPECT(oximl_embeddings_most_similar_vector(emb, v, 3, 1, NULL, 0, ids, scores, 4, &n), OXIML_STATUS_SHAPE);
  EXPECT(oximl_embeddings_most_similar_vector(emb, NULL, 2, 1, NULL, 0, ids, scores, 4, &n), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_similarity(emb, "a", "zzz", &s), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_save(emb, "target/v.bin", "word2vec_txt"), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_embeddings_save(emb, "/no/such/dir/v.oximl", NULL), OXIML_STATUS_IO);
  if (oximl_embeddings_save(emb, "target/v.oximl", NULL) != OXIML_STATUS_OK) return 1;
  oximl_embeddings_free(emb);
  emb = NULL;
  if (truncate_file("target/v.oximl") != 0) return 1;
  EXPECT(oximl_embeddings_load("target/v.oximl", NULL, &emb), OXIML_STATUS_FORMAT);
  remove("target/v.oximl");
  oximl_embeddings_free(emb);
  oximl_embeddings_free(NULL);
  return 0;
}

int main(void) {
  oximl_sequential *m = NULL;
  float x[8] = {0}, y[2] = {0}, out[4];
  double values[4];
  size_t n = 0;

  EXPECT(oximl_sequential_new(0, 0, &m), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_new(4, 0, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_add(NULL, "{\"type\": \"dense\", \"units\": 2}"), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_predict(NULL, x, 2, 4, out, 4), OXIML_STATUS_INVALID_ARGUMENT);

  if (oximl_sequential_new(4, 0, &m) != OXIML_STATUS_OK) return 1;
  EXPECT(oximl_sequential_add(m, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_add(m, "{not json"), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_add(m, "{\"type\": \"dense\", \"units\": 0}"), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_add(m, "{\"type\": \"dropout\", \"rate\": 2}"), OXIML_STATUS_INVALID_ARGUMENT);
  if (oximl_sequential_add(m, "{\"type\": \"dense\", \"units\": 2}") != OXIML_STATUS_OK) return 1;

  EXPECT(oximl_sequential_fit(m, x, 2, 4, y, 1, NULL, NULL, NULL), OXIML_STATUS_INVALID_ARGUMENT); /* not compiled */
  EXPECT(oximl_sequential_compile(m, "{\"optimizer\": {\"name\": \"nadam\"}}"), OXIML_STATUS_INVALID_ARGUMENT);
  if (oximl_sequential_compile(m, "{\"optimizer\": {\"name\": \"sgd\", \"learning_rate\": 0.1},"
                                  " \"loss\": {\"name\": \"mean_squared_error\"}, \"metrics\": [\"mae\"]}") != OXIML_STATUS_OK)
    return 1;
  EXPECT(oximl_sequential_fit(m, x, 2, 3, y, 1, NULL, NULL, NULL), OXIML_STATUS_SHAPE);  /* 3 features, not 4 */
  EXPECT(oximl_sequential_fit(m, x, 2, 4, y, 1, NULL, NULL, NULL), OXIML_STATUS_SHAPE);  /* 1 target column, not 2 */
  EXPECT(oximl_sequential_fit(m, NULL, 2, 4, y, 2, NULL, NULL, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_fit(m, x, 2, 4, x, 2, "{\"batch_size\": 0}", NULL, NULL), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_fit(m, x, 2, 4, x, 2, "{\"epoch\": 3}", NULL, NULL), OXIML_STATUS_INVALID_ARGUMENT); /* typo */
  x[1] = 0.0f / 0.0f;
  EXPECT(oximl_sequential_predict(m, x, 2, 4, out, 4), OXIML_STATUS_NON_FINITE);
  x[1] = 0.0f;
  EXPECT(oximl_sequential_predict(m, x, 2, 4, out, 3), OXIML_STATUS_INVALID_ARGUMENT); /* buffer too small */
  EXPECT(oximl_sequential_predict(m, x, 2, 4, NULL, 4), OXIML_STATUS_INVALID_ARGUMENT);
  /* Sizes no buffer can have (here a capacity passed as "unlimited") and misaligned arrays are refused, not read. */
  EXPECT(oximl_sequential_predict(m, x, SIZE_MAX / 8, 4, out, SIZE_MAX), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_predict(m, (const float *)(const void *)((const char *)x + 1), 1, 4, out, 4), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_output_dim(m, (size_t *)(void *)((char *)values + 1)), OXIML_STATUS_INVALID_ARGUMENT);
  EXPECT(oximl_sequential_evaluate(m, x, 2, 4, x, 2, values, 1, &n), OXIML_STATUS_INVALID_ARGUMENT);
  if (n != 2) { fprintf(stderr, "evaluate should report the 2 values it needs, said %zu\n", n); failures++; }

  EXPECT(oximl_sequential_load("/no/such/file.oximl", &m), OXIML_STATUS_IO);
  FILE *f = fopen("target/corrupt.oximl", "wb");
  if (!f) return 1;
  fputs("\x10\x00\x00\x00\x00\x00\x00\x00{\"garbage\": 1}", f);
  fclose(f);
  oximl_sequential *other = NULL;
  EXPECT(oximl_sequential_load("target/corrupt.oximl", &other), OXIML_STATUS_FORMAT);
  remove("target/corrupt.oximl");
  EXPECT(oximl_sequential_load(NULL, &other), OXIML_STATUS_INVALID_ARGUMENT);

  oximl_sequential_free(m);
  oximl_sequential_free(NULL);
  failures += recommender_errors();
  failures += embeddings_errors();
  oximl_string_free(NULL);
  printf("errors: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
