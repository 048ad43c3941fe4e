/* CHECK and EXPECT for the C examples: report where a call or a check failed and return 1 from the caller. */
#ifndef OXIML_EXAMPLES_CHECK_H
#define OXIML_EXAMPLES_CHECK_H
#include <oximl.h>
#include <stdio.h>

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
#endif
