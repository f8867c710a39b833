// bench_match's OpenCV side: cv::matchTemplate(TM_CCOEFF_NORMED) + minMaxLoc
// on the same 8-bit buffers, single-threaded. Built only when opencv4 is
// found; the library and the CLI never depend on OpenCV.
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_opencv.h"

extern "C" int pv_bench_opencv_init(char *version, int n) {
  cv::setNumThreads(1);  // one thread, like our single-threaded matcher
  snprintf(version, (size_t)n, "%s", CV_VERSION);
  return 1;
}

extern "C" void pv_bench_opencv_match(const uint8_t *img, int w, int h,
                                      int stride, const uint8_t *t, int tw,
                                      int th, int tstride, int *u, int *v,
                                      double *score) {
  cv::Mat I(h, w, CV_8UC1, const_cast<uint8_t *>(img), (size_t)stride);
  cv::Mat T(th, tw, CV_8UC1, const_cast<uint8_t *>(t), (size_t)tstride);
  cv::Mat r;
  cv::matchTemplate(I, T, r, cv::TM_CCOEFF_NORMED);
  double mx;
  cv::Point loc;
  cv::minMaxLoc(r, nullptr, &mx, nullptr, &loc);
  *u = loc.x;
  *v = loc.y;
  *score = mx;
}
