/* probevision report: the incident-report layout for a run read back from
 * the journal: summary, failed points with their errors, the timeline of
 * points and an SVG plot of the residual per point.
 * Writes DIR/report-run<N>.md and DIR/report-run<N>-residual.svg, creating
 * DIR and its missing parents (mkdir -p). Numbers are written in the "C"
 * locale ('.' decimal separator) whatever LC_NUMERIC says.
 * Exit codes: 2 when the journal cannot be read or DIR / the files cannot
 * be created (nothing written), 3 when writing them fails midway.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "probevision/run.h"

typedef struct row {
  int64_t idx, started_ns;
  char name[PV_TARGET_NAME_MAX];
  pv_point_status status;
  int iterations;
  double residual, score, truth;
  char error[160];
} row;

typedef struct rows { row *v; int n, cap; } rows;

static const char usage[] =
    "usage: probevision report --db FILE [--run N] [--out DIR]\n"
    "  --db FILE   results journal (SQLite) written by 'probevision run'\n"
    "  --run N     the run to report (default: the newest)\n"
    "  --out DIR   where report-runN.md and its SVG plot go (default: .;\n"
    "              created with its parents when missing)\n";

/* mkdir -p: creates dir and its missing parents (0755). 0, or -1 with errno
 * set and the path that failed in failed (cap bytes). */
static int make_dirs(const char *dir, char *failed, size_t cap) {
  char p[4096];
  size_t n = strlen(dir);
  if (n == 0 || n >= sizeof p) {
    snprintf(failed, cap, "%s", dir);
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(p, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char c = p[i];
    p[i] = '\0';
    if (mkdir(p, 0755) != 0) { /* fine if it is a directory already */
      int e = errno;
      struct stat st;
      if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
        errno = e == EEXIST ? ENOTDIR : e;
        snprintf(failed, cap, "%s", p);
        return -1;
      }
    }
    p[i] = c;
  }
  return 0;
}

static int collect(void *ctx, const pv_point_result *p) {
  rows *r = ctx;
  if (r->n == r->cap) {
    int cap = r->cap ? r->cap * 2 : 256;
    row *v = realloc(r->v, (size_t)cap * sizeof *v);
    if (v == NULL) return PV_ENOMEM;
    r->v = v, r->cap = cap;
  }
  row *w = &r->v[r->n++];
  w->idx = p->idx;
  w->started_ns = p->started_wall_ns;
  memcpy(w->name, p->name, sizeof w->name);
  w->status = p->status;
  w->iterations = p->iterations;
  w->residual = p->residual_um, w->score = p->score, w->truth = p->truth_error_um;
  size_t n = strnlen(p->error, sizeof w->error - 1);
  memcpy(w->error, p->error, n);
  w->error[n] = '\0';
  for (char *c = w->error; *c; c++)
    if (*c == '|' || *c == '\n') *c = ' ';
  return 0;
}

static void num(FILE *f, double v, const char *fmt) {
  if (isnan(v)) fputs("-", f);
  else fprintf(f, fmt, v);
}

static void stats_line(FILE *f, const char *what, const rows *r, size_t off) {
  double sum = 0, max = NAN, min = NAN;
  int n = 0;
  for (int i = 0; i < r->n; i++) {
    double v = *(const double *)((const char *)&r->v[i] + off);
    if (isnan(v)) continue;
    sum += v, n++;
    if (isnan(max) || v > max) max = v;
    if (isnan(min) || v < min) min = v;
  }
  if (n == 0) fprintf(f, "- %s: none\n", what);
  else fprintf(f, "- %s: mean %.3f, min %.3f, max %.3f (%d points)\n", what, sum / n, min, max, n);
}

static void write_svg(FILE *f, const rows *r) {
  const double W = 640, H = 240, L = 60, R = 20, T = 30, B = 40;
  double hi = 0;
  for (int i = 0; i < r->n; i++)
    if (!isnan(r->v[i].residual) && r->v[i].residual > hi) hi = r->v[i].residual;
  if (hi <= 0) hi = 1;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
             "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"%.0f\" "
             "height=\"%.0f\" fill=\"white\"/>\n<text x=\"%.0f\" y=\"18\">residual (um) per "
             "point, in recording order</text>\n", W, H, W, H, L);
  fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
             "<text x=\"4\" y=\"%.0f\">%.2f</text>\n<text x=\"4\" y=\"%.0f\">0</text>\n",
          L, H - B, W - R, H - B, T + 4, hi, H - B);
  fputs("<polyline fill=\"none\" stroke=\"steelblue\" points=\"", f);
  int k = 0;
  for (int i = 0; i < r->n; i++) {
    if (isnan(r->v[i].residual)) continue;
    double x = L + (r->n > 1 ? (double)i / (r->n - 1) : 0.5) * (W - L - R);
    fprintf(f, "%s%.1f,%.1f", k++ ? " " : "", x, T + (hi - r->v[i].residual) / hi * (H - T - B));
  }
  fputs("\"/>\n</svg>\n", f);
}

static void write_md(FILE *f, const char *db, const pv_run_record *run, const rows *r,
                     const char *svg) {
  int counts[PV_POINT_STATUS_COUNT] = {0};
  for (int i = 0; i < r->n; i++) counts[r->v[i].status]++;
  fprintf(f, "# Run report: run %lld of %s\n\n## Summary\n\n", (long long)run->id, db);
  fprintf(f, "- status: %s\n- started: %s\n- finished: %s\n- points recorded: %d;",
          run->status, run->started_at, run->finished_at[0] ? run->finished_at : "-", r->n);
  for (int s = 0; s < PV_POINT_STATUS_COUNT; s++)
    if (counts[s]) fprintf(f, " %s %d", pv_point_status_name((pv_point_status)s), counts[s]);
  fprintf(f, "\n- config hash %s, targets hash %s\n", run->config_hash, run->targets_hash);
  stats_line(f, "residual (um)", r, offsetof(row, residual));
  stats_line(f, "score", r, offsetof(row, score));
  stats_line(f, "true position error (um, simulated stage)", r, offsetof(row, truth));
  fputs("\n## Worst points (largest residual)\n\n| idx | name | status | residual um |\n"
        "|---:|---|---|---:|\n", f);
  unsigned char *shown = calloc((size_t)r->n + 1, 1);
  for (int k = 0; k < 5 && shown; k++) {
    int best = -1;
    for (int i = 0; i < r->n; i++)
      if (!shown[i] && !isnan(r->v[i].residual) &&
          (best < 0 || r->v[i].residual > r->v[best].residual))
        best = i;
    if (best < 0) break;
    shown[best] = 1;
    fprintf(f, "| %lld | %s | %s | %.3f |\n", (long long)r->v[best].idx, r->v[best].name,
            pv_point_status_name(r->v[best].status), r->v[best].residual);
  }
  free(shown);
  fputs("\n## Failed points\n\n| idx | name | status | error |\n|---:|---|---|---|\n", f);
  for (int i = 0; i < r->n; i++)
    if (r->v[i].status != PV_POINT_OK)
      fprintf(f, "| %lld | %s | %s | %s |\n", (long long)r->v[i].idx, r->v[i].name,
              pv_point_status_name(r->v[i].status), r->v[i].error);
  fprintf(f, "\n## Residual per point\n\n![residual per point](%s)\n\n", svg);
  fputs("## Timeline of points\n\n| time (UTC) | idx | name | status | iterations | residual um |"
        " score |\n|---|---:|---|---|---:|---:|---:|\n", f);
  for (int i = 0; i < r->n; i++) {
    const row *w = &r->v[i];
    char t[32] = "-";
    time_t s = (time_t)(w->started_ns / PV_NS_PER_S);
    struct tm tm;
    if (w->started_ns > 0 && gmtime_r(&s, &tm)) strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(f, "| %s | %lld | %s | %s | %d | ", t, (long long)w->idx, w->name,
            pv_point_status_name(w->status), w->iterations);
    num(f, w->residual, "%.3f");
    fputs(" | ", f);
    num(f, w->score, "%.3f");
    fputs(" |\n", f);
  }
}

int pv_cli_report(int argc, char **argv) {
  static const struct option longopts[] = {{"db", required_argument, 0, 'd'},
                                           {"run", required_argument, 0, 'r'},
                                           {"out", required_argument, 0, 'o'},
                                           {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *db = NULL, *out = ".";
  long long run_id = 0;
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    char *end;
    switch (ch) {
      case 'd': db = optarg; break;
      case 'o': out = optarg; break;
      case 'r':
        run_id = strtoll(optarg, &end, 10);
        if (end == optarg || *end || run_id < 1)
          return pv_cli_usage_error("report", usage, "--run: '%s' is not a run id", optarg);
        break;
      case 'h': fputs(usage, stdout); return PV_EXIT_OK;
      case ':': return pv_cli_usage_error("report", usage, "%s needs a value", argv[optind - 1]);
      default:
        return pv_cli_usage_error("report", usage, "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc)
    return pv_cli_usage_error("report", usage, "unexpected argument '%s'", argv[optind]);
  if (db == NULL) return pv_cli_usage_error("report", usage, "%s", "--db FILE is required");
  pv_run_record run;
  rows r = {0};
  pv_error err = {""};
  int rc = pv_journal_read_run(db, run_id, &run, collect, &r, &err);
  if (rc < 0) {
    fprintf(stderr, "probevision report: %s\n", rc == PV_ENOMEM ? "out of memory" : err.msg);
    free(r.v);
    return PV_EXIT_USAGE;
  }
  char md[4200], svg[4200], svg_name[64];
  snprintf(svg_name, sizeof svg_name, "report-run%lld-residual.svg", (long long)run.id);
  snprintf(md, sizeof md, "%s/report-run%lld.md", out, (long long)run.id);
  snprintf(svg, sizeof svg, "%s/%s", out, svg_name);
  char failed[4096];
  if (make_dirs(out, failed, sizeof failed) != 0) {
    fprintf(stderr, "probevision report: --out %s: cannot create the directory %s: %s\n", out,
            failed, strerror(errno));
    free(r.v);
    return PV_EXIT_USAGE;
  }
  FILE *f = fopen(md, "w"), *g = f ? fopen(svg, "w") : NULL;
  int code = PV_EXIT_OK;
  if (f == NULL || g == NULL) {
    fprintf(stderr, "probevision report: %s: cannot create: %s\n", f ? svg : md, strerror(errno));
    code = PV_EXIT_USAGE;
  } else {
    pv_c_locale_scope c_numbers = pv_c_locale_begin(); /* '.' in every number */
    write_md(f, db, &run, &r, svg_name);
    write_svg(g, &r);
    pv_c_locale_end(c_numbers);
  }
  int werr = 0;
  errno = 0; /* fclose sets it; a stream error alone says EIO */
  if (f && (ferror(f) | fclose(f))) werr = errno ? errno : EIO;
  if (g && (ferror(g) | fclose(g))) werr = errno ? errno : EIO;
  if (code == PV_EXIT_OK && werr != 0) {
    fprintf(stderr, "probevision report: %s: write failed: %s\n", md, strerror(werr));
    code = PV_EXIT_HARDWARE;
  }
  if (code == PV_EXIT_OK) printf("report: %s (%d points of run %lld)\n", md, r.n, (long long)run.id);
  free(r.v);
  return code;
}
