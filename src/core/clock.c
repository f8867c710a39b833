/* Monotonic and wall clocks, sleeping, thread names. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "probevision/core.h"

static _Thread_local char pv__thread_name[16] = "main";

int64_t pv_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * PV_NS_PER_S + ts.tv_nsec;
}

int64_t pv_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * PV_NS_PER_S + ts.tv_nsec;
}

void pv_sleep_ns(int64_t ns) {
  if (ns <= 0) return;
  struct timespec ts = {.tv_sec = ns / PV_NS_PER_S, .tv_nsec = ns % PV_NS_PER_S};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void pv_format_wall(int64_t wall_ns, char buf[20]) {
  time_t secs = (time_t)(wall_ns / PV_NS_PER_S);
  struct tm tm;
  localtime_r(&secs, &tm);
  if (strftime(buf, 20, "%Y-%m-%d %H:%M:%S", &tm) == 0) buf[0] = '\0';
}

void pv_thread_set_name(const char *name) {
  snprintf(pv__thread_name, sizeof pv__thread_name, "%s", name);
  pthread_setname_np(pthread_self(), pv__thread_name);
}

const char *pv_thread_name(void) { return pv__thread_name; }

int pv_thread_list(char *buf, size_t cap) {
  if (cap == 0) return 0;
  buf[0] = '\0';
  DIR *dir = opendir("/proc/self/task");
  if (dir == NULL) return 0;
  size_t used = 0;
  int count = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9') continue;
    char path[64], comm[32] = "?";
    snprintf(path, sizeof path, "/proc/self/task/%.20s/comm", de->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t n = read(fd, comm, sizeof comm - 1);
      close(fd);
      if (n > 0) {
        comm[n] = '\0';
        comm[strcspn(comm, "\n")] = '\0';
      }
    }
    int w = snprintf(buf + used, cap - used, "%s%s(%s)", count ? " " : "", comm, de->d_name);
    count++;
    if (w < 0 || (size_t)w >= cap - used) {
      used = cap - 1;
      break;
    }
    used += (size_t)w;
  }
  closedir(dir);
  return count;
}
