/* probevision stage: the stage driver interface and the sentio driver (an
 * MPI SENTIO probe station's remote commands over TCP; its wire protocol is
 * probevision/sentio.h). The simulated stage is part of the simulator
 * (probevision/sim.h).
 *
 * Positions are micrometres in the stage's frame. A stage is owned by one
 * thread (the stepper); no function here is thread-safe against another
 * call on the same stage.
 */
#ifndef PROBEVISION_STAGE_H
#define PROBEVISION_STAGE_H

#include <stdint.h>

#include "probevision/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

/* Where the chuck's Z is: probes touching the wafer (CONTACT), at the
 * separation height below it (SEPARATION, the only height at which XY may
 * move), or elsewhere (UNKNOWN: not yet known, or between). */
typedef enum pv_stage_z {
  PV_STAGE_Z_UNKNOWN = 0,
  PV_STAGE_Z_SEPARATION,
  PV_STAGE_Z_CONTACT
} pv_stage_z;

/* A step along the station's own wafer map (SENTIO map:step_*). */
typedef enum pv_map_step_kind {
  PV_MAP_STEP_FIRST, /* the route's first die */
  PV_MAP_STEP_NEXT,  /* the die after the current one */
  PV_MAP_STEP_DIE    /* the die (col, row, site) of the request */
} pv_map_step_kind;

typedef struct pv_map_die {
  int col, row, site;
  int end_of_route;   /* 1: this die is the route's last */
  double x_um, y_um;  /* the chuck's position after the step */
} pv_map_die;

typedef struct pv_stage_driver {
  const char *name;
  int (*connect)(void *self, pv_error *err);
  int (*move_abs)(void *self, double x_um, double y_um, pv_error *err);
  int (*move_rel)(void *self, double dx_um, double dy_um, pv_error *err);
  /* Blocks until the last move has ended and the stage has settled; sets
   * *t_settled_ns (monotonic) to the moment it settled. */
  int (*wait_settled)(void *self, int64_t *t_settled_ns, pv_error *err);
  /* The position the stage reports (its encoders / controller). */
  int (*get_position)(void *self, double *x_um, double *y_um, pv_error *err);
  /* The true position (simulated stages only; else PV_EUNSUPPORTED). */
  int (*get_truth)(void *self, double *x_um, double *y_um);
  void (*destroy)(void *self);
  /* Z (NULL when the stage has none: runs must then leave probe.contact
   * off). contact / separate move the chuck to its contact / separation
   * height and report the height reached (um); get_z reports the height
   * and where that is. A stage refuses an XY move while in contact. */
  int (*contact)(void *self, double *z_um, pv_error *err);
  int (*separate)(void *self, double *z_um, pv_error *err);
  int (*get_z)(void *self, double *z_um, pv_stage_z *where, pv_error *err);
  /* Wafer-map stepping by the station (NULL: none): the station moves the
   * chuck to the die and reports it. PV_ENOTFOUND when NEXT is asked after
   * the route's last die. */
  int (*map_step)(void *self, pv_map_step_kind kind, int col, int row, int site,
                  pv_map_die *out, pv_error *err);
} pv_stage_driver;

typedef struct pv_stage pv_stage;

/* The sentio stage: a TCP client of SENTIO's remote commands (XY moves and
 * position, contact / separation / Z height, wafer-map stepping). See
 * src/stage/sentio_session.c for the commands and the retry policy. */
#define PV_SENTIO_HOST_CAP 256
typedef struct pv_sentio_stage_params {
  char host[PV_SENTIO_HOST_CAP]; /* name or address of the SENTIO PC */
  int port;                 /* default 35555 */
  int connect_timeout_ms;   /* TCP connect and handshake (default 3000) */
  int timeout_ms;           /* reply to one command (default 10000); a
                               move's reply comes when the move is done */
  int retries;              /* extra attempts of a failed or timed-out move
                               or position query (default 2) */
  int settle_ms;            /* dwell after a move's reply before the stage
                               counts as settled (default 0) */
  int reconnect_ms;         /* after a connection that worked is lost, how
                               long a command keeps reconnecting (with
                               backoff) before it fails: rides out a station
                               restart (default 10000; at least
                               connect_timeout_ms + 1000; 0: fail at once) */
} pv_sentio_stage_params;

/* ---- functions -------------------------------------------------------- */

/* Wraps a driver object (ownership of self passes to the stage). */
int pv_stage_create(const pv_stage_driver *drv, void *self, pv_stage **out);
void pv_stage_destroy(pv_stage *st);
const char *pv_stage_driver_name(const pv_stage *st);

int pv_stage_connect(pv_stage *st, pv_error *err);
int pv_stage_move_abs(pv_stage *st, double x_um, double y_um, pv_error *err);
int pv_stage_move_rel(pv_stage *st, double dx_um, double dy_um,
                      pv_error *err);
int pv_stage_wait_settled(pv_stage *st, int64_t *t_settled_ns, pv_error *err);
int pv_stage_get_position(pv_stage *st, double *x_um, double *y_um,
                          pv_error *err);
int pv_stage_get_truth(pv_stage *st, double *x_um, double *y_um);
/* Z and map stepping; PV_EUNSUPPORTED (err says which stage) when the
 * driver has no such entry. pv_stage_has_z / pv_stage_has_map: 1 when it
 * has. */
int pv_stage_contact(pv_stage *st, double *z_um, pv_error *err);
int pv_stage_separate(pv_stage *st, double *z_um, pv_error *err);
int pv_stage_get_z(pv_stage *st, double *z_um, pv_stage_z *where, pv_error *err);
int pv_stage_map_step(pv_stage *st, pv_map_step_kind kind, int col, int row, int site,
                      pv_map_die *out, pv_error *err);
int pv_stage_has_z(const pv_stage *st);
int pv_stage_has_map(const pv_stage *st);
/* The driver object of st when st was created over driver table drv, else
 * NULL (also for st NULL): how a driver recognises its own stages (e.g.
 * pv_sim_stage_truth). The stage keeps ownership. Thread-safe (reads
 * fields that never change after creation). */
void *pv_stage_driver_self(const pv_stage *st, const pv_stage_driver *drv);

/* The sentio stage. Defaults as documented above (host 127.0.0.1). */
void pv_sentio_stage_params_default(pv_sentio_stage_params *p);
/* Fills p->host and p->port from "HOST:PORT" or "HOST" (port 35555);
 * "[v6addr]:PORT" for IPv6. PV_EPARSE with the spec in err. */
int pv_sentio_parse_address(const char *spec, pv_sentio_stage_params *p,
                            pv_error *err);
/* Creates the stage without connecting (pv_stage_connect connects; every
 * command reconnects transparently after a dropped connection). Not
 * thread-safe: one thread owns the stage. get_truth: PV_EUNSUPPORTED.
 * PV_EINVAL with a message when p is inconsistent. */
int pv_sentio_stage_create(const pv_sentio_stage_params *p, pv_stage **out,
                           pv_error *err);

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_STAGE_H */
