/* The pure parts of the aravis driver: buffer status -> worker class, pixel
 * formats, the reception-based exposure estimate, command errors.
 *
 * Status policy: only ARV_BUFFER_STATUS_SUCCESS is a good frame. MISSING_PACKETS,
 * SIZE_MISMATCH, ABORTED, FILLING and TIMEOUT (the frame timed out while
 * being received) carry a partial image; CLEARED, WRONG_PACKET_ID, UNKNOWN
 * and any status a later Aravis adds describe a buffer whose content is not
 * a whole frame either. All of them are PV_EINCOMPLETE: the frame is counted
 * and never published, and the stream goes on (a broken link shows up as
 * pop timeouts and control loss, which have their own classes).
 *
 * Estimate policy (cameras without timestamp latching, aravis_camera.c):
 * the sequencer must never accept a frame exposed before the stage settled,
 * so the exposure start may be estimated early, never late, and a frame
 * whose estimate has no such bound is UNCERTAIN (never used to align).
 * Aravis stamps a GigE frame with the wall clock when its leader packet
 * arrives, after exposure and (at least part of) readout; we move that
 * instant to the monotonic clock through a (wall, mono) pair read after the
 * pop and subtract the whole exposure time, a readout/transfer allowance
 * computed at GigE wire speed (an upper bound of the time the image spends
 * on a GigE link, generous for USB3 and loopback) plus a fixed 2 ms, and the
 * largest wall-clock step the driver could have missed. The model assumes
 * the camera sends the leader within that allowance after the exposure
 * ends; a camera whose leader comes later (long readout, internal queueing)
 * needs device timestamps or the software trigger. A stamp in the future of
 * the wall clock is never clamped to "now" (the buffer may have waited in
 * Aravis's queue): the frame is UNCERTAIN. Erring early only costs, at
 * worst, one more frame wait.
 */
#include "aravis_internal.h"

int pv__aravis_status(ArvBufferStatus status) {
  switch (status) {
  case ARV_BUFFER_STATUS_SUCCESS: return PV_OK;
  case ARV_BUFFER_STATUS_MISSING_PACKETS:
  case ARV_BUFFER_STATUS_SIZE_MISMATCH:
  case ARV_BUFFER_STATUS_ABORTED:
  case ARV_BUFFER_STATUS_FILLING:
  case ARV_BUFFER_STATUS_TIMEOUT:
  case ARV_BUFFER_STATUS_CLEARED:
  case ARV_BUFFER_STATUS_WRONG_PACKET_ID:
  case ARV_BUFFER_STATUS_UNKNOWN:
  default: return PV_EINCOMPLETE;
  }
}

static const struct {
  pv_pixfmt pv;
  ArvPixelFormat arv;
} formats[] = {
    {PV_PIXFMT_MONO8, ARV_PIXEL_FORMAT_MONO_8},
    {PV_PIXFMT_BAYER_BG8, ARV_PIXEL_FORMAT_BAYER_BG_8},
    {PV_PIXFMT_BAYER_GB8, ARV_PIXEL_FORMAT_BAYER_GB_8},
    {PV_PIXFMT_BAYER_GR8, ARV_PIXEL_FORMAT_BAYER_GR_8},
    {PV_PIXFMT_BAYER_RG8, ARV_PIXEL_FORMAT_BAYER_RG_8},
};

ArvPixelFormat pv__aravis_pixfmt_to_arv(pv_pixfmt fmt) {
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (formats[i].pv == fmt) return formats[i].arv;
  return 0;
}

int pv__aravis_pixfmt_from_arv(ArvPixelFormat fmt) {
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (formats[i].arv == fmt) return (int)formats[i].pv;
  return -1;
}

pv_frame_time pv__aravis_estimate(uint64_t system_ts_ns, int64_t wall_now_ns, int64_t mono_now_ns,
                                  int64_t exposure_ns, int64_t latency_ns, int64_t margin_ns,
                                  int64_t *out) {
  if (system_ts_ns == 0 || system_ts_ns > (uint64_t)INT64_MAX ||
      (int64_t)system_ts_ns > wall_now_ns)
    return PV_FRAME_TIME_UNCERTAIN;
  int64_t age = wall_now_ns - (int64_t)system_ts_ns;
  if (exposure_ns < 0) exposure_ns = 0;
  if (latency_ns < 0) latency_ns = 0;
  if (margin_ns < 0) margin_ns = 0;
  *out = mono_now_ns - age - exposure_ns - latency_ns - margin_ns;
  return PV_FRAME_TIME_ESTIMATE;
}

int pv__aravis_command_status(GQuark domain, int code) {
  if (domain != ARV_DEVICE_ERROR) return PV_ETIMEDOUT;
  switch (code) {
  case ARV_DEVICE_ERROR_NOT_CONNECTED: return PV_EDISCONNECTED;
  case ARV_DEVICE_ERROR_FEATURE_NOT_FOUND:
  case ARV_DEVICE_ERROR_WRONG_FEATURE:
  case ARV_DEVICE_ERROR_GENICAM_NOT_FOUND:
  case ARV_DEVICE_ERROR_NOT_CONTROLLER:
  case ARV_DEVICE_ERROR_PROTOCOL_ERROR_NOT_IMPLEMENTED: return PV_EFATAL;
  default: return PV_ETIMEDOUT;
  }
}
