/* Internal to src/camera and the fake MVS library of the tests: probevision's
 * own declarations of the part of the Hikvision MVS SDK C ABI
 * (libMvCameraControl.so) that the mvs driver uses. Written from the facts
 * of the public MVS headers (MvCameraControl.h, CameraParams.h,
 * MvErrorDefine.h, PixelType.h): the entry point names and signatures, the
 * layouts of the structures read or passed by address, and the constants.
 * Structures the SDK fills (device info, frame info) keep every field up
 * to the last one we read and the full reserved tail, so their size is the
 * SDK's. Nothing here is linked: the driver resolves the functions with
 * dlsym at run time (mvs_camera.c). Types and constants only; thread-safe.
 */
#ifndef PROBEVISION_CAMERA_MVS_ABI_H
#define PROBEVISION_CAMERA_MVS_ABI_H

#include <stdint.h>

/* ---- constants -------------------------------------------------------- */

/* Transport layers (nTLayerType, and the mask of MV_CC_EnumDevices). */
#define PV_MVS_GIGE_DEVICE 0x00000001u
#define PV_MVS_USB_DEVICE 0x00000004u

#define PV_MVS_MAX_DEVICE_NUM 256
#define PV_MVS_ACCESS_EXCLUSIVE 1u       /* OpenDevice access mode */
#define PV_MVS_EXCEPTION_DEV_DISCONNECT 0x00008001u
#define PV_MVS_MATCH_TYPE_NET_DETECT 0x00000001u
#define PV_MVS_MATCH_TYPE_USB_DETECT 0x00000002u

/* PixelFormat enum values (GigE Vision pixel format codes). */
#define PV_MVS_PIXEL_MONO8 0x01080001u
#define PV_MVS_PIXEL_BAYER_GR8 0x01080008u
#define PV_MVS_PIXEL_BAYER_RG8 0x01080009u
#define PV_MVS_PIXEL_BAYER_GB8 0x0108000Au
#define PV_MVS_PIXEL_BAYER_BG8 0x0108000Bu

/* Return codes: MV_OK, and the MV_E_* table in mvs_errors.c. */
#define PV_MVS_OK 0
#define PV_MVS_E_NODATA ((int)0x80000007u)

/* ---- types ------------------------------------------------------------ */

typedef struct pv_mvs_gige_info {      /* MV_GIGE_DEVICE_INFO */
  uint32_t ip_cfg_option, ip_cfg_current;
  uint32_t current_ip;                 /* host order: 0xC0A80A14 = 192.168.10.20 */
  uint32_t subnet_mask, gateway;
  unsigned char manufacturer[32], model[32], device_version[32];
  unsigned char manufacturer_info[48];
  unsigned char serial[16], user_name[16];
  uint32_t net_export;
  uint32_t reserved[4];
} pv_mvs_gige_info;

typedef struct pv_mvs_usb3_info {      /* MV_USB3_DEVICE_INFO */
  unsigned char ctrl_in, ctrl_out, stream_ep, event_ep;
  uint16_t vendor_id, product_id;
  uint32_t device_number;
  unsigned char guid[64], vendor[64], model[64], family[64];
  unsigned char device_version[64], manufacturer[64];
  unsigned char serial[64], user_name[64];
  uint32_t bcd_usb;
  uint32_t reserved[3];
} pv_mvs_usb3_info;

typedef struct pv_mvs_device_info {    /* MV_CC_DEVICE_INFO */
  uint16_t major_ver, minor_ver;
  uint32_t mac_high, mac_low;
  uint32_t tlayer_type;                /* PV_MVS_GIGE_DEVICE, ... */
  uint32_t reserved[4];
  union {
    pv_mvs_gige_info gige;
    pv_mvs_usb3_info usb3;
    unsigned char camera_link[6 * 64 + 38 * 4];
  } special;
} pv_mvs_device_info;

typedef struct pv_mvs_device_list {    /* MV_CC_DEVICE_INFO_LIST */
  uint32_t count;
  pv_mvs_device_info *info[PV_MVS_MAX_DEVICE_NUM];
} pv_mvs_device_list;

typedef struct pv_mvs_frame_info {     /* MV_FRAME_OUT_INFO_EX */
  uint16_t width, height;
  uint32_t pixel_type;                 /* enum MvGvspPixelType */
  uint32_t frame_num;
  uint32_t dev_ts_high, dev_ts_low;
  uint32_t reserved0;
  int64_t host_ts;                     /* host reception, ms (wall clock) */
  uint32_t frame_len;
  uint32_t second_count, cycle_count, cycle_offset;
  float gain, exposure_time;           /* exposure in us (chunk data) */
  uint32_t average_brightness, red, green, blue;
  uint32_t frame_counter, trigger_index, input, output;
  uint16_t offset_x, offset_y, chunk_width, chunk_height;
  uint32_t lost_packet;                /* packets lost in this frame */
  uint32_t unparsed_chunk_num;
  union {
    void *content;
    int64_t aligning;
  } unparsed_chunks;
  uint32_t reserved[36];
} pv_mvs_frame_info;

typedef struct pv_mvs_frame_out {      /* MV_FRAME_OUT */
  unsigned char *buf;
  pv_mvs_frame_info info;
  uint32_t reserved[16];
} pv_mvs_frame_out;

typedef struct pv_mvs_int_value {      /* MVCC_INTVALUE_EX */
  int64_t cur, max, min, inc;
  uint32_t reserved[16];
} pv_mvs_int_value;

typedef struct pv_mvs_float_value {    /* MVCC_FLOATVALUE */
  float cur, max, min;
  uint32_t reserved[4];
} pv_mvs_float_value;

typedef struct pv_mvs_match_info {     /* MV_ALL_MATCH_INFO */
  uint32_t type;                       /* PV_MVS_MATCH_TYPE_* */
  void *info;
  uint32_t info_size;
} pv_mvs_match_info;

typedef struct pv_mvs_net_detect {     /* MV_MATCH_INFO_NET_DETECT */
  int64_t received_bytes;
  int64_t lost_packets;
  uint32_t lost_frames;
  uint32_t received_frames;
  int64_t resend_requested;
  int64_t resent_packets;
} pv_mvs_net_detect;

typedef struct pv_mvs_usb_detect {     /* MV_MATCH_INFO_USB_DETECT */
  int64_t received_bytes;
  uint32_t received_frames;
  uint32_t error_frames;
  uint32_t reserved[2];
} pv_mvs_usb_detect;

typedef void (*pv_mvs_exception_cb)(unsigned int msg_type, void *user);

/* The entry points, as the SDK exports them (C linkage, default calling
 * convention). `bool` in the SDK's C headers is a char. */
typedef int (*pv_mvs_initialize_fn)(void);   /* MV_CC_Initialize (SDK >= 4) */
typedef int (*pv_mvs_finalize_fn)(void);     /* MV_CC_Finalize */
typedef unsigned int (*pv_mvs_sdk_version_fn)(void);
typedef int (*pv_mvs_enum_devices_fn)(unsigned int layers, pv_mvs_device_list *list);
typedef int (*pv_mvs_create_handle_fn)(void **handle, const pv_mvs_device_info *info);
typedef int (*pv_mvs_handle_fn)(void *handle); /* DestroyHandle, CloseDevice,
                                                  Start/StopGrabbing */
typedef int (*pv_mvs_open_device_fn)(void *handle, unsigned int access,
                                     unsigned short switchover_key);
typedef int (*pv_mvs_get_image_fn)(void *handle, pv_mvs_frame_out *frame,
                                   unsigned int timeout_ms);
typedef int (*pv_mvs_free_image_fn)(void *handle, pv_mvs_frame_out *frame);
typedef int (*pv_mvs_set_enum_fn)(void *handle, const char *key, unsigned int value);
typedef int (*pv_mvs_set_enum_str_fn)(void *handle, const char *key, const char *value);
typedef int (*pv_mvs_get_int_fn)(void *handle, const char *key, pv_mvs_int_value *out);
typedef int (*pv_mvs_set_int_fn)(void *handle, const char *key, int64_t value);
typedef int (*pv_mvs_get_float_fn)(void *handle, const char *key, pv_mvs_float_value *out);
typedef int (*pv_mvs_set_float_fn)(void *handle, const char *key, float value);
typedef int (*pv_mvs_set_bool_fn)(void *handle, const char *key, char value);
typedef int (*pv_mvs_command_fn)(void *handle, const char *key);
typedef int (*pv_mvs_packet_size_fn)(void *handle);  /* MV_CC_GetOptimalPacketSize */
typedef int (*pv_mvs_match_info_fn)(void *handle, pv_mvs_match_info *info);
typedef int (*pv_mvs_set_node_num_fn)(void *handle, unsigned int n);
typedef int (*pv_mvs_exception_cb_fn)(void *handle, pv_mvs_exception_cb cb, void *user);

#endif
