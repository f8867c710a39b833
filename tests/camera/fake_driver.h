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
} fake_driver;

fake_driver *fake_new(int width, int height);
void fake_free(fake_driver *f);
void fake_script_grabs(fake_driver *f, const int *results, int n);
void fake_script_opens(fake_driver *f, const int *results, int n);
void fake_script_starts(fake_driver *f, const int *results, int n);
/* A consistent copy of the fake's state (without its lock). */
void fake_snapshot(fake_driver *f, fake_driver *out);
extern const pv_camera_driver fake_driver_table;

#endif
