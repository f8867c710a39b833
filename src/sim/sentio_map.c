/* The simulator's SENTIO server: the wafer map over the simulated wafer's
 * die grid (cols x rows, pitch, mark offset of pv_sentio_server_params).
 *
 * The route holds every die, row by row from row 0, serpentine like a
 * prober's bidirectional row stepping (SENTIO's "wr"): row 0 from column 0
 * up, row 1 from the last column down, row 2 up again, ... Each die has one
 * site (site 0). A step moves the chuck (an XY move with the faults and
 * the interlock, see pv__srv_xy_move) to the die's alignment mark,
 * (col * pitch_x + mark_x, row * pitch_y + mark_y) in Zero, and makes the
 * die active; a step that fails leaves the active die as it was.
 *
 *   map:step_first_die [SITE]   col,row,site of the route's first die
 *   map:step_next_die [SITE]    the die after the active one (the first
 *                               when none is active); on the route's last
 *                               die the status bit EndOfRoute; after it
 *                               error 11 (with EndOfRoute)
 *   map:step_die COL, ROW[, SITE]   that die; 8 outside the grid
 *   map:die:get_current_index   listIndex,col,row of the active die; 12
 *                               "No die active" before any step
 * Every step's reply carries LastSite (one site per die). SITE must be 0
 * (8 otherwise); 6 for numbers that are not integers, 7 for a wrong count.
 */
#include <strings.h>

#include "sentio_internal.h"

static int route_count(const pv_sentio_server *s) {
  return s->p.wafer.cols * s->p.wafer.rows;
}

static void route_die(const pv_sentio_server *s, int i, int *col, int *row) {
  int cols = s->p.wafer.cols;
  *row = i / cols;
  *col = (*row % 2 == 0) ? i % cols : cols - 1 - i % cols;
}

static int route_index(const pv_sentio_server *s, int col, int row) {
  int cols = s->p.wafer.cols;
  return row * cols + (row % 2 == 0 ? col : cols - 1 - col);
}

/* SITE argument a (NULL: 0): 0, or the error with r set. */
static int check_site_index(const char *a, pv__srv_reply *r) {
  int site = 0;
  if (a && pv__srv_parse_int(a, &site) < 0) {
    pv__srv_set(r, PV_SENTIO_ERR_INVALID_PARAM, "site '%s' is not an integer", a);
    return r->code;
  }
  if (site != 0) {
    pv__srv_set(r, PV_SENTIO_ERR_OUT_OF_BOUNDS, "site %d out of range: each die has one site, 0", site);
    return r->code;
  }
  return 0;
}

static void step_to(pv_sentio_server *s, int i, pv__srv_reply *r) {
  const pv_wafer_params *w = &s->p.wafer;
  int col, row;
  route_die(s, i, &col, &row);
  if (pv__srv_check_ready(s, r)) return;
  if (pv__srv_xy_move(s, col * w->pitch_x_um + w->mark_x_um, row * w->pitch_y_um + w->mark_y_um,
                      r))
    return;
  s->route_pos = i;
  r->status = PV__SRV_STAT(PV_SENTIO_STAT_LAST_SITE) | (i == route_count(s) - 1 ? PV__SRV_STAT(PV_SENTIO_STAT_END_OF_ROUTE) : 0);
  pv__srv_set(r, 0, "%d,%d,0", col, row);
}

int pv__srv_map_command(pv_sentio_server *s, const char *name, char **a, int n,
                        pv__srv_reply *r) {
  int first = strcasecmp(name, "step_first_die") == 0;
  if (first || strcasecmp(name, "step_next_die") == 0) {
    if (n > 1) {
      pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "map:%s wants [SITE]", name);
    } else if (check_site_index(n ? a[0] : NULL, r) == 0) {
      if (!first && s->route_pos == route_count(s) - 1) {
        int col, row;
        route_die(s, s->route_pos, &col, &row);
        r->status = PV__SRV_STAT(PV_SENTIO_STAT_END_OF_ROUTE);
        pv__srv_set(r, PV_SENTIO_ERR_END_OF_ROUTE, "end of route: die %d,%d was the last", col, row);
      } else {
        step_to(s, first ? 0 : s->route_pos + 1, r);
      }
    }
    return 1;
  }
  if (strcasecmp(name, "step_die") == 0) {
    int col, row;
    const pv_wafer_params *w = &s->p.wafer;
    if (n != 2 && n != 3)
      pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "map:step_die wants COL, ROW[, SITE]");
    else if (pv__srv_parse_int(a[0], &col) < 0 || pv__srv_parse_int(a[1], &row) < 0)
      pv__srv_set(r, PV_SENTIO_ERR_INVALID_PARAM, "COL and ROW must be integers: '%s', '%s'", a[0], a[1]);
    else if (col < 0 || col >= w->cols || row < 0 || row >= w->rows)
      pv__srv_set(r, PV_SENTIO_ERR_OUT_OF_BOUNDS, "die %d,%d is outside the map (%d columns, %d rows)", col,
                  row, w->cols, w->rows);
    else if (check_site_index(n == 3 ? a[2] : NULL, r) == 0)
      step_to(s, route_index(s, col, row), r);
    return 1;
  }
  if (strcasecmp(name, "die:get_current_index") == 0) {
    int col, row;
    if (n != 0) {
      pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "map:die:get_current_index takes no parameters");
    } else if (s->route_pos < 0) {
      pv__srv_set(r, PV_SENTIO_ERR_INVALID_OPERATION, "No die active");
    } else {
      route_die(s, s->route_pos, &col, &row);
      pv__srv_set(r, 0, "%d,%d,%d", s->route_pos, col, row);
    }
    return 1;
  }
  return 0;
}
