/* Many threads predicting on ONE model handle while another thread loads models from a file: every result must be
   bit-identical to the serial predictions, and each thread keeps its own last-error message.
   Run from the repository root (it writes target/concurrency-c.oximl). */
#define _POSIX_C_SOURCE 200809L
#include <oximl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 64, COLS = 64, OUTS = 10, PREDICTORS = 3, ROUNDS = 8, LOADS = 4 };

static const char *PATH = "target/concurrency-c.oximl";
static float x[ROWS * COLS], expected[ROWS * OUTS];
static const oximl_sequential *shared_model;
static pthread_barrier_t start;

static int fail(const char *what, oximl_status s) {
  fprintf(stderr, "%s -> %d: %s\n", what, (int)s, oximl_last_error());
  return 1;
}

/* Predicts `x` with `model`; returns 1 if that fails or differs from the serial predictions in any bit. */
static int predicts_as_serial(const oximl_sequential *model, const char *what) {
  float out[ROWS * OUTS];
  memset(out, 0, sizeof out);
  oximl_status s = oximl_sequential_predict(model, x, ROWS, COLS, out, ROWS * OUTS);
  if (s != OXIML_STATUS_OK) return fail(what, s);
  if (memcmp(out, expected, sizeof out) != 0) {
    fprintf(stderr, "%s: results differ from the serial ones\n", what);
    return 1;
  }
  return 0;
}

/* Predicts on the shared handle ROUNDS times; returns the number of failures (as a pointer-sized int). */
static void *predictor(void *arg) {
  (void)arg;
  float out[ROWS * OUTS];
  intptr_t failures = 0;
  pthread_barrier_wait(&start);
  for (int r = 0; r < ROUNDS; r++) {
    failures += predicts_as_serial(shared_model, "predict on the shared handle");
    /* A failure on this thread leaves its message here, whatever the other threads do. */
    oximl_status s = oximl_sequential_predict(shared_model, x, ROWS, COLS - 1, out, ROWS * OUTS);
    if (s != OXIML_STATUS_SHAPE || strstr(oximl_last_error(), "features") == NULL)
      failures += fail("predict with wrong cols: expected a shape error about features", s);
  }
  return (void *)failures;
}

/* Loads the saved model LOADS times while the predictors run, each copy predicting like the original. */
static void *loader(void *arg) {
  (void)arg;
  intptr_t failures = 0;
  pthread_barrier_wait(&start);
  for (int i = 0; i < LOADS; i++) {
    oximl_sequential *m = NULL;
    oximl_status s = oximl_sequential_load(PATH, &m);
    if (s != OXIML_STATUS_OK) { failures += fail("load", s); continue; }
    failures += predicts_as_serial(m, "predict on a loaded model");
    oximl_sequential_free(m);
  }
  return (void *)failures;
}

int main(void) {
  /* Deterministic inputs in [-1, 1) from a linear congruential generator. */
  uint32_t state = 12345u;
  for (int i = 0; i < ROWS * COLS; i++) {
    state = state * 1664525u + 1013904223u;
    x[i] = (float)(state >> 8) / (float)(1u << 23) - 1.0f;
  }
  oximl_sequential *model = NULL;
  oximl_status s;
  if ((s = oximl_set_num_threads(2)) != OXIML_STATUS_OK) return fail("set_num_threads", s);
  if ((s = oximl_sequential_new(COLS, 7, &model)) != OXIML_STATUS_OK) return fail("new", s);
  const char *layers[] = {
      "{\"type\": \"dense\", \"units\": 128, \"activation\": {\"name\": \"relu\"}}",
      "{\"type\": \"dense\", \"units\": 64, \"activation\": {\"name\": \"tanh\"}}",
      "{\"type\": \"dense\", \"units\": 10, \"activation\": {\"name\": \"softmax\"}}",
  };
  for (size_t i = 0; i < sizeof layers / sizeof *layers; i++)
    if ((s = oximl_sequential_add(model, layers[i])) != OXIML_STATUS_OK) return fail("add", s);
  if ((s = oximl_sequential_save(model, PATH)) != OXIML_STATUS_OK) return fail("save", s);
  if ((s = oximl_sequential_predict(model, x, ROWS, COLS, expected, ROWS * OUTS)) != OXIML_STATUS_OK)
    return fail("serial predict", s);

  shared_model = model;
  pthread_t threads[PREDICTORS + 1];
  pthread_barrier_init(&start, NULL, PREDICTORS + 1);
  for (int t = 0; t < PREDICTORS; t++) pthread_create(&threads[t], NULL, predictor, NULL);
  pthread_create(&threads[PREDICTORS], NULL, loader, NULL);
  intptr_t failures = 0;
  for (int t = 0; t <= PREDICTORS; t++) {
    void *r = NULL;
    pthread_join(threads[t], &r);
    failures += (intptr_t)r;
  }
  pthread_barrier_destroy(&start);
  oximl_sequential_free(model);
  remove(PATH);
  oximl_set_num_threads(0);
  if (failures != 0) {
    fprintf(stderr, "concurrency: %ld failures\n", (long)failures);
    return 1;
  }
  printf("concurrency: %d threads x %d predictions on one handle and %d loads, all identical to serial: ok\n",
         PREDICTORS, ROUNDS, LOADS);
  return 0;
}
