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
  oximl_string_free(NULL);
  printf("errors: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
