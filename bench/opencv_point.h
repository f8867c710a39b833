/* Interface between bench_point.c and its optional OpenCV part
 * (opencv_point.cpp, built only when opencv4 is found: PV_BENCH_OPENCV):
 * the field system's per-point vision path. */
#ifndef PV_BENCH_OPENCV_POINT_H
#define PV_BENCH_OPENCV_POINT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Leaves OpenCV's threading at its default; writes its version and
 * returns the number of threads it will use (cv::getNumThreads). */
int pv_point_opencv_init(char *version, int n);
/* The field path on a BayerBG8 frame: cvtColor(BayerBG2RGB),
 * cvtColor(RGB2GRAY), matchTemplate(TM_CCOEFF_NORMED) over the whole frame,
 * minMaxLoc: the best placement's top-left and score. Keeps the score map
 * for pv_point_opencv_best_in (one thread). */
void pv_point_opencv_run(const uint8_t *bayer, int w, int h, int stride,
                         const uint8_t *t, int tw, int th, int tstride, int *u,
                         int *v, double *score);
/* Untimed: the best placement of the last run's score map whose centre
 * lies within rad of (cx, cy) (the same disc the sequencer searches). */
void pv_point_opencv_best_in(double cx, double cy, double rad, int *u, int *v,
                             double *score);

#ifdef __cplusplus
}
#endif
#endif
