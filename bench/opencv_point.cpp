// bench_point's OpenCV side: the field system's per-point vision path
// (Bayer -> RGB -> grey, matchTemplate over the whole frame, minMaxLoc),
// with OpenCV's default threading. Built only when opencv4 is found; the
// library and the CLI never depend on OpenCV.
#include <cmath>
#include <cstdio>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "opencv_point.h"

static cv::Mat score_map;  // the last run's (bench_point is single-threaded)
static int map_tw, map_th;

extern "C" int pv_point_opencv_init(char *version, int n) {
  snprintf(version, (size_t)n, "%s", CV_VERSION);
  return cv::getNumThreads();
}

extern "C" void pv_point_opencv_run(const uint8_t *bayer, int w, int h, int stride,
                                    const uint8_t *t, int tw, int th, int tstride,
                                    int *u, int *v, double *score) {
  cv::Mat raw(h, w, CV_8UC1, const_cast<uint8_t *>(bayer), (size_t)stride);
  cv::Mat T(th, tw, CV_8UC1, const_cast<uint8_t *>(t), (size_t)tstride);
  cv::Mat rgb, grey;
  cv::cvtColor(raw, rgb, cv::COLOR_BayerBG2RGB);
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  cv::matchTemplate(grey, T, score_map, cv::TM_CCOEFF_NORMED);
  double mx;
  cv::Point loc;
  cv::minMaxLoc(score_map, nullptr, &mx, nullptr, &loc);
  map_tw = tw, map_th = th;
  *u = loc.x;
  *v = loc.y;
  *score = mx;
}

extern "C" void pv_point_opencv_best_in(double cx, double cy, double rad, int *u, int *v,
                                        double *score) {
  *u = *v = -1;
  *score = -2;
  double hw = (map_tw - 1) / 2.0, hh = (map_th - 1) / 2.0;
  for (int y = 0; y < score_map.rows; y++) {
    const float *row = score_map.ptr<float>(y);
    for (int x = 0; x < score_map.cols; x++)
      if (row[x] > *score && std::hypot(x + hw - cx, y + hh - cy) <= rad)
        *u = x, *v = y, *score = row[x];
  }
}
