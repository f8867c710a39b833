/* A test-local camera driver with scripted grab and open results. It counts
 * every call and checks that all of them come from one thread that is not
 * the thread that created the fake. Its destroy only marks it destroyed, so
 * a test can inspect it after pv_camera_destroy; free it with fake_free. */
#ifndef PV_TEST_FAKE_DRIVER_H
#define PV_TEST_FAKE_DRIVER_H

#include <pthread.h>
#include <sys/types.h>

#include "probevision/camera.h"

#define FAKE_SCRIPT_MAX 256
#define FAKE_OPENS_MAX 32
#define FAKE_IDS_MAX 4096 /* frame ids the fake keeps a record of */
#define FAKE_QUEUE_MAX 64

/* Software trigger mode (trigger_mode set before the camera opens): what
 * one trigger does, scripted per trigger in order (then FAKE_T_OK). Every
 * trigger takes the next frame id, also one that yields no frame. */
enum {
  FAKE_T_OK,         /* its frame is queued at once */
  FAKE_T_LOST,       /* no frame ever */
  FAKE_T_LATE,       /* its frame comes after the next trigger's fire, before
                        that trigger's own frame (unless a stop came first:
                        stop drops undelivered frames) */
  FAKE_T_DUP,        /* its frame is queued, and again after the next fire */
  FAKE_T_INCOMPLETE, /* its frame comes torn (PV_EINCOMPLETE) */
  FAKE_LEFTOVER      /* (record only) queued by start, no trigger */
};

typedef struct fake_driver {
  pthread_mutex_t mu;
  int width, height;
  int grab_results[FAKE_SCRIPT_MAX]; /* consumed in order, then PV_OK */
  int grab_len, grab_pos;
  int open_results[FAKE_OPENS_MAX];  /* consumed in order, then PV_OK */
  int open_len, open_pos;
  int start_results[FAKE_OPENS_MAX]; /* consumed in order, then PV_OK */
  int start_len, start_pos;
  int ok_sleep_us;                   /* pace of good frames */
  int opens, opened, closes, starts, stops, grabs, good;
  int64_t open_times[FAKE_OPENS_MAX];
  pid_t creator_tid, driver_tid;
  int wrong_thread;                  /* calls from another thread */
  int bad_order;                     /* grab while not streaming, ... */
  int is_open, streaming, destroyed;
  uint8_t pattern;
  int simulated_clock;               /* reported by open (pv_camera_info) */
  double time_scale;
  /* software trigger mode */
  int trigger_mode;                  /* open offers SOFTWARE (can_trigger) */
  int software;                      /* open chose SOFTWARE */
  int trig_script[FAKE_SCRIPT_MAX];  /* FAKE_T_* per trigger, in order */
  int trig_len, trig_pos;
  int leftover_at_start;             /* frames the next start queues */
  int triggers;                      /* trigger calls */
  uint64_t next_id;                  /* last frame id taken */
  uint64_t queue[FAKE_QUEUE_MAX];    /* frames grab will return, in order */
  int queue_n;
  uint64_t late[FAKE_QUEUE_MAX];     /* frames released at the next fire */
  int late_n;
  int64_t fired_at[FAKE_IDS_MAX];    /* by id: its trigger's fire (0: none) */
  int id_kind[FAKE_IDS_MAX];         /* by id: FAKE_T_* / FAKE_LEFTOVER */
  uint64_t delivered_ids[FAKE_IDS_MAX]; /* ids grab returned, in order */
  int delivered_n;
} fake_driver;

fake_driver *fake_new(int width, int height);
void fake_free(fake_driver *f);
void fake_script_grabs(fake_driver *f, const int *results, int n);
void fake_script_opens(fake_driver *f, const int *results, int n);
void fake_script_starts(fake_driver *f, const int *results, int n);
/* Software trigger mode: what each next trigger does (FAKE_T_*). */
void fake_script_triggers(fake_driver *f, const int *kinds, int n);
/* A consistent copy of the fake's state (without its lock). */
void fake_snapshot(fake_driver *f, fake_driver *out);
extern const pv_camera_driver fake_driver_table;

#endif
