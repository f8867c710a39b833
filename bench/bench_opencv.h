/* Interface between bench_match.c and its optional OpenCV part
 * (bench_opencv.cpp, built only when opencv4 is found: PV_BENCH_OPENCV). */
#ifndef PV_BENCH_OPENCV_H
#define PV_BENCH_OPENCV_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sets OpenCV to one thread, writes its version; returns 1. */
int pv_bench_opencv_init(char *version, int n);
/* matchTemplate(TM_CCOEFF_NORMED) + minMaxLoc: best top-left and score. */
void pv_bench_opencv_match(const uint8_t *img, int w, int h, int stride,
                           const uint8_t *t, int tw, int th, int tstride,
                           int *u, int *v, double *score);

#ifdef __cplusplus
}
#endif
#endif
