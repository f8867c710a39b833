/* probevision sim: the station simulator on the network, so that the real
 * drivers (aravis camera, sentio stage) can be run and tested with no
 * hardware: a SENTIO remote-command server driving a simulated stage, and a
 * GigE Vision camera (Aravis's fake GV camera) whose frames are the scene
 * rendered at that stage's true position. `probevision sim` runs both.
 *
 * Faults are described by specs "NAME:VALUE" (see pv_sim_faults) and are
 * repeatable: every random choice comes from the seed.
 */
#ifndef PROBEVISION_SIM_H
#define PROBEVISION_SIM_H

#include <stdint.h>

#include "probevision/core.h"
#include "probevision/scene.h"
#include "probevision/sentio.h"
#include "probevision/stage.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

typedef struct pv_sim_faults {
  double nodata;        /* "nodata:P": a whole frame not delivered, prob. P */
  double stall_s;       /* "stall:T": the camera stops sending for T s, once,
                           some seconds into the run */
  double packet_loss;   /* "packet-loss:R": GVSP packets lost per thousand */
  double disconnect_s;  /* "disconnect:T": the camera is gone for T s, once */
  double stage_timeout; /* "stage-timeout:P": a move reply delayed past the
                           client's timeout, prob. P */
  double stage_error;   /* "stage-error:P": a move answered with an error */
  uint64_t seed;
} pv_sim_faults;

typedef struct pv_sentio_server pv_sentio_server;
typedef struct pv_gv_camera pv_gv_camera;

/* ---- functions -------------------------------------------------------- */

/* Parses one fault spec into f (other fields untouched). PV_EPARSE with a
 * message naming the spec and what is allowed. */
int pv_sim_fault_parse(const char *spec, pv_sim_faults *f, pv_error *err);

/* Serves the SENTIO remote-command subset for `stage` (borrowed; the server
 * is then the stage's only user) on address:port (port 0: any free port).
 * One thread named "sentio". Several clients may connect one after
 * another; each line is answered in order. */
int pv_sentio_server_start(pv_stage *stage, const char *address, int port,
                           const pv_sim_faults *faults,
                           pv_sentio_server **out, pv_error *err);
int pv_sentio_server_port(const pv_sentio_server *srv);
void pv_sentio_server_stop(pv_sentio_server *srv); /* accepts NULL */

/* A GigE Vision camera on `address` (an interface address, e.g. 127.0.0.1;
 * GVCP port 3956, so one per address) with serial number `serial`, rendering
 * `scene` at truth's position at each frame. Requires Aravis
 * (PV_EUNSUPPORTED otherwise). scene and truth are borrowed. */
int pv_gv_camera_start(const char *address, const char *serial,
                       const pv_scene *scene, pv_truth_source truth,
                       const pv_sim_faults *faults, pv_gv_camera **out,
                       pv_error *err);
void pv_gv_camera_stop(pv_gv_camera *cam); /* accepts NULL */

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_SIM_H */
