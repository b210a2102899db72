/* SPDX-License-Identifier: Apache-2.0 */
/* Replay driver for fuzz targets without libFuzzer: feeds every file of the
 * directories (or the files) given on the command line to
 * LLVMFuzzerTestOneInput, each in a child process so one crashing input is
 * counted and named instead of ending the run. "passed" = ran without crash.
 * KL_REPLAY_NOFORK=1 runs inputs in-process (for gdb). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/macros.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int passed, failed;

static int run_one(const char *path) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r, status;
        pid_t pid;

        r = kl_read_file_at(AT_FDCWD, path, 64 * 1024 * 1024, 0, &buf, &len);
        if (r < 0) {
                fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-r));
                failed++;
                return r;
        }
        if (getenv("KL_REPLAY_NOFORK")) {
                LLVMFuzzerTestOneInput((const uint8_t *) buf, len);
                passed++;
                return 0;
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                fprintf(stderr, "fork: %m\n");
                failed++;
                return -errno;
        }
        if (pid == 0) {
                LLVMFuzzerTestOneInput((const uint8_t *) buf, len);
                free(TAKE_PTR(buf));
                exit(0); /* not _exit(): LeakSanitizer checks at exit */
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                passed++;
                return 0;
        }
        if (WIFSIGNALED(status))
                fprintf(stderr, "FAIL %s: killed by signal %d\n", path, WTERMSIG(status));
        else
                fprintf(stderr, "FAIL %s: exit status %d\n", path, WEXITSTATUS(status));
        failed++;
        return -EIO;
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void run_dir(const char *dir) {
        char **names = NULL;
        size_t n = 0;
        DIR *d = opendir(dir);

        if (!d) {
                fprintf(stderr, "%s: %m\n", dir);
                failed++;
                return;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                char **v = realloc(names, (n + 1) * sizeof(*v));
                if (!v)
                        break;
                names = v;
                if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
                        break;
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof(*names), name_cmp);
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
                        run_one(names[i]);
                free(names[i]);
        }
        free(names);
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %m\n", argv[i]);
                        failed++;
                } else if (S_ISDIR(st.st_mode))
                        run_dir(argv[i]);
                else
                        run_one(argv[i]);
        }
        const char *name = argc > 0 && strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : "replay";
        printf("%s: %d passed, %d failed\n", name, passed, failed);
        return failed ? 1 : 0;
}
