/* probevision sim: the station simulator. In process: the simulated stage
 * (a stage driver, stage.h) and the simulated camera (a camera driver,
 * camera.h) rendering the scene (scene.h) at the stage's true position.
 * On the network, so that the real drivers (aravis camera, sentio stage)
 * can be run and tested with no hardware: a SENTIO remote-command server
 * driving a simulated stage, and a GigE Vision camera (probevision's own
 * device, src/sim/gv_*.c) whose frames are the scene rendered at that
 * stage's true position at each exposure start, stamped with the true
 * device time. `probevision sim` runs both.
 *
 * Only the simulator and the program (src/sim, src/cli) use this header;
 * the driver interfaces (camera.h, stage.h) and the run (run.h) know
 * nothing of scenes, truth sources or faults.
 *
 * Faults are described by specs "NAME:VALUE" (see pv_sim_faults) and are
 * repeatable: every random choice comes from the seed.
 */
#ifndef PROBEVISION_SIM_H
#define PROBEVISION_SIM_H

#include <stdint.h>

#include "probevision/camera.h"
#include "probevision/core.h"
#include "probevision/scene.h"
#include "probevision/sentio.h"
#include "probevision/stage.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

/* Where the simulated stage really is. Implemented by the simulated stage,
 * read by the simulated camera at exposure time. position_at must be
 * thread-safe. */
typedef struct pv_truth_source {
  void (*position_at)(void *ctx, int64_t t_ns, double *x_um, double *y_um);
  void *ctx;
} pv_truth_source;

/* Simulated camera: renders the scene at the truth source's position at
 * exposure time. */
typedef struct pv_sim_camera_params {
  int width, height;  /* default 2448 x 2048 */
  pv_pixfmt format;   /* default BAYER_BG8 */
  double fps;         /* default 16; 0: as fast as rendering allows (as
                         the camera.fps key means it) */
  double speed;       /* time scale: 1 real time, 0 as fast as possible;
                         every duration is multiplied by it (0.1: ten
                         times faster) */
  /* faults (probabilities per frame; 0 = none) for tests */
  double fault_nodata;
  double fault_incomplete;
  double packet_loss;  /* lost packets per thousand (0..1000); this driver
                          has no packet resend, so a frame of N packets of
                          PV_SIM_CAMERA_PACKET_BYTES is incomplete with
                          probability 1 - (1 - R/1000)^N (on top of
                          fault_incomplete) */
  /* once-only faults, after 2 s of nominal stream time (2 * fps frames
   * delivered, so they come as early at speed 0 as at speed 1). Their
   * durations are REAL seconds at every speed. */
  double stall_s;      /* no frames (PV_ETIMEDOUT) for stall_s s */
  double disconnect_s; /* grab returns PV_EDISCONNECTED and open fails with
                          it for disconnect_s s (after the stall, if any:
                          again 2 * fps frames after it ended) */
  uint64_t seed;
  /* Software trigger (acquisition AUTO or SOFTWARE asked at open): the
   * exposure starts this long after trigger() (scaled by speed; default
   * 50 us). */
  double trigger_latency_us;
} pv_sim_camera_params;

/* GigE Vision payload per packet of the simulated camera (1500-byte MTU
 * minus IP, UDP and GVSP headers). */
#define PV_SIM_CAMERA_PACKET_BYTES 1444

typedef struct pv_sim_stage_params {
  double speed_um_s;     /* travel speed (default 50000) */
  double settle_ms;      /* settle time after a move (default 30) */
  double error_frac;     /* landing error, fraction of the move length
                            (default 0.01) */
  double error_um;       /* plus a random error of this sigma (default 0.3) */
  double backlash_um;    /* lost motion on direction reversal (default 0.5) */
  double contact_um;     /* chuck height at contact (default 10000) */
  double separation_um;  /* separation height: this far below contact
                            (default 300) */
  double z_move_ms;      /* one Z move (contact <-> separation; default 20) */
  double x_min_um, x_max_um, y_min_um, y_max_um; /* travel range */
  double speed;          /* time scale: 1 real time, 0 as fast as possible;
                            durations are multiplied by it (0.1: ten times
                            faster) */
  double fault_error;    /* probability a move fails (tests) */
  double fault_timeout;  /* probability a move's reply never comes (tests):
                            the move is carried out, then the call waits
                            timeout_ms * speed and fails with PV_ETIMEDOUT,
                            as a client whose reply was lost */
  double timeout_ms;     /* that wait in simulated ms (default 10000) */
  uint64_t seed;
} pv_sim_stage_params;

typedef struct pv_sim_faults {
  double nodata;        /* "nodata:P": a whole frame not delivered, prob. P */
  double stall_s;       /* "stall:T": the camera stops sending for T s, once,
                           some seconds into the run */
  double packet_loss;   /* "packet-loss:R": GVSP packets lost per thousand */
  double disconnect_s;  /* "disconnect:T": the camera is gone for T s, once */
  double stage_timeout; /* "stage-timeout:P": a move reply delayed past the
                           client's timeout, prob. P */
  double stage_error;   /* "stage-error:P": a move answered with an error */
  double leader_delay_ms; /* "leader-delay:MS": the GigE Vision camera sends
                             each frame's leader MS ms after its exposure
                             ended (a readout longer than any model) */
  double queue_frames;  /* "queue:N" (1..8): the GigE Vision camera holds N
                           frames and sends them together */
  uint64_t seed;
} pv_sim_faults;

typedef struct pv_sentio_server pv_sentio_server;
typedef struct pv_gv_camera pv_gv_camera;
struct pv_config; /* probevision/config.h */

/* ---- functions -------------------------------------------------------- */

/* The simulated wafer of a configuration (keys sim.cols .. sim.seed and
 * camera.um_per_px) as scene parameters, into *w; the key table's ranges
 * are the scene's, so a checked configuration passes
 * pv_wafer_params_check. Thread-safe (reads c only). */
void pv_sim_wafer_params(const struct pv_config *c, pv_wafer_params *w);

/* The simulated camera driver. The scene and truth source are borrowed (must
 * outlive the camera). Returns the driver table and a new driver object. */
void pv_sim_camera_params_default(pv_sim_camera_params *p);
int pv_sim_camera_new(const pv_sim_camera_params *p, const pv_scene *scene,
                      pv_truth_source truth, const pv_camera_driver **drv,
                      void **self);

/* The simulated camera's record of frame `frame_id` (one of its last
 * PV_SIM_CAMERA_RECORDS exposures): when the software trigger that
 * produced it was fired (0 in continuous mode) and when its exposure
 * began, both pv_now_ns times. self: the object pv_sim_camera_new made
 * (alive until the camera that owns it is destroyed). PV_ENOTFOUND when
 * the frame is unknown or too old. Thread-safe (for tests checking what a
 * running camera delivered). */
#define PV_SIM_CAMERA_RECORDS 1024
int pv_sim_camera_frame_record(void *self, uint64_t frame_id, int64_t *fired_ns,
                               int64_t *exposure_ns);

/* The simulated stage. Its truth source (for the simulated camera) stays
 * valid until the stage is destroyed and is thread-safe. */
void pv_sim_stage_params_default(pv_sim_stage_params *p);
int pv_sim_stage_create(const pv_sim_stage_params *p, pv_stage **out);
pv_truth_source pv_sim_stage_truth(pv_stage *st);
/* XY moves the simulated stage refused because the chuck was in contact
 * (the interlock; a correct run makes none). 0 for other stages.
 * Thread-safe. */
uint64_t pv_sim_stage_xy_in_contact(pv_stage *st);

/* Parses one fault spec into f (other fields untouched). PV_EPARSE with a
 * message naming the spec and what is allowed. */
int pv_sim_fault_parse(const char *spec, pv_sim_faults *f, pv_error *err);

/* The simulated station behind the SENTIO server (see sentio_server.c for
 * the commands, references and error codes). Coordinates are micrometres;
 * "Zero" is the wafer's origin = the stage's own frame. */
typedef struct pv_sentio_server_params {
  pv_sim_faults faults;      /* stage-error, stage-timeout (XY moves) */
  pv_wafer_params wafer;     /* die grid of the map: cols, rows, pitch_x_um,
                                pitch_y_um, mark_x_um, mark_y_um (a map step
                                moves to the die's mark) */
  double machine_x_um, machine_y_um; /* Zero's origin in Machine coordinates
                                        (default 150000, 150000) */
  double home_x_um, home_y_um; /* the home position in Zero (NAN, the
                                  default: die (0, 0)'s mark) */
  double user_x_um, user_y_um; /* the User origin in Zero (NAN, the default:
                                  die (0, 0)'s centre) */
  double contact_um;         /* the stage's contact height and separation */
  double separation_um;      /* gap (defaults: pv_sim_stage_params_default) */
  double init_ms;            /* duration of start_initialization (real ms,
                                default 1500) */
  int uninitialized;         /* start not initialized (no home position) */
  int no_contact_height;     /* start without a contact height (error 23) */
} pv_sentio_server_params;

void pv_sentio_server_params_default(pv_sentio_server_params *p);

/* Serves SENTIO remote commands for `stage` (borrowed; the server is then
 * the stage's only user) on address:port (port 0: any free port). One
 * thread named "sentio"; up to PV_SENTIO_SERVER_CLIENTS clients at once
 * (more wait in the listen backlog), their commands serialised, each
 * client's lines answered in order. pv_sentio_server_start: default params
 * with `faults` (NULL: none). */
#define PV_SENTIO_SERVER_CLIENTS 8
int pv_sentio_server_start(pv_stage *stage, const char *address, int port,
                           const pv_sim_faults *faults,
                           pv_sentio_server **out, pv_error *err);
int pv_sentio_server_start_params(pv_stage *stage, const char *address, int port,
                                  const pv_sentio_server_params *p,
                                  pv_sentio_server **out, pv_error *err);
int pv_sentio_server_port(const pv_sentio_server *srv);
void pv_sentio_server_stop(pv_sentio_server *srv); /* accepts NULL */

/* A GigE Vision camera on `address` (an IPv4 interface address, e.g.
 * 127.0.0.1; GVCP port 3956, so one per address: PV_EBUSY when taken) with
 * serial number `serial`, rendering `scene` at truth's position at each
 * exposure start. Threads "gvcp" and "gvstream". scene and truth are
 * borrowed. Stop joins both threads and frees everything. */
int pv_gv_camera_start(const char *address, const char *serial,
                       const pv_scene *scene, pv_truth_source truth,
                       const pv_sim_faults *faults, pv_gv_camera **out,
                       pv_error *err);
void pv_gv_camera_stop(pv_gv_camera *cam); /* accepts NULL */

/* More of the GigE Vision camera: a sensor size (0: 2448 x 2048), a truth
 * log (one CSV line per frame sent, with a header: block_id,
 * exposure_start_ns, exposure_end_ns (pv_now_ns), device_timestamp (ticks),
 * x_um, y_um (truth at the exposure start), settled (1 if `stage` was
 * settled during the whole exposure, 0 if not, -1 without a stage)). The
 * stage (a simulated one, pv_sim_stage_create) is borrowed. */
typedef struct pv_gv_camera_options {
  int sensor_width, sensor_height;
  const char *truth_log; /* path, NULL: none */
  pv_stage *stage;       /* for `settled`; NULL: unknown */
} pv_gv_camera_options;
int pv_gv_camera_start_opts(const char *address, const char *serial, const pv_scene *scene,
                            pv_truth_source truth, const pv_sim_faults *faults,
                            const pv_gv_camera_options *opts, pv_gv_camera **out,
                            pv_error *err);

/* The camera's device clock: it ticks at 1 GHz and reads pv_now_ns() + this
 * offset (random, 1000 to 11000 s, chosen at start; GevTimestampControlReset
 * changes it; tests use it to check timestamps). Thread-safe. */
int64_t pv_gv_camera_clock_offset_ns(pv_gv_camera *cam);

/* 1 if the simulated stage was settled (not moving and past its settle
 * time) during the whole of [t0_ns, t1_ns], 0 if not, -1 if st is not a
 * simulated stage. Exact for intervals ending after the start of the move
 * before the last one. Thread-safe. */
int pv_sim_stage_settled_during(pv_stage *st, int64_t t0_ns, int64_t t1_ns);

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_SIM_H */
