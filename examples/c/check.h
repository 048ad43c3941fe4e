/* CHECK and EXPECT for the C examples: report where a call or a check failed and return 1 from the caller. */
#ifndef OXIML_EXAMPLES_CHECK_H
#define OXIML_EXAMPLES_CHECK_H
#include <oximl.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                                   \
  do {                                                                                \
    oximl_status s_ = (call);                                                         \
    if (s_ != OXIML_STATUS_OK) {                                                      \
      fprintf(stderr, "%s:%d: %s -> %d: %s\n", __FILE__, __LINE__, #call, (int)s_,    \
              oximl_last_error());                                                    \
      return 1;                                                                       \
    }                                                                                 \
  } while (0)

#define EXPECT(cond, ...)                                                                    \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
      fprintf(stderr, __VA_ARGS__);                                                          \
      fputc('\n', stderr);                                                                   \
      return 1;                                                                              \
    }                                                                                        \
  } while (0)

/* Reads every number of a JSON file in order (the fixture holds {"x": rows, "expected": rows}); returns the
 * count read, or -1. */
static inline int read_numbers(const char *path, float *values, int capacity) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  static char text[1 << 16];
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = '\0';
  int n = 0;
  for (char *p = text; *p && n < capacity;) {
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
      char *end = NULL;
      values[n++] = strtof(p, &end);
      p = end;
    } else {
      p++;
    }
  }
  return n;
}
#endif
