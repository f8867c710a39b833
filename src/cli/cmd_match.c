/* probevision match: find a template in an image file and print the
 * matches ("x y score" per line, or one JSON object with --json), with the
 * median time of one pv_matcher_find over --repeat runs (loading excluded).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probevision/image.h"
#include "probevision/match.h"

static const char usage[] =
    "usage: probevision match IMAGE TEMPLATE [--threshold S] [--max N]\n"
    "                         [--repeat R] [--json]\n"
    "  IMAGE, TEMPLATE   PNG or PGM files (colour is converted to luma)\n"
    "  --threshold S     report matches scoring >= S, -1..1 (default 0.5)\n"
    "  --max N           report at most N matches (default 16)\n"
    "  --repeat R        run the search R times, report the median time\n"
    "  --json            print {\"matches\":[{\"x\":..,\"y\":..,\"score\":..}],\"ms\":M}\n"
    "Positions are template centres in pixels (pixel (i, j) has its centre at\n"
    "(i, j)); score is the normalised cross-correlation (TM_CCOEFF_NORMED).\n";

static int usage_error(const char *fmt, const char *arg) {
  return pv_cli_usage_error("match", usage, fmt, arg);
}

static int parse_int(const char *s, long lo, long hi, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Text or JSON with '.' in numbers whatever LC_NUMERIC says. */
static void print_matches(const pv_match *m, int n, double ms, int json) {
  pv_c_locale_scope c_numbers = pv_c_locale_begin();
  if (!json) {
    for (int i = 0; i < n; i++)
      printf("%.3f %.3f %.4f\n", m[i].x, m[i].y, m[i].score);
  } else {
    printf("{\"matches\":[");
    for (int i = 0; i < n; i++)
      printf("%s{\"x\":%.3f,\"y\":%.3f,\"score\":%.4f}", i ? "," : "", m[i].x,
             m[i].y, m[i].score);
    printf("],\"ms\":%.3f}\n", ms);
  }
  pv_c_locale_end(c_numbers);
}

static int run(const pv_image *img, const pv_image *tpl,
               const pv_match_params *p, int repeat, int json,
               const char *tpl_path) {
  pv_matcher *m = NULL;
  int rc = pv_matcher_create(img->width, img->height, tpl, p, &m);
  if (rc != PV_OK) {
    fprintf(stderr,
            "probevision match: %s: template %dx%d cannot be matched in a "
            "%dx%d image (%s)\n",
            tpl_path, tpl->width, tpl->height, img->width, img->height,
            pv_strerror(rc));
    return PV_EXIT_USAGE;
  }
  pv_match *out = calloc((size_t)p->max_results, sizeof *out);
  double *ms = calloc((size_t)repeat, sizeof *ms);
  int n = 0, code = PV_EXIT_OK;
  if (out == NULL || ms == NULL) {
    fprintf(stderr, "probevision match: out of memory\n");
    code = PV_EXIT_FAILED;
  }
  for (int r = 0; r < repeat && code == PV_EXIT_OK; r++) {
    int64_t t0 = pv_now_ns();
    n = pv_matcher_find(m, img, out, p->max_results);
    ms[r] = (double)(pv_now_ns() - t0) / 1e6;
    if (n < 0) {
      fprintf(stderr, "probevision match: search failed: %s\n", pv_strerror(n));
      code = PV_EXIT_USAGE;
    }
  }
  if (code == PV_EXIT_OK) {
    qsort(ms, (size_t)repeat, sizeof *ms, cmp_double);
    double med = repeat % 2 ? ms[repeat / 2]
                            : 0.5 * (ms[repeat / 2 - 1] + ms[repeat / 2]);
    print_matches(out, n, med, json);
  }
  free(ms);
  free(out);
  pv_matcher_destroy(m);
  return code;
}

int pv_cli_match(int argc, char **argv) {
  static const struct option longopts[] = {
      {"threshold", required_argument, 0, 't'},
      {"max", required_argument, 0, 'n'},
      {"repeat", required_argument, 0, 'r'},
      {"json", no_argument, 0, 'j'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  pv_match_params p;
  pv_match_params_default(&p);
  int repeat = 1, json = 0, c;
  optind = 0; /* glibc: full re-initialisation; options may follow files */
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    char *end;
    switch (c) {
    case 't':
      p.threshold = pv_strtod_c(optarg, &end);
      if (end == optarg || *end != '\0' || !(p.threshold >= -1.0) ||
          !(p.threshold <= 1.0))
        return usage_error("--threshold wants a number in -1..1, not '%s'",
                           optarg);
      break;
    case 'n':
      if (parse_int(optarg, 1, 100000, &p.max_results) != 0)
        return usage_error("--max wants a whole number >= 1, not '%s'", optarg);
      break;
    case 'r':
      if (parse_int(optarg, 1, 100000, &repeat) != 0)
        return usage_error("--repeat wants a whole number >= 1, not '%s'",
                           optarg);
      break;
    case 'j':
      json = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return PV_EXIT_OK;
    default:
      return usage_error("unknown or incomplete option '%s'",
                         argv[optind - 1]);
    }
  }
  if (argc - optind != 2)
    return usage_error("%s", "wants exactly two files: IMAGE TEMPLATE");
  const char *img_path = argv[optind], *tpl_path = argv[optind + 1];
  pv_image img = {0}, tpl = {0};
  pv_error err = {{0}};
  if (pv_image_read(img_path, &img, &err) != PV_OK) {
    fprintf(stderr, "probevision match: cannot read image %s: %s\n", img_path,
            err.msg);
    return PV_EXIT_USAGE;
  }
  if (pv_image_read(tpl_path, &tpl, &err) != PV_OK) {
    fprintf(stderr, "probevision match: cannot read template %s: %s\n",
            tpl_path, err.msg);
    pv_image_free(&img);
    return PV_EXIT_USAGE;
  }
  int code = run(&img, &tpl, &p, repeat, json, tpl_path);
  pv_image_free(&tpl);
  pv_image_free(&img);
  return code;
}
