/* Recommenders from C: ratings generated deterministically with a known structure (4 groups of users, each
   liking its own group of items), FunkSvd and implicit ALS trained, evaluated, queried, saved and reloaded.
   Every check prints what it measured and the program exits non-zero if one fails. Run from the repository root.
   Also: hostile sizes and files give errors, and a training is cancelled from another thread. */
#define _POSIX_C_SOURCE 200809L
#include <oximl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

enum { USERS = 200, ITEMS = 200, GROUPS = 4, PER_USER = 30, N = USERS * PER_USER, K = 10 };

static char user_ids[USERS][8], item_ids[ITEMS][8];
static const char *u_of[N], *i_of[N];
static float r_of[N];
static const char *train_u[N], *train_i[N], *test_u[N], *test_i[N];
static float train_r[N], test_r[N];

static unsigned long long state = 42;
static unsigned next(void) { /* a fixed LCG: the same data on every platform */
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)(state >> 33);
}
static int group_of_user(int u) { return u % GROUPS; }
static int group_of_item(const char *id) { int i = 0; sscanf(id, "i%d", &i); return i / (ITEMS / GROUPS); }

/* Each user rates PER_USER distinct items: 80% from their group (4 or 5 stars), the rest elsewhere (1 or 2). */
static void generate(void) {
  int n = 0;
  for (int i = 0; i < ITEMS; i++) snprintf(item_ids[i], sizeof item_ids[i], "i%d", i);
  for (int u = 0; u < USERS; u++) {
    snprintf(user_ids[u], sizeof user_ids[u], "u%d", u);
    int taken[ITEMS] = {0};
    for (int j = 0; j < PER_USER; j++) {
      int own = j < PER_USER * 8 / 10, item;
      do {
        int g = own ? group_of_user(u) : (group_of_user(u) + 1 + (int)(next() % (GROUPS - 1))) % GROUPS;
        item = g * (ITEMS / GROUPS) + (int)(next() % (ITEMS / GROUPS));
      } while (taken[item]);
      taken[item] = 1;
      u_of[n] = user_ids[u];
      i_of[n] = item_ids[item];
      r_of[n] = own ? 4.0f + (float)(next() % 2) : 1.0f + (float)(next() % 2);
      n++;
    }
  }
}

/* Every 5th rating of each user goes to the test part. */
static size_t split(size_t *n_test) {
  size_t a = 0, b = 0;
  for (int k = 0; k < N; k++) {
    if (k % 5 == 4) { test_u[b] = u_of[k]; test_i[b] = i_of[k]; test_r[b++] = r_of[k]; }
    else { train_u[a] = u_of[k]; train_i[a] = i_of[k]; train_r[a++] = r_of[k]; }
  }
  *n_test = b;
  return a;
}

/* Fraction of the top-K lists of all users that fall in the user's own item group. */
static int in_group_fraction(const oximl_recommender *m, double *fraction) {
  static const char *ids[USERS * K];
  static float scores[USERS * K];
  size_t counts[USERS], hits = 0, total = 0;
  const char *users[USERS];
  for (int u = 0; u < USERS; u++) users[u] = user_ids[u];
  CHECK(oximl_recommender_recommend_batch(m, users, USERS, K, true, ids, scores, USERS * K, counts));
  for (int u = 0; u < USERS; u++) {
    /* The batch equals one-by-one calls. */
    const char *one[K];
    float one_scores[K];
    size_t n = 0;
    CHECK(oximl_recommender_recommend(m, user_ids[u], K, true, one, one_scores, K, &n));
    EXPECT(n == counts[u], "user %d: %zu vs %zu", u, n, counts[u]);
    for (size_t j = 0; j < n; j++) {
      EXPECT(one[j] == ids[u * K + j] && one_scores[j] == scores[u * K + j], "user %d rank %zu differs", u, j);
      EXPECT(j == 0 || scores[u * K + j] <= scores[u * K + j - 1], "user %d: not sorted", u);
      hits += group_of_item(ids[u * K + j]) == group_of_user(u);
      total++;
    }
  }
  *fraction = (double)hits / (double)total;
  return 0;
}

/* Everything a reloaded model must reproduce exactly. */
static int same_results(const oximl_recommender *a, const oximl_recommender *b, const oximl_ratings *test) {
  for (int u = 0; u < USERS; u += 7) {
    const char *ia[K], *ib[K];
    float sa[K], sb[K];
    size_t na = 0, nb = 0;
    CHECK(oximl_recommender_recommend(a, user_ids[u], K, false, ia, sa, K, &na));
    CHECK(oximl_recommender_recommend(b, user_ids[u], K, false, ib, sb, K, &nb));
    EXPECT(na == nb, "%zu vs %zu", na, nb);
    for (size_t j = 0; j < na; j++) EXPECT(strcmp(ia[j], ib[j]) == 0 && sa[j] == sb[j], "user %d rank %zu", u, j);
    float pa = 0, pb = 0;
    CHECK(oximl_recommender_predict(a, user_ids[u], item_ids[u % ITEMS], &pa));
    CHECK(oximl_recommender_predict(b, user_ids[u], item_ids[u % ITEMS], &pb));
    EXPECT(pa == pb, "%g vs %g", pa, pb);
  }
  oximl_recommender_metrics ma, mb;
  CHECK(oximl_recommender_evaluate(a, test, K, 4.0f, &ma));
  CHECK(oximl_recommender_evaluate(b, test, K, 4.0f, &mb));
  EXPECT(memcmp(&ma, &mb, sizeof ma) == 0, "metrics differ after reload");
  char *ca = NULL, *cb = NULL;
  CHECK(oximl_recommender_config(a, &ca));
  CHECK(oximl_recommender_config(b, &cb));
  int same = strcmp(ca, cb) == 0;
  printf("  config %s\n", ca);
  oximl_string_free(ca);
  oximl_string_free(cb);
  EXPECT(same, "configs differ after reload");
  return 0;
}

static int save_and_reload(const oximl_recommender *m, const oximl_ratings *test, const char *path) {
  oximl_recommender *back = NULL;
  CHECK(oximl_recommender_save(m, path));
  CHECK(oximl_recommender_load(path, &back));
  int failed = same_results(m, back, test);
  oximl_recommender_free(back);
  remove(path);
  return failed;
}

/* Sizes no machine can hold, a column index at the end of size_t, an R write.csv file with quoted commas. */
static int hostile_inputs(const oximl_ratings *train) {
  const char *configs[] = {
      "{\"algorithm\": \"funk_svd\", \"epochs\": 1000000000000000000}",
      "{\"algorithm\": \"als\", \"iterations\": 1000000000000000000}",
      "{\"algorithm\": \"als\", \"factors\": 10000000000}",
      "{\"algorithm\": \"funk_svd\", \"factors\": 4611686018427387904}",
      "{\"algorithm\": \"implicit_als\", \"cg_steps\": 1000000000000000000}",
  };
  for (size_t c = 0; c < sizeof configs / sizeof *configs; c++) {
    oximl_recommender *m = NULL;
    oximl_status s = oximl_recommender_fit(train, configs[c], &m, NULL);
    EXPECT(s == OXIML_STATUS_INVALID_ARGUMENT && m == NULL, "%s -> %d", configs[c], (int)s);
  }
  const char *path = "target/c-example-r.csv";
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fputs("\"\",\"user\",\"title\",\"rating\"\n\"1\",\"7\",\"Heat, 1995\",4\n\"2\",\"8\",\"Heat, 1995\",5\n", f);
  fclose(f);
  oximl_ratings *r = NULL;
  EXPECT(oximl_ratings_load(path, "{\"columns\": [18446744073709551615, 2, 3, null]}", &r) ==
             OXIML_STATUS_INVALID_ARGUMENT, "a column index at SIZE_MAX");
  CHECK(oximl_ratings_load(path, "{\"columns\": [1, 2, 3, null], \"ratings\": {\"duplicates\": \"last\"}}", &r));
  remove(path);
  oximl_ratings_info info;
  CHECK(oximl_ratings_get_info(r, &info));
  oximl_ratings_free(r);
  EXPECT(info.ratings == 2 && info.users == 2 && info.items == 1, "R file: %zu ratings, %zu items", info.ratings,
         info.items);
  puts("hostile inputs: errors, no crash");
  return 0;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *cancel_later(void *token) {
  struct timespec pause = {0, 200 * 1000 * 1000};
  nanosleep(&pause, NULL);
  oximl_cancel_cancel(token);
  return NULL;
}

/* A training of a million epochs, cancelled from another thread after 200 ms, returns CANCELLED at once (within
   1.5 s; 30 s under valgrind, which runs one thread at a time and so delays both the canceller and the workers). */
static int cancel_from_another_thread(const oximl_ratings *train) {
  oximl_cancel *token = NULL;
  CHECK(oximl_cancel_new(&token));
  pthread_t thread;
  if (pthread_create(&thread, NULL, cancel_later, token) != 0) return 1;
  double start = now();
  oximl_recommender *m = NULL;
  oximl_status s = oximl_recommender_fit(train, "{\"algorithm\": \"als\", \"factors\": 32, \"iterations\": 1000000}",
                                         &m, token);
  double took = now() - start;
  pthread_join(thread, NULL);
  oximl_cancel_free(token);
  printf("cancelled fit returned %d after %.2f s: %s\n", (int)s, took, oximl_last_error());
  double limit = getenv("OXIML_UNDER_VALGRIND") ? 30.0 : 1.5;
  EXPECT(s == OXIML_STATUS_CANCELLED && m == NULL && took < limit, "status %d after %.2f s", (int)s, took);
  return 0;
}

int main(void) {
  generate();
  size_t n_test = 0, n_train = split(&n_test);
  oximl_ratings *train = NULL, *test = NULL;
  CHECK(oximl_ratings_new(train_u, train_i, train_r, NULL, n_train, "{\"scale\": [1, 5]}", &train));
  CHECK(oximl_ratings_new(test_u, test_i, test_r, NULL, n_test, "{\"scale\": [1, 5]}", &test));
  oximl_ratings_info info;
  CHECK(oximl_ratings_get_info(train, &info));
  printf("train: %zu ratings, %zu users, %zu items, scale %g-%g\n", info.ratings, info.users, info.items,
         info.scale_min, info.scale_max);
  EXPECT(info.ratings == n_train && info.users == USERS && info.scale_max == 5.0f, "train info");

  /* The same ratings written as a MovieLens u.data file and read back. */
  const char *path = "target/c-example-u.data";
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  for (int k = 0; k < N; k++) fprintf(f, "%s\t%s\t%g\t%d\n", u_of[k], i_of[k], r_of[k], 1000 + k);
  fclose(f);
  oximl_ratings *all = NULL, *a = NULL, *b = NULL;
  CHECK(oximl_ratings_load(path, "{\"preset\": \"ml-100k\"}", &all)); /* the alias of "movielens_100k" */
  remove(path);
  CHECK(oximl_ratings_get_info(all, &info));
  EXPECT(info.ratings == N && info.users == USERS && info.items == ITEMS, "loaded %zu ratings", info.ratings);
  CHECK(oximl_ratings_split(all, "{\"method\": \"leave_last_k\", \"k\": 2}", &a, &b));
  CHECK(oximl_ratings_get_info(b, &info));
  EXPECT(info.ratings == 2 * USERS, "leave_last_k test part has %zu ratings", info.ratings);
  oximl_ratings_free(all);
  oximl_ratings_free(a);
  oximl_ratings_free(b);

  /* FunkSvd: rating prediction, compared with always predicting the training mean. */
  double mean = 0, base = 0;
  for (size_t k = 0; k < n_train; k++) mean += train_r[k];
  mean /= (double)n_train;
  for (size_t k = 0; k < n_test; k++) base += (test_r[k] - mean) * (test_r[k] - mean);
  base = sqrt(base / (double)n_test);
  oximl_recommender *svd = NULL;
  CHECK(oximl_recommender_fit(train, "{\"algorithm\": \"funk_svd\", \"factors\": 4, \"epochs\": 100, "
                                     "\"learning_rate\": 0.02, \"reg_factors\": 0.1, \"seed\": 1}", &svd, NULL));
  oximl_recommender_metrics m;
  CHECK(oximl_recommender_evaluate(svd, test, K, 4.0f, &m));
  printf("FunkSvd: RMSE %.4f (mean predictor %.4f), MAE %.4f, NDCG@%d %.4f, precision %.4f over %zu users\n",
         m.rmse, base, m.mae, K, m.ndcg, m.precision, m.users);
  EXPECT(m.rmse < 0.65 * base, "RMSE %.4f is not well below the mean predictor's %.4f", m.rmse, base);
  double loss[128];
  size_t epochs = 0;
  CHECK(oximl_recommender_history(svd, loss, 128, &epochs));
  EXPECT(epochs == 100 && loss[99] < loss[0], "history: %zu epochs", epochs);
  double fraction = 0;
  if (in_group_fraction(svd, &fraction)) return 1;
  printf("FunkSvd: %.1f%% of top-%d recommendations in the user's group\n", 100 * fraction, K);
  EXPECT(fraction > 0.8, "%.3f", fraction);
  if (save_and_reload(svd, test, "target/c-example-svd.oximl")) return 1;

  /* Implicit ALS: ranking quality. At most ~10 of a user's ~31 unseen own-group items fit in a top-10, so a
     perfect group model has recall ~0.2 here. */
  oximl_recommender *als = NULL;
  CHECK(oximl_recommender_fit(train, "{\"algorithm\": \"implicit_als\", \"factors\": 8, \"iterations\": 10, "
                                     "\"regularization\": 0.1, \"seed\": 3}", &als, NULL));
  CHECK(oximl_recommender_evaluate(als, test, K, -INFINITY, &m));
  printf("ImplicitAls: NDCG@%d %.4f, precision %.4f, recall %.4f, MAP %.4f, coverage %.2f over %zu users\n", K,
         m.ndcg, m.precision, m.recall, m.map, m.coverage, m.users);
  EXPECT(m.users == USERS && m.ndcg > 0.12 && m.recall > 0.12, /* a random top-10 has recall ~0.06 */ "ndcg %.3f recall %.3f", m.ndcg, m.recall);
  if (in_group_fraction(als, &fraction)) return 1;
  printf("ImplicitAls: %.1f%% of top-%d recommendations in the user's group\n", 100 * fraction, K);
  EXPECT(fraction > 0.8, "%.3f", fraction);

  /* Items similar to an item of group 2 are mostly in group 2; a new user who likes group 3 gets group 3. */
  const char *ids[5];
  float scores[5];
  size_t n = 0, in_group = 0;
  CHECK(oximl_recommender_similar_items(als, "i110", 5, ids, scores, 5, &n));
  for (size_t j = 0; j < n; j++) in_group += group_of_item(ids[j]) == 2;
  printf("similar to i110: %s %s %s %s %s\n", ids[0], ids[1], ids[2], ids[3], ids[4]);
  EXPECT(n == 5 && in_group >= 4, "%zu of %zu in group 2", in_group, n);
  const char *liked[] = {"i150", "i160", "i170", "i199"};
  float stars[] = {5, 5, 4, 5};
  CHECK(oximl_recommender_recommend_new_user(svd, liked, stars, 4, 5, true, ids, scores, 5, &n));
  in_group = 0;
  for (size_t j = 0; j < n; j++) in_group += group_of_item(ids[j]) == 3;
  EXPECT(n == 5 && in_group >= 4, "new user: %zu of %zu in group 3", in_group, n);
  if (save_and_reload(als, test, "target/c-example-als.oximl")) return 1;

  if (hostile_inputs(train) || cancel_from_another_thread(train)) return 1;
  oximl_recommender_free(svd);
  oximl_recommender_free(als);
  oximl_ratings_free(train);
  oximl_ratings_free(test);
  puts("recommend: ok");
  return 0;
}
