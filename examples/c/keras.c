/* Keras from C: models trained and saved by Keras 3 (tests/fixtures/keras: a .keras and a legacy .h5 file of the
 * same classifier) load with oximl_sequential_load like any oximl file and predict what keras_model.predict did;
 * a model with a layer oximl has none for is refused by name. Run from the repository root. */
#include "check.h"

#include <math.h>
#include <string.h>

#define DIR "tests/fixtures/keras/"
#define ROWS 20
#define FEATURES 8
#define CLASSES 3

int main(void) {
  static float numbers[ROWS * (FEATURES + CLASSES)], out[ROWS * CLASSES];
  EXPECT(read_numbers(DIR "classifier.json", numbers, ROWS * (FEATURES + CLASSES)) == ROWS * (FEATURES + CLASSES),
         "cannot read %s", DIR "classifier.json");
  const float *x = numbers, *expected = numbers + ROWS * FEATURES;
  const char *files[] = {DIR "classifier.keras", DIR "classifier.h5"};
  for (int f = 0; f < 2; f++) {
    oximl_sequential *model = NULL;
    CHECK(oximl_sequential_load(files[f], &model));
    CHECK(oximl_sequential_predict(model, x, ROWS, FEATURES, out, ROWS * CLASSES));
    for (int i = 0; i < ROWS * CLASSES; i++)
      EXPECT(fabsf(out[i] - expected[i]) < 1e-5f, "%s, value %d: %g", files[f], i, out[i]);
    oximl_sequential_free(model);
  }
  oximl_sequential *bad = NULL;
  EXPECT(oximl_sequential_load(DIR "unsupported.keras", &bad) == OXIML_STATUS_FORMAT && bad == NULL, "loaded");
  EXPECT(strstr(oximl_last_error(), "BatchNormalization"), "%s", oximl_last_error());
  puts("keras: ok");
  return 0;
}
