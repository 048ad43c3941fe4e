/* The cross-language fixtures from C: the model files saved by Rust and by Python in
 * tests/fixtures predict, through liboximl, the outputs recorded when they were saved — the same
 * files and expectations that tests/fixtures.rs and python/tests/test_fixtures.py check.
 * Run from the repository root (`make -C examples/c run` does). */
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIR "tests/fixtures/"
#define MAX_VALUES 4096
#define TOLERANCE 1e-6f

/* Reads a CSV of floats into `values` (row-major); returns the number of rows, or -1 on error. */
static int read_csv(const char *path, float *values, size_t capacity, size_t *cols) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return -1;
  }
  char line[4096];
  int rows = 0;
  size_t n = 0;
  *cols = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '\n' || line[0] == '\0') continue;
    size_t in_row = 0;
    for (char *p = line, *end = NULL;; p = end + 1) {
      float v = strtof(p, &end);
      if (end == p || n == capacity) {
        fclose(f);
        fprintf(stderr, "%s: bad value or too many values on row %d\n", path, rows + 1);
        return -1;
      }
      values[n++] = v;
      in_row++;
      if (*end != ',') break;
    }
    if (*cols == 0) *cols = in_row;
    if (in_row != *cols) {
      fclose(f);
      fprintf(stderr, "%s: row %d has %zu values, not %zu\n", path, rows + 1, in_row, *cols);
      return -1;
    }
    rows++;
  }
  fclose(f);
  return rows;
}

/* Loads `<who>_model.oximl`, predicts `<who>_input.csv` and compares with `<who>_expected.csv`. */
static int check_fixture(const char *who) {
  static float x[MAX_VALUES], expected[MAX_VALUES], got[MAX_VALUES];
  char path[256];
  size_t x_cols = 0, y_cols = 0, out_dim = 0;
  snprintf(path, sizeof path, DIR "%s_input.csv", who);
  int rows = read_csv(path, x, MAX_VALUES, &x_cols);
  snprintf(path, sizeof path, DIR "%s_expected.csv", who);
  int expected_rows = read_csv(path, expected, MAX_VALUES, &y_cols);
  EXPECT(rows > 0 && expected_rows == rows, "%s: %d input rows, %d expected rows", who, rows, expected_rows);

  oximl_sequential *model = NULL;
  snprintf(path, sizeof path, DIR "%s_model.oximl", who);
  CHECK(oximl_sequential_load(path, &model));
  oximl_status s = oximl_sequential_output_dim(model, &out_dim);
  if (s == OXIML_STATUS_OK) s = oximl_sequential_predict(model, x, (size_t)rows, x_cols, got, MAX_VALUES);
  oximl_sequential_free(model);
  EXPECT(s == OXIML_STATUS_OK, "%s: %s", who, oximl_last_error());
  EXPECT(out_dim == y_cols, "%s: output width %zu, expected %zu", who, out_dim, y_cols);

  float worst = 0;
  for (size_t i = 0; i < (size_t)rows * y_cols; i++) worst = fmaxf(worst, fabsf(got[i] - expected[i]));
  EXPECT(worst <= TOLERANCE, "%s: largest difference %g", who, (double)worst);
  printf("%s-saved model: %d rows x %zu outputs as recorded (largest difference %.1e)\n", who, rows, y_cols,
         (double)worst);
  return 0;
}

int main(void) {
  if (check_fixture("rust") || check_fixture("python")) return 1;
  puts("fixtures: ok");
  return 0;
}
