/* Train, evaluate, save, load and predict a dense network on the shipped iris data, from C.
   Run from the repository root (it reads crates/oximl-core/data/iris.csv). */
#include <oximl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum { ROWS = 150, COLS = 4 };

static int load_iris(const char *path, float *x, float *y) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  if (!fgets(line, sizeof line, f)) { fclose(f); return -1; } /* header: 150,4,setosa,... */
  int n = 0;
  while (n < ROWS && fgets(line, sizeof line, f)) {
    float *r = x + n * COLS;
    if (sscanf(line, "%f,%f,%f,%f,%f", &r[0], &r[1], &r[2], &r[3], &y[n]) == 5) n++;
  }
  fclose(f);
  return n == ROWS ? 0 : -1;
}

static int epochs_seen = 0;
static int on_epoch(void *user, const oximl_epoch_log *log) {
  (void)user;
  epochs_seen++;
  if (log->epoch % 50 == 0) printf("epoch %zu: %s %.4f\n", log->epoch, log->names[0], log->values[0]);
  return 0; /* non-zero would stop training */
}

int main(void) {
  static float x[ROWS * COLS], y[ROWS];
  if (load_iris("crates/oximl-core/data/iris.csv", x, y) != 0) {
    fprintf(stderr, "cannot read crates/oximl-core/data/iris.csv (run from the repository root)\n");
    return 1;
  }
  /* Standardize the features. */
  for (int j = 0; j < COLS; j++) {
    double mean = 0, var = 0;
    for (int i = 0; i < ROWS; i++) mean += x[i * COLS + j];
    mean /= ROWS;
    for (int i = 0; i < ROWS; i++) var += (x[i * COLS + j] - mean) * (x[i * COLS + j] - mean);
    double sd = sqrt(var / ROWS);
    for (int i = 0; i < ROWS; i++) x[i * COLS + j] = (float)((x[i * COLS + j] - mean) / sd);
  }

  oximl_sequential *model = NULL;
  CHECK(oximl_sequential_new(COLS, 42, &model));
  /* A misspelt key is refused, naming it, and adds nothing. */
  if (oximl_sequential_add(model, "{\"type\": \"dense\", \"units\": 3, \"activaton\": {\"name\": \"relu\"}}") !=
          OXIML_STATUS_INVALID_ARGUMENT ||
      strstr(oximl_last_error(), "activaton") == NULL) {
    fprintf(stderr, "a misspelt layer key was accepted: %s\n", oximl_last_error());
    return 1;
  }
  CHECK(oximl_sequential_add(model, "{\"type\": \"dense\", \"units\": 16, \"activation\": {\"name\": \"relu\"}}"));
  CHECK(oximl_sequential_add(model, "{\"type\": \"dense\", \"units\": 3, \"activation\": {\"name\": \"softmax\"}}"));
  CHECK(oximl_sequential_compile(model,
      "{\"optimizer\": {\"name\": \"adam\", \"learning_rate\": 0.01},"
      " \"loss\": {\"name\": \"sparse_categorical_crossentropy\"}, \"metrics\": [\"accuracy\"]}"));
  CHECK(oximl_sequential_fit(model, x, ROWS, COLS, y, 1, "{\"epochs\": 200, \"batch_size\": 16, \"seed\": 1}",
                             on_epoch, NULL));
  if (epochs_seen != 200) { fprintf(stderr, "callback saw %d epochs\n", epochs_seen); return 1; }

  double values[2];
  size_t n = 0;
  CHECK(oximl_sequential_evaluate(model, x, ROWS, COLS, y, 1, values, 2, &n));
  printf("loss %.4f, accuracy %.4f\n", values[0], values[1]);
  if (n != 2 || values[1] < 0.95) { fprintf(stderr, "accuracy too low\n"); return 1; }

  /* Keras' sample weights: weights of 2 double the loss (the sum is divided by the batch size, not the weights),
     weights of 0 make it 0; training with weights runs. */
  static float w[ROWS];
  double weighted[2];
  for (int i = 0; i < ROWS; i++) w[i] = 2.0f;
  CHECK(oximl_sequential_evaluate_weighted(model, x, ROWS, COLS, y, 1, w, weighted, 2, &n));
  if (fabs(weighted[0] - 2.0 * values[0]) > 1e-5 * values[0]) {
    fprintf(stderr, "weighted loss %g, expected %g\n", weighted[0], 2.0 * values[0]);
    return 1;
  }
  for (int i = 0; i < ROWS; i++) w[i] = 0.0f;
  CHECK(oximl_sequential_evaluate_weighted(model, x, ROWS, COLS, y, 1, w, weighted, 2, &n));
  if (weighted[0] != 0.0) { fprintf(stderr, "zero weights gave loss %g\n", weighted[0]); return 1; }
  for (int i = 0; i < ROWS; i++) w[i] = 1.0f;
  CHECK(oximl_sequential_fit_weighted(model, x, ROWS, COLS, y, 1, w, "{\"epochs\": 1}", NULL, NULL));
  w[0] = NAN;
  if (oximl_sequential_fit_weighted(model, x, ROWS, COLS, y, 1, w, NULL, NULL, NULL) == OXIML_STATUS_OK) {
    fprintf(stderr, "a NaN sample weight was accepted\n");
    return 1;
  }

  char *summary = NULL;
  CHECK(oximl_sequential_summary(model, &summary));
  fputs(summary, stdout);
  oximl_string_free(summary);

  const char *path = "target/iris-c.oximl";
  CHECK(oximl_sequential_save(model, path));
  oximl_sequential *loaded = NULL;
  CHECK(oximl_sequential_load(path, &loaded));
  static float p1[ROWS * 3], p2[ROWS * 3];
  CHECK(oximl_sequential_predict(model, x, ROWS, COLS, p1, ROWS * 3));
  CHECK(oximl_sequential_predict(loaded, x, ROWS, COLS, p2, ROWS * 3));
  if (memcmp(p1, p2, sizeof p1) != 0) { fprintf(stderr, "loaded model predicts differently\n"); return 1; }
  oximl_sequential_free(model);
  oximl_sequential_free(loaded);
  remove(path);
  printf("sequential: ok\n");
  return 0;
}
