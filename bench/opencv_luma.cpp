// bench_luma's OpenCV side: cv::cvtColor(COLOR_Bayer..2GRAY) on the same
// 8-bit buffer. Built only when opencv4 is found; the library never uses
// OpenCV.
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdint>
#include <cstdio>

extern "C" {
int pv_bench_cv_luma_init(char *version, int n);
void pv_bench_cv_threads(int n);
void pv_bench_cv_luma(const uint8_t *src, int w, int h, int stride, int order,
                      uint8_t *dst, int dstride);
}

static int default_threads = 1;

// Writes OpenCV's version; returns its default thread count.
extern "C" int pv_bench_cv_luma_init(char *version, int n) {
  snprintf(version, (size_t)n, "%s", CV_VERSION);
  default_threads = cv::getNumThreads();
  return default_threads;
}

// n > 0: n threads; n <= 0: OpenCV's default.
extern "C" void pv_bench_cv_threads(int n) {
  cv::setNumThreads(n > 0 ? n : default_threads);
}

// order: the GenICam order of the frame's pixel (0,0) cell, 0 BG, 1 GB,
// 2 GR, 3 RG. OpenCV names a pattern by the second row's second and third
// pixels, so GenICam BayerBG8 is OpenCV's BayerRG, and so on.
extern "C" void pv_bench_cv_luma(const uint8_t *src, int w, int h, int stride,
                                 int order, uint8_t *dst, int dstride) {
  static const int codes[4] = {cv::COLOR_BayerRG2GRAY, cv::COLOR_BayerGR2GRAY,
                               cv::COLOR_BayerGB2GRAY, cv::COLOR_BayerBG2GRAY};
  cv::Mat S(h, w, CV_8UC1, const_cast<uint8_t *>(src), (size_t)stride);
  cv::Mat D(h, w, CV_8UC1, dst, (size_t)dstride);
  cv::cvtColor(S, D, codes[order & 3]);
}
