/* The incident report writer: one Markdown file and one SVG plot.
 *
 * Everything is read from fixed sources: the flight recorder (a snapshot
 * into a static event buffer), the monitor's sample ring (a static sample
 * buffer) and /proc (thread list). The static buffers are shared by every
 * report, so writing is serialized by `lock`; nothing is allocated except
 * stdio's FILE buffers. Files are written with fprintf directly.
 *
 * Recovery: the first recovery of the same cause reported after the raise
 * (pv_incident_recovered: a structured record, never a word in a log
 * message) gives the recovery time; otherwise, for camera causes, good
 * frames counted after the raise (frames minus camera errors, from the
 * samples) show that frames flow again.
 *
 * Numbers are written in the "C" locale (a scope around the writing), so a
 * host program's LC_NUMERIC never turns "1.5" into "1,5". Times are real
 * (monotonic / wall-clock) time; durations in a summary name their clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor_internal.h"
#include "probevision/monitor.h"

#define EVENTS_SNAPSHOT 1024
#define SAMPLES_SHOWN 120

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pv_event events[EVENTS_SNAPSHOT];          /* under lock */
static pv_monitor_sample samples[SAMPLES_SHOWN];  /* under lock */
static char threads[4096];                        /* under lock */

static const struct { const char *cause, *words; } plain[] = {
    {"camera-timeout", "timeout: the camera stopped sending frames"},
    {"camera-disconnected", "disconnect: the camera went away"},
    {"camera-fatal", "camera failure: the driver reported a fatal error"},
    {"camera-error", "no usable frame: a point used up its frame retries"},
    {"stage-error", "stage failure: a move failed after every retry"},
    {"journal-write", "journal failure: a result could not be recorded"},
    {"hardware", "hardware failure: the station could not be used"},
};

static const char *cause_words(const char *cause) {
  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    if (strcmp(plain[i].cause, cause) == 0) return plain[i].words;
  return cause;
}

static double mb(uint64_t b) { return (double)b / (1024.0 * 1024.0); }

/* "|" would end a table cell; newlines would end the row. */
static void cell(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '|') fputs("\\|", f);
    else if (*s == '\n' || *s == '\r') fputc(' ', f);
    else fputc(*s, f);
  }
}

/* Opens DIR/incident-STAMP[-k].md exclusively; base gets the path without
 * ".md". */
static FILE *open_report(const char *dir, int64_t wall_ns, char *base, size_t cap) {
  time_t t = (time_t)(wall_ns / PV_NS_PER_S);
  struct tm tm;
  localtime_r(&t, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  for (int k = 1; k < 100; k++) {
    char path[4300];
    if (k == 1) snprintf(base, cap, "%s/incident-%s", dir, stamp);
    else snprintf(base, cap, "%s/incident-%s-%d", dir, stamp, k);
    snprintf(path, sizeof path, "%s.md", base);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) return fdopen(fd, "w");
    if (errno != EEXIST) return NULL;
  }
  errno = EEXIST;
  return NULL;
}

static void write_svg(FILE *f, const pv_monitor_sample *s, int n, int64_t raised) {
  const double W = 640, H = 240, L = 60, R = 20, T = 30, B = 40;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
             "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
          W, H, W, H);
  fprintf(f, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, H);
  fprintf(f, "<text x=\"%.0f\" y=\"18\">RSS (MB) over time (s, 0 = incident)</text>\n", L);
  if (n > 0) {
    double lo = mb(s[0].rss_bytes), hi = lo;
    for (int i = 0; i < n; i++) {
      lo = fmin(lo, mb(s[i].rss_bytes));
      hi = fmax(hi, mb(s[i].rss_bytes));
    }
    if (hi - lo < 1.0) lo -= 0.5, hi += 0.5;
    double t0 = fmin((double)(s[0].mono_ns - raised) / 1e9, 0);
    double t1 = fmax((double)(s[n - 1].mono_ns - raised) / 1e9, 0);
    if (t1 - t0 < 1e-3) t0 -= 1, t1 += 1;
#define PX(t) (L + ((t) - t0) / (t1 - t0) * (W - L - R))
#define PY(v) (T + (hi - (v)) / (hi - lo) * (H - T - B))
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n",
            L, H - B, W - R, H - B);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n",
            L, T, L, H - B);
    fprintf(f, "<text x=\"4\" y=\"%.0f\">%.1f</text>\n<text x=\"4\" y=\"%.0f\">%.1f</text>\n",
            T + 4, hi, H - B, lo);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%.1f</text>\n<text x=\"%.0f\" y=\"%.0f\" "
               "text-anchor=\"end\">%.1f</text>\n", L, H - B + 16, t0, W - R, H - B + 16, t1);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"red\" "
               "stroke-dasharray=\"4 3\"/>\n", PX(0.0), T, PX(0.0), H - B);
    fputs("<polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"2\" points=\"", f);
    for (int i = 0; i < n; i++)
      fprintf(f, "%s%.1f,%.1f", i ? " " : "", PX((double)(s[i].mono_ns - raised) / 1e9),
              PY(mb(s[i].rss_bytes)));
    fputs("\"/>\n", f);
#undef PX
#undef PY
  } else {
    fputs("<text x=\"60\" y=\"120\">no samples</text>\n", f);
  }
  fputs("</svg>\n", f);
}

/* Counters and recovery: sets *now (a sample taken now, or memory only). */
static int gather_samples(pv_monitor *m, pv_monitor_sample *now) {
  memset(now, 0, sizeof *now);
  if (m != NULL) {
    pv_monitor_sample_now(m, now);
    return pv_monitor_samples(m, samples, SAMPLES_SHOWN);
  }
  now->mono_ns = pv_now_ns();
  now->wall_ns = pv_wall_ns();
  pv_mem_usage(&now->rss_bytes, &now->peak_bytes, &now->ram_bytes);
  samples[0] = *now;
  return 1;
}

static void write_recovery(FILE *f, const char *cause, int64_t raised,
                           const pv_monitor_sample *s, int ns) {
  pv_incident_recovery rec;
  if (pv_incident_find_recovery(cause, raised, &rec)) {
    fprintf(f, "; recovered in %.1f s (\"", (double)(rec.mono_ns - raised) / 1e9);
    cell(f, rec.msg);
    fputs("\")", f);
    return;
  }
  const pv_monitor_sample *before = NULL, *after = ns > 0 ? &s[ns - 1] : NULL;
  for (int i = 0; i < ns; i++)
    if (s[i].mono_ns <= raised) before = &s[i];
  double since = after ? (double)(after->mono_ns - raised) / 1e9 : 0;
  if (strncmp(cause, "camera-", 7) == 0 && before && after && after->mono_ns > raised) {
    uint64_t g0 = before->frames - before->camera_errors;
    uint64_t g1 = after->frames - after->camera_errors;
    if (g1 > g0) {
      fprintf(f, "; frames flow again: %" PRIu64 " good frames in the %.1f s after it", g1 - g0,
              since);
      return;
    }
    fprintf(f, "; no good frame in the %.1f s after it", since);
    return;
  }
  fputs("; no recovery reported", f);
}

static void write_point(FILE *f, const char *when, int point, int points) {
  if (point < points)
    fprintf(f, "- point %s: %d of %d done, point %d in progress\n", when, point, points,
            point + 1);
  else
    fprintf(f, "- point %s: %d of %d done, none in progress\n", when, point, points);
}

static void write_md(FILE *f, const char *cause, const char *summary, int64_t raised,
                     int64_t raised_wall, int point_at, int points_at,
                     const pv_monitor_sample *now, int ns, int nev, const char *svg_name) {
  char when[20];
  pv_format_wall(raised_wall, when);
  fprintf(f, "# Incident %s: %s\n\n## Summary\n\n**%s**: ", when, cause, cause_words(cause));
  cell(f, summary);
  write_recovery(f, cause, raised, samples, ns);
  fputs(".\n\n", f);
  fprintf(f, "- raised: %s (monotonic %.3f s), report written %.1f s later (real time)\n",
          when, (double)raised / 1e9, (double)(now->mono_ns - raised) / 1e9);
  if (points_at >= 0) write_point(f, "at the incident", point_at, points_at);
  write_point(f, "when this report was written", now->point, now->points);
  fputs("\n## What was done\n\n", f);
  int listed = 0;
  for (int i = 0; i < nev && listed < 12; i++) {
    const pv_event *e = &events[i];
    if (e->mono_ns < raised || e->level < PV_LOG_INFO || strcmp(e->thread, "monitor") == 0)
      continue;
    fprintf(f, "- %+.3f s [%s] ", (double)(e->mono_ns - raised) / 1e9, e->thread);
    cell(f, e->msg);
    fputc('\n', f);
    listed++;
  }
  if (listed == 0) fputs("- nothing logged after the incident\n", f);
  fputc('\n', f);

  fputs("## Counters (now)\n\n| frames | dropped | camera errors | fps | RSS MB | peak MB |\n"
        "|---:|---:|---:|---:|---:|---:|\n", f);
  fprintf(f, "| %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %.1f | %.1f | %.1f |\n\n", now->frames,
          now->dropped, now->camera_errors, now->fps, mb(now->rss_bytes), mb(now->peak_bytes));

  int first = 0, shown = 0;
  while (first < nev && events[first].mono_ns < raised - 60 * PV_NS_PER_S) first++;
  if (nev - first > PV_INCIDENT_TIMELINE_MAX) first = nev - PV_INCIDENT_TIMELINE_MAX;
  fprintf(f, "## Timeline (flight recorder, %d events; t in real s from the incident)\n\n"
             "| t (s) | time | thread | level | message |\n|---:|---|---|---|---|\n", nev - first);
  for (int i = first; i < nev; i++, shown++) {
    const pv_event *e = &events[i];
    char w[20];
    pv_format_wall(e->wall_ns, w);
    fprintf(f, "| %+.3f | %s | %s | %s | ", (double)(e->mono_ns - raised) / 1e9, w + 11,
            e->thread, pv_log_level_name(e->level));
    cell(f, e->msg);
    fputs(" |\n", f);
  }
  fprintf(f, "\n## Memory (%d samples)\n\n![RSS over time](%s)\n\n"
             "| t (s) | RSS MB | peak MB | frames | fps | dropped | camera errors | point |\n"
             "|---:|---:|---:|---:|---:|---:|---:|---:|\n", ns, svg_name);
  for (int i = 0; i < ns; i++) {
    const pv_monitor_sample *s = &samples[i];
    fprintf(f, "| %+.1f | %.1f | %.1f | %" PRIu64 " | %.1f | %" PRIu64 " | %" PRIu64
               " | %d/%d |\n", (double)(s->mono_ns - raised) / 1e9, mb(s->rss_bytes),
            mb(s->peak_bytes), s->frames, s->fps, s->dropped, s->camera_errors, s->point,
            s->points);
  }
  int nthreads = pv_thread_list(threads, sizeof threads);
  fprintf(f, "\n## Threads (%d, name(tid))\n\n%s\n", nthreads, threads);
}

int pv_incident_write_report(const char *dir, pv_monitor *m, const char *cause,
                             const char *summary, int64_t raised_mono_ns,
                             int64_t raised_wall_ns, char *path, size_t cap,
                             pv_error *err) {
  return pv__incident_write_report(dir, m, cause, summary, raised_mono_ns, raised_wall_ns, -1,
                                   -1, path, cap, err);
}

int pv__incident_write_report(const char *dir, pv_monitor *m, const char *cause,
                              const char *summary, int64_t raised_mono_ns,
                              int64_t raised_wall_ns, int point_at, int points_at,
                              char *path, size_t cap, pv_error *err) {
  if (dir == NULL || dir[0] == '\0') dir = ".";
  if (cause == NULL) cause = "unknown";
  if (summary == NULL) summary = "";
  char base[4200], svg[4300];
  pthread_mutex_lock(&lock);
  pv_monitor_sample now;
  int ns = gather_samples(m, &now);
  int nev = pv_events_snapshot(events, EVENTS_SNAPSHOT);
  int rc = PV_OK;
  FILE *f = open_report(dir, raised_wall_ns, base, sizeof base);
  if (f == NULL) {
    rc = pv_error_set(err, PV_EIO, "%s/incident-*.md: cannot create: %s", dir, strerror(errno));
    goto out;
  }
  snprintf(svg, sizeof svg, "%s-memory.svg", base);
  const char *slash = strrchr(svg, '/');
  pv_c_locale_scope c_numbers = pv_c_locale_begin();
  write_md(f, cause, summary, raised_mono_ns, raised_wall_ns, point_at, points_at, &now, ns,
           nev, slash ? slash + 1 : svg);
  pv_c_locale_end(c_numbers);
  if (ferror(f) | fclose(f)) {
    rc = pv_error_set(err, PV_EIO, "%s.md: write failed: %s", base, strerror(errno));
    goto out;
  }
  FILE *g = fopen(svg, "w");
  if (g == NULL) {
    rc = pv_error_set(err, PV_EIO, "%s: cannot create: %s", svg, strerror(errno));
    goto out;
  }
  c_numbers = pv_c_locale_begin();
  write_svg(g, samples, ns, raised_mono_ns);
  pv_c_locale_end(c_numbers);
  if (ferror(g) | fclose(g)) rc = pv_error_set(err, PV_EIO, "%s: write failed", svg);
  if (path != NULL && cap > 0) snprintf(path, cap, "%s.md", base);
out:
  pthread_mutex_unlock(&lock);
  return rc;
}
