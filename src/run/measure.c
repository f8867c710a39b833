/* The measurement hook: one external command per point.
 *
 * The parent builds the child's whole environment (argv, envp) before
 * fork, because the program is multi-threaded: between fork and exec the
 * child may only make async-signal-safe calls (setpgid, dup2, sigaction,
 * sigprocmask, execve, _exit), never malloc or setenv.
 *
 * The child leads its own process group, so a timeout kills the command and
 * everything it started (SIGKILL to -pid). Its stdout is a pipe read under
 * poll() against a monotonic deadline: the first bytes are kept, the rest
 * read and thrown away so the child never blocks on a full pipe. Only our
 * own pid is reaped (waitpid(pid), EINTR retried), so a SIGCHLD handler
 * elsewhere in the program does not interfere, and we reap no one else's
 * children.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probevision/run.h"

extern char **environ;

#define NVARS 5
static const char *const var_names[NVARS] = {"PV_RUN=", "PV_INDEX=", "PV_NAME=",
                                             "PV_X_UM=", "PV_Y_UM="};

typedef struct child_env {
  char vars[NVARS][PV_TARGET_NAME_MAX + 48];
  char **envp; /* malloc'd: environ without our names, then vars, NULL */
} child_env;

static int build_env(const pv_measure_env *e, child_env *ce) {
  snprintf(ce->vars[0], sizeof ce->vars[0], "PV_RUN=%" PRId64, e->run_id);
  snprintf(ce->vars[1], sizeof ce->vars[1], "PV_INDEX=%" PRId64, e->index);
  snprintf(ce->vars[2], sizeof ce->vars[2], "PV_NAME=%s", e->name ? e->name : "");
  pv_snprintf_c(ce->vars[3], sizeof ce->vars[3], "PV_X_UM=%.3f", e->x_um); /* '.' */
  pv_snprintf_c(ce->vars[4], sizeof ce->vars[4], "PV_Y_UM=%.3f", e->y_um);
  size_t n = 0;
  while (environ != NULL && environ[n] != NULL) n++;
  ce->envp = malloc((n + NVARS + 1) * sizeof *ce->envp);
  if (ce->envp == NULL) return PV_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int ours = 0;
    for (int v = 0; v < NVARS; v++)
      if (strncmp(environ[i], var_names[v], strlen(var_names[v])) == 0) ours = 1;
    if (!ours) ce->envp[k++] = environ[i];
  }
  for (int v = 0; v < NVARS; v++) ce->envp[k++] = ce->vars[v];
  ce->envp[k] = NULL;
  return 0;
}

/* In the child: async-signal-safe calls only. */
static void exec_child(const char *command, int out_fd, int null_fd,
                       char **envp) {
  setpgid(0, 0);
  if (dup2(out_fd, STDOUT_FILENO) < 0) _exit(127);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, NULL);
  sigaction(SIGINT, &dfl, NULL);
  sigaction(SIGTERM, &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  char *argv[] = {"sh", "-c", (char *)command, NULL};
  execve("/bin/sh", argv, envp);
  _exit(127);
}

static int wait_child(pid_t pid, int *status, int nohang) {
  for (;;) {
    pid_t r = waitpid(pid, status, nohang ? WNOHANG : 0);
    if (r >= 0) return (int)r;
    if (errno != EINTR) return -1;
  }
}

/* Reads the child's stdout until EOF or the deadline. Returns 0 at EOF,
 * PV_ETIMEDOUT, or PV_EIO. */
static int pump(int fd, int64_t deadline, char *out, size_t keep, size_t *kept) {
  char scratch[4096];
  for (;;) {
    int ms = -1;
    if (deadline > 0) {
      int64_t left = deadline - pv_now_ns();
      if (left <= 0) return PV_ETIMEDOUT;
      ms = (int)((left + PV_NS_PER_MS - 1) / PV_NS_PER_MS);
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, ms);
    if (r < 0 && errno != EINTR) return PV_EIO;
    if (r <= 0) continue;
    char *dst = *kept < keep ? out + *kept : scratch;
    size_t room = *kept < keep ? keep - *kept : sizeof scratch;
    ssize_t n = read(fd, dst, room);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return PV_EIO;
    }
    if (*kept < keep) *kept += (size_t)n;
  }
}

/* After EOF on stdout: waits for the exit until the deadline. */
static int reap(pid_t pid, int64_t deadline, int *wstatus) {
  for (int64_t nap = 100000;; nap = nap < 20 * PV_NS_PER_MS ? nap * 2 : nap) {
    int r = wait_child(pid, wstatus, 1);
    if (r == pid) return 0;
    if (r < 0) return PV_ECHILD;
    if (deadline > 0 && pv_now_ns() >= deadline) return PV_ETIMEDOUT;
    pv_sleep_ns(nap);
  }
}

int pv_measure_run(const char *command, double timeout_s,
                   const pv_measure_env *env, char *out, size_t cap,
                   int *exit_status, pv_error *err) {
  *exit_status = -1;
  if (cap > 0) out[0] = '\0';
  if (command == NULL || command[0] == '\0' || cap == 0)
    return pv_error_set(err, PV_EINVAL, "measure: empty command");
  size_t keep = cap - 1 < PV_MEASURE_OUTPUT_MAX ? cap - 1 : PV_MEASURE_OUTPUT_MAX;
  child_env ce;
  if (build_env(env, &ce) != 0)
    return pv_error_set(err, PV_ENOMEM, "measure: out of memory");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    free(ce.envp);
    return pv_error_set(err, PV_EIO, "measure: pipe: %s", strerror(errno));
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int64_t deadline = timeout_s > 0 ? pv_now_ns() + (int64_t)(timeout_s * 1e9) : 0;
  pid_t pid = fork();
  if (pid == 0) exec_child(command, fds[1], null_fd, ce.envp);
  int fork_errno = errno;
  close(fds[1]);
  if (null_fd >= 0) close(null_fd);
  free(ce.envp);
  if (pid < 0) {
    close(fds[0]);
    return pv_error_set(err, PV_ECHILD, "measure: fork: %s", strerror(fork_errno));
  }
  setpgid(pid, pid); /* also in the child: whichever runs first */

  size_t kept = 0;
  int wstatus = 0;
  int rc = pump(fds[0], deadline, out, keep, &kept);
  close(fds[0]);
  out[kept] = '\0';
  if (rc == 0) rc = reap(pid, deadline, &wstatus);
  if (rc == PV_ETIMEDOUT || rc == PV_EIO) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    wait_child(pid, &wstatus, 0);
    if (rc == PV_EIO)
      return pv_error_set(err, PV_EIO, "measure: reading the output failed");
    return pv_error_set(err, PV_ETIMEDOUT,
                        "measure: '%s' timed out after %.1f s (killed)",
                        command, timeout_s);
  }
  if (rc != 0)
    return pv_error_set(err, PV_ECHILD, "measure: waitpid: %s", strerror(errno));
  if (WIFEXITED(wstatus)) *exit_status = WEXITSTATUS(wstatus);
  else if (WIFSIGNALED(wstatus)) *exit_status = 128 + WTERMSIG(wstatus);
  if (WIFSIGNALED(wstatus))
    return pv_error_set(err, PV_ECHILD, "measure: '%s' killed by signal %d",
                        command, WTERMSIG(wstatus));
  if (*exit_status != 0)
    return pv_error_set(err, PV_ECHILD, "measure: '%s' exited with status %d",
                        command, *exit_status);
  return 0;
}
