/* The basics of the C API: version, thread pool, and how errors come back. */
#include <oximl.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(void) {
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", OXIML_VERSION_MAJOR, OXIML_VERSION_MINOR, OXIML_VERSION_PATCH);
  printf("oximl %s (header %s)\n", oximl_version(), expected);
  CHECK(strcmp(oximl_version(), expected) == 0);

  CHECK(oximl_set_num_threads(2) == OXIML_STATUS_OK);
  CHECK(oximl_num_threads() == 2);
  CHECK(strcmp(oximl_last_error(), "") == 0);

  /* A refused call returns its status and leaves a message; the pool keeps its size. */
  CHECK(oximl_set_num_threads((size_t)1 << 20) == OXIML_STATUS_INVALID_ARGUMENT);
  CHECK(strlen(oximl_last_error()) > 0);
  printf("refused as expected: %s\n", oximl_last_error());
  CHECK(oximl_num_threads() == 2);

  CHECK(oximl_set_num_threads(0) == OXIML_STATUS_OK);
  printf("default threads: %zu\n", oximl_num_threads());
  printf("basics: ok\n");
  return 0;
}
