/* Replays fuzz inputs through a libFuzzer target without libFuzzer, so
 * every corpus file (seeds and every crash input added after a fix) stays a
 * regression test in a normal build: `replay_<target> FILE|DIR...` runs
 * LLVMFuzzerTestOneInput once per regular file (directories are read one
 * level deep, in name order, skipping dot files). A broken contract aborts
 * inside the target; exit status 1 if an argument cannot be read or no
 * input was found. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  size_t n;
  while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      uint8_t *bigger = realloc(buf, cap * 2);
      if (bigger == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
      cap *= 2;
    }
  }
  int failed = buf == NULL || ferror(f);
  fclose(f);
  if (failed) {
    fprintf(stderr, "%s: cannot read\n", path);
    free(buf);
    return -1;
  }
  /* An exact-size copy, so ASan sees reads past the input's end. */
  uint8_t *exact = malloc(len ? len : 1);
  if (exact == NULL) {
    free(buf);
    return -1;
  }
  memcpy(exact, buf, len);
  free(buf);
  fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay_dir(const char *dir, int *count) {
  struct dirent **names;
  int n = scandir(dir, &names, NULL, by_name);
  if (n < 0) {
    perror(dir);
    return -1;
  }
  int rc = 0;
  for (int i = 0; i < n; i++) {
    char path[4096];
    struct stat st;
    if (names[i]->d_name[0] != '.' &&
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) <
            (int)sizeof path &&
        stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      if (replay_file(path) < 0) rc = -1;
      (*count)++;
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  int count = 0, rc = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      rc = -1;
    } else if (S_ISDIR(st.st_mode)) {
      if (replay_dir(argv[i], &count) < 0) rc = -1;
    } else {
      if (replay_file(argv[i]) < 0) rc = -1;
      count++;
    }
  }
  printf("%d inputs replayed\n", count);
  if (count == 0) fprintf(stderr, "no inputs\n");
  return rc == 0 && count > 0 ? 0 : 1;
}
