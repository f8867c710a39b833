/* Locale-independent numbers: the "C" locale object, created once.
 *
 * A host program that embeds the library may call setlocale(LC_ALL, ...)
 * with a comma decimal separator; printf's %f and strtod follow the calling
 * thread's locale, so every text that crosses a boundary goes through these
 * helpers instead. The locale object is made by newlocale(LC_ALL_MASK, "C")
 * under pthread_once and never freed (glibc returns its static C locale, so
 * nothing is allocated). uselocale() changes the calling thread's locale
 * only, so a scope never affects other threads. If the object could not be
 * made, the helpers fall back to the thread's current locale.
 */
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "probevision/core.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static locale_t c_locale; /* written once under `once`, then read-only */

static void make_c_locale(void) {
  c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t get_c_locale(void) {
  pthread_once(&once, make_c_locale);
  return c_locale;
}

double pv_strtod_c(const char *s, char **end) {
  locale_t c = get_c_locale();
  if (c == (locale_t)0) return strtod(s, end);
  return strtod_l(s, end, c);
}

pv_c_locale_scope pv_c_locale_begin(void) {
  locale_t c = get_c_locale();
  pv_c_locale_scope scope = {.prev = NULL};
  if (c != (locale_t)0) scope.prev = (void *)uselocale(c);
  return scope;
}

void pv_c_locale_end(pv_c_locale_scope scope) {
  if (scope.prev != NULL) uselocale((locale_t)scope.prev);
}

int pv_vsnprintf_c(char *buf, size_t cap, const char *fmt, va_list ap) {
  pv_c_locale_scope scope = pv_c_locale_begin();
  int n = vsnprintf(buf, cap, fmt, ap);
  pv_c_locale_end(scope);
  return n;
}

int pv_snprintf_c(char *buf, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = pv_vsnprintf_c(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}

int pv_fprintf_c(FILE *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pv_c_locale_scope scope = pv_c_locale_begin();
  int n = vfprintf(f, fmt, ap);
  pv_c_locale_end(scope);
  va_end(ap);
  return n;
}
