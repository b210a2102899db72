/* pause: PID 1 of every kubelet-lite pod sandbox.
 *
 * It holds the pod's namespaces open, reaps any child that gets reparented to
 * it (a container sharing the PID namespace may leave orphans), and exits 0 on
 * SIGTERM or SIGINT so that StopPodSandbox does not have to wait for SIGKILL.
 * Built static (musl) so the image needs no libc. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_terminate(int sig) {
        (void) sig;
        _exit(0);
}

static void on_child(int sig) {
        int saved_errno = errno;

        (void) sig;
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        errno = saved_errno;
}

static int install(int sig, void (*handler)(int)) {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = handler;
        sa.sa_flags = SA_RESTART | (sig == SIGCHLD ? SA_NOCLDSTOP : 0);
        sigemptyset(&sa.sa_mask);
        return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
        static const char msg[] = "pause: warning: not running as PID 1\n";

        if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
                static const char ver[] = "kubelet-lite pause 1.0\n";
                return write(STDOUT_FILENO, ver, sizeof(ver) - 1) < 0 ? 1 : 0;
        }
        if (getpid() != 1 && write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
                /* Nothing useful to do if stderr is gone. */
        }
        if (install(SIGTERM, on_terminate) < 0 || install(SIGINT, on_terminate) < 0 || install(SIGCHLD, on_child) < 0)
                return 2;
        for (;;)
                pause();
}
