/* ONNX from C: a scikit-learn classifier converted by skl2onnx (tests/fixtures/onnx) loads with
 * oximl_sequential_load like any oximl file and predicts its predict_proba; oximl_sequential_export_onnx writes a
 * file that loads back as the same model; a graph with an operator oximl has no layer for is refused by name.
 * Run from the repository root (`make -C examples/c run` does). */
#include "check.h"

#include <math.h>
#include <string.h>

#define DIR "tests/fixtures/onnx/"
#define ROWS 20
#define FEATURES 64
#define CLASSES 10

int main(void) {
  static float numbers[ROWS * (FEATURES + CLASSES)], out[ROWS * CLASSES], again[ROWS * CLASSES];
  EXPECT(read_numbers(DIR "sklearn_classifier.json", numbers, ROWS * (FEATURES + CLASSES)) ==
             ROWS * (FEATURES + CLASSES),
         "cannot read %s", DIR "sklearn_classifier.json");
  const float *x = numbers, *expected = numbers + ROWS * FEATURES;

  oximl_sequential *model = NULL, *back = NULL;
  CHECK(oximl_sequential_load(DIR "sklearn_classifier.onnx", &model));
  CHECK(oximl_sequential_predict(model, x, ROWS, FEATURES, out, ROWS * CLASSES));
  for (int i = 0; i < ROWS * CLASSES; i++) EXPECT(fabsf(out[i] - expected[i]) < 1e-5f, "value %d: %g", i, out[i]);

  const char *path = "examples/c/build/onnx-example.onnx";
  CHECK(oximl_sequential_export_onnx(model, path));
  CHECK(oximl_sequential_load(path, &back));
  CHECK(oximl_sequential_predict(back, x, ROWS, FEATURES, again, ROWS * CLASSES));
  EXPECT(memcmp(out, again, sizeof out) == 0, "the exported model predicts differently");
  oximl_sequential_free(back);
  oximl_sequential_free(model);
  remove(path);

  oximl_sequential *bad = NULL;
  EXPECT(oximl_sequential_load(DIR "unsupported_op.onnx", &bad) == OXIML_STATUS_FORMAT && bad == NULL, "loaded");
  EXPECT(strstr(oximl_last_error(), "Sin") && strstr(oximl_last_error(), "my_sin"), "%s", oximl_last_error());
  puts("onnx: ok");
  return 0;
}
