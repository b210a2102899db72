/* SPDX-License-Identifier: Apache-2.0 */
#include "tests.h"

#include <unistd.h>

struct kl_test kl__tests[KL_TESTS_MAX];
int kl__n_tests;
jmp_buf kl__test_jmp;
int kl__test_skipped;

/* Run every registered test, or only those named on the command line. */
int kl__test_main(int argc, char **argv) {
        volatile int passed = 0, failed = 0, skipped = 0;

        setvbuf(stdout, NULL, _IOLBF, 0);
        for (volatile int i = 0; i < kl__n_tests; i++) {
                const struct kl_test *t = &kl__tests[i];
                if (argc > 1) {
                        int want = 0;
                        for (int j = 1; j < argc; j++)
                                if (strcmp(argv[j], t->name) == 0)
                                        want = 1;
                        if (!want)
                                continue;
                }
                kl__test_skipped = 0;
                fflush(stdout);
                if (setjmp(kl__test_jmp) == 0) {
                        t->fn();
                        printf("ok %s\n", t->name);
                        passed++;
                } else if (kl__test_skipped) {
                        printf("skip %s\n", t->name);
                        skipped++;
                } else {
                        printf("FAIL %s\n", t->name);
                        failed++;
                }
        }
        if (skipped)
                printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
        else
                printf("%d passed, %d failed\n", passed, failed);
        if (failed)
                return 1;
        if (passed == 0 && skipped > 0)
                return 77;
        return 0;
}
