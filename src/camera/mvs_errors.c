/* The MVS SDK's return codes: name, meaning, and the probevision class the
 * mvs driver gives each (mvs_internal.h). One table, one line per code
 * (the X-macro style of PV_STATUS_MAP): the names and values are those of
 * the public MvErrorDefine.h; the meanings are ours, in short words.
 *
 * Classes: PV_ETIMEDOUT only for MV_E_NODATA (no frame before the
 * deadline: never a buffer overflow); PV_EINCOMPLETE for damaged frames;
 * PV_EDISCONNECTED for a device or network gone, busy or taken (the worker
 * reopens with backoff); PV_EUNSUPPORTED for what the camera or SDK cannot
 * do; PV_EFATAL for the rest (parameters, call order, resources, unknown).
 */
#include <stdio.h>

#include "mvs_internal.h"

#define MVS_ERROR_MAP(XX)                                                                  \
  XX(MV_E_HANDLE, 0x80000000, EFATAL, "invalid handle")                                    \
  XX(MV_E_SUPPORT, 0x80000001, EUNSUPPORTED, "function not supported")                     \
  XX(MV_E_BUFOVER, 0x80000002, EFATAL, "SDK buffer full")                                  \
  XX(MV_E_CALLORDER, 0x80000003, EFATAL, "functions called in the wrong order")            \
  XX(MV_E_PARAMETER, 0x80000004, EFATAL, "incorrect parameter")                            \
  XX(MV_E_RESOURCE, 0x80000006, EFATAL, "resource (memory) allocation failed")             \
  XX(MV_E_NODATA, 0x80000007, ETIMEDOUT, "no data: no frame before the deadline")         \
  XX(MV_E_PRECONDITION, 0x80000008, EFATAL, "precondition failed or environment changed")  \
  XX(MV_E_VERSION, 0x80000009, EUNSUPPORTED, "version mismatch")                           \
  XX(MV_E_NOENOUGH_BUF, 0x8000000A, EFATAL, "buffer too small")                            \
  XX(MV_E_ABNORMAL_IMAGE, 0x8000000B, EINCOMPLETE, "abnormal image (packets lost)")        \
  XX(MV_E_LOAD_LIBRARY, 0x8000000C, EUNSUPPORTED, "SDK could not load a library")          \
  XX(MV_E_NOOUTBUF, 0x8000000D, EFATAL, "no buffer available for output")                  \
  XX(MV_E_ENCRYPT, 0x8000000E, EFATAL, "encryption error")                                 \
  XX(MV_E_OPENFILE, 0x8000000F, EFATAL, "cannot open a file")                              \
  XX(MV_E_BUF_IN_USE, 0x80000010, EFATAL, "buffer already in use")                         \
  XX(MV_E_BUF_INVALID, 0x80000011, EFATAL, "invalid buffer address")                       \
  XX(MV_E_NOALIGN_BUF, 0x80000012, EFATAL, "buffer alignment error")                       \
  XX(MV_E_NOENOUGH_BUF_NUM, 0x80000013, EFATAL, "too few buffers")                         \
  XX(MV_E_PORT_IN_USE, 0x80000014, EDISCONNECTED, "port in use")                           \
  XX(MV_E_IMAGE_DECODEC, 0x80000015, EINCOMPLETE, "image decoding error")                  \
  XX(MV_E_UINT32_LIMIT, 0x80000016, EUNSUPPORTED, "image larger than 4 GB")                \
  XX(MV_E_IMAGE_HEIGHT, 0x80000017, EINCOMPLETE, "abnormal image height (partial frame)")  \
  XX(MV_E_NOENOUGH_DDR, 0x80000018, EFATAL, "frame grabber memory too small")              \
  XX(MV_E_NOENOUGH_STREAM, 0x80000019, EFATAL, "too few frame grabber streams")            \
  XX(MV_E_NORESPONSE, 0x8000001A, EDISCONNECTED, "device does not respond")                \
  XX(MV_E_WRITEFILE, 0x8000001B, EFATAL, "cannot write a file")                            \
  XX(MV_E_READFILE, 0x8000001C, EFATAL, "cannot read a file")                              \
  XX(MV_E_FILELENGTH, 0x8000001D, EFATAL, "bad file length")                               \
  XX(MV_E_RESOURCE_EVENT, 0x8000001E, EFATAL, "cannot create an event")                    \
  XX(MV_E_RESOURCE_THREAD, 0x8000001F, EFATAL, "cannot create a thread")                   \
  XX(MV_E_DEV_OFFLINE, 0x80000020, EDISCONNECTED, "device offline")                        \
  XX(MV_E_DEV_SUPPORT, 0x80000021, EUNSUPPORTED, "device does not support it")             \
  XX(MV_E_PLATFORM_SUPPORT, 0x80000022, EUNSUPPORTED, "not available on this platform")    \
  XX(MV_E_SERIAL_BUFFER_FULL, 0x80000023, EFATAL, "device serial buffer full")             \
  XX(MV_E_CHANNEL_INDEX, 0x80000024, EFATAL, "invalid stream channel")                     \
  XX(MV_E_PARAMETER_RANGE, 0x80000025, EFATAL, "parameter out of range")                   \
  XX(MV_E_RESOURCE_IO, 0x80000026, EFATAL, "I/O resource error")                           \
  XX(MV_E_IMAGE_INFO_INVALID, 0x80000027, EINCOMPLETE, "abnormal image size information")  \
  XX(MV_E_RESOURCE_IN_USE, 0x80000028, EDISCONNECTED, "device or stream in use elsewhere") \
  XX(MV_E_DEV_NOT_IMPLEMENTED, 0x80000041, EUNSUPPORTED, "command not implemented")        \
  XX(MV_E_DEV_INVALID_PARAMETER, 0x80000042, EFATAL, "command parameter invalid")          \
  XX(MV_E_DEV_INVALID_ADDRESS, 0x80000043, EFATAL, "register address does not exist")      \
  XX(MV_E_DEV_WRITE_PROTECT, 0x80000044, EFATAL, "register is read-only")                  \
  XX(MV_E_DEV_BAD_ALIGNMENT, 0x80000045, EFATAL, "register address misaligned")            \
  XX(MV_E_DEV_ACCESS_DENIED, 0x80000046, EFATAL, "register not accessible")                \
  XX(MV_E_DEV_BUSY, 0x80000047, EDISCONNECTED, "device busy")                              \
  XX(MV_E_DEV_MSG_TIMEOUT, 0x80000048, EDISCONNECTED, "device reply timed out")            \
  XX(MV_E_DEV_INVALID_HEADER, 0x80000049, EFATAL, "invalid command header")                \
  XX(MV_E_DEV_UNKNOWN, 0x8000004A, EFATAL, "unknown device error")                         \
  XX(MV_E_DEV_INVALID_PARAMS, 0x8000004B, EFATAL, "device returned invalid parameters")    \
  XX(MV_E_DEV_WRONG_CONFIG, 0x8000004C, EFATAL, "device configuration forbids it")         \
  XX(MV_E_DEV_CRC, 0x8000004D, EINCOMPLETE, "CRC error")                                   \
  XX(MV_E_INTERNAL, 0x800000FE, EFATAL, "SDK internal error")                              \
  XX(MV_E_UNKNOW, 0x800000FF, EFATAL, "unknown error")                                     \
  XX(MV_E_GC_GENERIC, 0x80000100, EFATAL, "GenICam error")                                 \
  XX(MV_E_GC_ARGUMENT, 0x80000101, EFATAL, "GenICam: illegal argument")                    \
  XX(MV_E_GC_RANGE, 0x80000102, EFATAL, "GenICam: value out of range")                     \
  XX(MV_E_GC_PROPERTY, 0x80000103, EFATAL, "GenICam: property error")                      \
  XX(MV_E_GC_RUNTIME, 0x80000104, EFATAL, "GenICam: runtime error")                        \
  XX(MV_E_GC_LOGICAL, 0x80000105, EFATAL, "GenICam: logical error")                        \
  XX(MV_E_GC_ACCESS, 0x80000106, EFATAL, "GenICam: node not accessible now")               \
  XX(MV_E_GC_TIMEOUT, 0x80000107, EDISCONNECTED, "GenICam: device access timed out")       \
  XX(MV_E_GC_DYNAMICCAST, 0x80000108, EFATAL, "GenICam: conversion error")                 \
  XX(MV_E_GC_NODE_NOT_FOUND, 0x80000109, EUNSUPPORTED, "GenICam: no such feature")         \
  XX(MV_E_GC_NODE_VERIFY, 0x8000010A, EFATAL, "GenICam: node check failed")                \
  XX(MV_E_GC_FILE, 0x8000010B, EFATAL, "GenICam: description file error")                  \
  XX(MV_E_GC_URL_DESC, 0x8000010C, EFATAL, "GenICam: bad description URL")                 \
  XX(MV_E_GC_UNKNOW, 0x800001FF, EFATAL, "GenICam: unknown error")                         \
  XX(MV_E_NOT_IMPLEMENTED, 0x80000200, EUNSUPPORTED, "command not supported by device")    \
  XX(MV_E_INVALID_ADDRESS, 0x80000201, EFATAL, "target address does not exist")            \
  XX(MV_E_WRITE_PROTECT, 0x80000202, EFATAL, "target address not writable")                \
  XX(MV_E_ACCESS_DENIED, 0x80000203, EDISCONNECTED, "no access (camera held elsewhere?)")  \
  XX(MV_E_BUSY, 0x80000204, EDISCONNECTED, "device busy or network disconnected")          \
  XX(MV_E_PACKET, 0x80000205, EINCOMPLETE, "network packet error")                         \
  XX(MV_E_NETER, 0x80000206, EDISCONNECTED, "network error")                               \
  XX(MV_E_DRIVERATTACH, 0x80000207, EUNSUPPORTED, "GigE driver not bound")                 \
  XX(MV_E_PACKET_ID_MISMATCH, 0x80000208, EINCOMPLETE, "packet id mismatch")               \
  XX(MV_E_IMAGE_BUFFER_OVERFLOW, 0x80000209, EINCOMPLETE, "image buffer overflow")         \
  XX(MV_E_NO_BUFFER_FOR_USE, 0x8000020A, EFATAL, "no buffer free for use")                 \
  XX(MV_E_XML_INFO_PACKET_ERR, 0x8000020B, EFATAL, "XML packet error")                     \
  XX(MV_E_TIMEOUT, 0x8000020C, EDISCONNECTED, "network timeout")                           \
  XX(MV_E_NET_TRANSMISSION_TYPE_ERR, 0x8000020D, EFATAL, "bad transmission type")          \
  XX(MV_E_SUPPORT_MODIFY_DEVICE_IP, 0x8000020E, EUNSUPPORTED, "IP change not supported")   \
  XX(MV_E_KEY_VERIFICATION, 0x8000020F, EDISCONNECTED, "switchover key rejected")          \
  XX(MV_E_VALUE_NOT_EXPECTED, 0x80000210, EFATAL, "unexpected value")                      \
  XX(MV_E_DEV_DISCONNECT, 0x80000211, EDISCONNECTED, "device disconnected")                \
  XX(MV_E_UDP_INIT, 0x80000212, EDISCONNECTED, "UDP initialisation failed")                \
  XX(MV_E_UDP_SEND_DATA, 0x80000213, EDISCONNECTED, "UDP send failed")                     \
  XX(MV_E_UDP_RECV_DATA, 0x80000214, EDISCONNECTED, "UDP receive failed")                  \
  XX(MV_E_UDP_CONNECT, 0x80000215, EDISCONNECTED, "UDP connection failed")                 \
  XX(MV_E_UDP_RESET_CONNECT, 0x80000216, EDISCONNECTED, "UDP reconnection failed")         \
  XX(MV_E_MULTICAST_ADD_DEVICE, 0x80000217, EDISCONNECTED, "multicast join failed")        \
  XX(MV_E_MULTICAST_IP_INVALID, 0x80000218, EFATAL, "address not multicast")               \
  XX(MV_E_IP_CONFLICT, 0x80000221, EDISCONNECTED, "device IP address conflict")            \
  XX(MV_E_USB_READ, 0x80000300, EDISCONNECTED, "USB read error")                           \
  XX(MV_E_USB_WRITE, 0x80000301, EDISCONNECTED, "USB write error")                         \
  XX(MV_E_USB_DEVICE, 0x80000302, EDISCONNECTED, "USB device error")                       \
  XX(MV_E_USB_GENICAM, 0x80000303, EFATAL, "USB GenICam error")                            \
  XX(MV_E_USB_BANDWIDTH, 0x80000304, EUNSUPPORTED, "USB bandwidth too low")                \
  XX(MV_E_USB_DRIVER, 0x80000305, EDISCONNECTED, "USB driver missing or mismatched")       \
  XX(MV_E_USB_UNKNOW, 0x800003FF, EDISCONNECTED, "USB unknown error")                      \
  XX(MV_E_UPG_FILE_MISMATCH, 0x80000400, EFATAL, "firmware mismatch")                      \
  XX(MV_E_UPG_LANGUSGE_MISMATCH, 0x80000401, EFATAL, "firmware language mismatch")         \
  XX(MV_E_UPG_CONFLICT, 0x80000402, EFATAL, "upgrade already running")                     \
  XX(MV_E_UPG_INNER_ERR, 0x80000403, EFATAL, "camera error during upgrade")                \
  XX(MV_E_UPG_UNKNOW, 0x800004FF, EFATAL, "unknown upgrade error")

typedef struct mvs_error {
  unsigned int code;
  const char *name;
  int status;
  const char *text;
} mvs_error;

static const mvs_error table[] = {
#define XX(name, code, cls, text) {code##u, #name, PV_##cls, text},
    MVS_ERROR_MAP(XX)
#undef XX
};

static const mvs_error *find(int code) {
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].code == (unsigned int)code) return &table[i];
  return NULL;
}

size_t pv__mvs_error_count(void) { return sizeof table / sizeof table[0]; }

int pv__mvs_error_code_at(size_t i) {
  return i < pv__mvs_error_count() ? (int)table[i].code : 0;
}

const char *pv__mvs_error_name(int code) {
  if (code == PV_MVS_OK) return "MV_OK";
  const mvs_error *e = find(code);
  return e ? e->name : NULL;
}

const char *pv__mvs_error_text(int code) {
  if (code == PV_MVS_OK) return "success";
  const mvs_error *e = find(code);
  return e ? e->text : "unknown MVS error code";
}

int pv__mvs_error_class(int code) {
  if (code == PV_MVS_OK) return PV_OK;
  const mvs_error *e = find(code);
  return e ? e->status : PV_EFATAL;
}

const char *pv__mvs_error_format(int code, char *buf, size_t cap) {
  const char *name = pv__mvs_error_name(code);
  snprintf(buf, cap, "%s 0x%08X (%s)", name ? name : "unknown MVS error",
           (unsigned int)code, pv__mvs_error_text(code));
  return buf;
}
