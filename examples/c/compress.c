/* Compression from C: a model saved by Rust (tests/fixtures/rust_model.oximl) is quantized to int8 and predicts
 * within 0.02 of its float outputs; the recorded int8 model (tests/fixtures/compress) predicts its recorded
 * outputs bit for bit; pruning reaches the asked sparsity; bad inputs give clear errors.
 * Run from the repository root (`make -C examples/c run` does). */
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Reads the numbers of a headerless CSV in order; returns the count read, or -1. */
static int read_csv(const char *path, float *values, int capacity) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int n = 0;
  while (n < capacity && fscanf(f, "%f", &values[n]) == 1) {
    n++;
    if (fgetc(f) == EOF) break;
  }
  fclose(f);
  return n;
}

int main(void) {
  static float x[10 * 4], expected[10 * 3], out[10 * 3];
  EXPECT(read_csv("tests/fixtures/rust_input.csv", x, 40) == 40, "cannot read rust_input.csv");
  EXPECT(read_csv("tests/fixtures/rust_expected.csv", expected, 30) == 30, "cannot read rust_expected.csv");

  oximl_sequential *model = NULL;
  CHECK(oximl_sequential_load("tests/fixtures/rust_model.oximl", &model));
  EXPECT(oximl_sequential_quantize(model, "{\"mode\": \"int4\"}") == OXIML_STATUS_INVALID_ARGUMENT, "int4 refused");
  EXPECT(strstr(oximl_last_error(), "int4") != NULL, "%s", oximl_last_error());
  CHECK(oximl_sequential_quantize(model, "{\"mode\": \"int8\"}"));
  CHECK(oximl_sequential_predict(model, x, 10, 4, out, 30));
  for (int i = 0; i < 30; i++) EXPECT(fabsf(out[i] - expected[i]) < 0.02f, "value %d: %g vs %g", i, out[i], expected[i]);
  EXPECT(oximl_sequential_prune(model, "{\"sparsity\": 0.5}") == OXIML_STATUS_INVALID_ARGUMENT,
         "pruning a quantized model is refused");
  oximl_sequential_free(model);

  /* The recorded int8 model: integer products, the same bits on every CPU. */
  static float qx[16 * 20], qexpected[16 * 4], qout[16 * 4];
  EXPECT(read_csv("tests/fixtures/compress/input.csv", qx, 320) == 320, "cannot read compress/input.csv");
  EXPECT(read_csv("tests/fixtures/compress/quantized_expected.csv", qexpected, 64) == 64, "cannot read expected");
  CHECK(oximl_sequential_load("tests/fixtures/compress/quantized.oximl", &model));
  CHECK(oximl_sequential_predict(model, qx, 16, 20, qout, 64));
  EXPECT(memcmp(qout, qexpected, sizeof qout) == 0, "int8 outputs differ from the recorded ones");
  oximl_sequential_free(model);

  /* Pruning: 80% of all kernel weights, globally. */
  CHECK(oximl_sequential_load("tests/fixtures/rust_model.oximl", &model));
  EXPECT(oximl_sequential_prune(model, "{\"sparsity\": 1.5}") == OXIML_STATUS_INVALID_ARGUMENT, "sparsity 1.5");
  CHECK(oximl_sequential_prune(model, "{\"sparsity\": 0.8, \"scope\": \"global\"}"));
  double layers[2], total = 0;
  size_t n = 0;
  CHECK(oximl_sequential_sparsity(model, layers, 2, &n, &total));
  EXPECT(n == 2 && fabs(total - 0.8) < 0.01, "%zu layers, total %g", n, total);
  CHECK(oximl_sequential_strip_pruning(model));
  oximl_sequential_free(model);
  return 0;
}
