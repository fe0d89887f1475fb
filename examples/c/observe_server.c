/* examples/c/observe_server.c: serving a C program's circuits to the tools
 * Hystrix users run, over plain POSIX sockets.
 *
 *   GET /metrics         Prometheus text exposition (hystrix_registry_render_prometheus)
 *   GET /hystrix.stream  Server-Sent Events for the Netflix Hystrix dashboard and
 *                        Turbine: one frame of every named command per second,
 *                        then "ping:" (hystrix_registry_render_stream)
 *   GET /hystrix         the built-in live dashboard page (hystrix_dashboard_html)
 *
 * Two named commands run in the background so there is something to watch:
 * "inventory" always succeeds, "payments" fails two calls in three and keeps
 * tripping. The library renders every format; this file only moves bytes.
 *
 * Build: cc -pthread observe_server.c $(pkg-config --cflags --libs hystrix) -o observe_server
 * Run:   ./observe_server [PORT] [SECONDS]   (PORT 0 picks a free one; SECONDS 0 = forever)
 *        then open http://127.0.0.1:PORT/hystrix, or curl http://127.0.0.1:PORT/metrics
 * The first line on stdout names the address. */
#define _POSIX_C_SOURCE 200809L
#include <hystrix.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int stopping;

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Writes all of buf; 0 on success, -1 once the client has gone. */
static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A render function's text in a malloc'd buffer (sized by asking first:
 * counts can grow between the two calls, so a little room is added and the
 * call retried if that was not enough). NULL on failure. */
typedef hystrix_status (*render_fn)(void *arg, char *buf, size_t len, size_t *needed);

static char *render(render_fn fn, void *arg) {
    size_t needed = 0;
    if (fn(arg, NULL, 0, &needed) != HYSTRIX_OK) return NULL;
    for (int tries = 0; tries < 4; tries++) {
        size_t len = needed + 256;
        char *buf = malloc(len);
        if (!buf) return NULL;
        if (fn(arg, buf, len, &needed) == HYSTRIX_OK) return buf;
        free(buf);
    }
    return NULL;
}

static hystrix_status render_prometheus(void *arg, char *buf, size_t len, size_t *needed) {
    (void)arg;
    return hystrix_registry_render_prometheus(buf, len, needed);
}

static hystrix_status render_stream(void *arg, char *buf, size_t len, size_t *needed) {
    return hystrix_registry_render_stream(*(uint64_t *)arg, buf, len, needed);
}

static uint64_t wall_clock_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void respond(int fd, const char *status, const char *type, const char *body, size_t len) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, type, len);
    if (write_all(fd, head, (size_t)n) == 0) write_all(fd, body, len);
}

/* One frame of every named command per second until the client hangs up. */
static void serve_stream(int fd) {
    static const char head[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream;charset=UTF-8\r\n"
        "Cache-Control: no-cache, no-store, max-age=0, must-revalidate\r\nPragma: no-cache\r\n"
        "Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n";
    if (write_all(fd, head, sizeof head - 1) != 0) return;
    while (!atomic_load(&stopping)) {
        uint64_t now = wall_clock_ms();
        char *frame = render(render_stream, &now);
        int gone = !frame || write_all(fd, frame, strlen(frame)) != 0 || write_all(fd, "ping: \n\n", 8) != 0;
        free(frame);
        if (gone) return;
        sleep_ms(1000);
    }
}

static void *serve_client(void *arg) {
    int fd = (int)(intptr_t)arg;
    char req[2048];
    ssize_t n = recv(fd, req, sizeof req - 1, 0);
    if (n > 0) {
        req[n] = 0;
        char method[8] = "", path[256] = "";
        sscanf(req, "%7s %255s", method, path);
        char *query = strchr(path, '?');
        if (query) *query = 0;
        if (strcmp(method, "GET") != 0) {
            respond(fd, "405 Method Not Allowed", "text/plain", "GET only\n", 9);
        } else if (strcmp(path, "/metrics") == 0) {
            char *text = render(render_prometheus, NULL);
            if (text) respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
            else respond(fd, "500 Internal Server Error", "text/plain", "render failed\n", 14);
            free(text);
        } else if (strcmp(path, "/hystrix.stream") == 0) {
            serve_stream(fd);
        } else if (strcmp(path, "/hystrix") == 0 || strcmp(path, "/") == 0) {
            const char *html = NULL;
            size_t len = 0;
            hystrix_dashboard_html(&html, &len);
            respond(fd, "200 OK", "text/html; charset=utf-8", html, len);
        } else {
            respond(fd, "404 Not Found", "text/plain", "not found\n", 10);
        }
    }
    close(fd);
    return NULL;
}

static int32_t run_ok(void *user_data, void **out_value) {
    (void)user_data;
    *out_value = "ok";
    return HYSTRIX_OK;
}

/* Fails two calls in three. */
static int32_t run_flaky(void *user_data, void **out_value) {
    unsigned *n = user_data;
    if ((*n)++ % 3 != 0) return HYSTRIX_FAILURE;
    *out_value = "ok";
    return HYSTRIX_OK;
}

static int32_t fallback(void *user_data, hystrix_status cause, void **out_value) {
    (void)user_data;
    (void)cause;
    *out_value = "cached";
    return HYSTRIX_OK;
}

/* The demo traffic: a call to each command every 20 ms. */
static void *workload(void *arg) {
    hystrix_command **cmds = arg;
    unsigned n = 0;
    while (!atomic_load(&stopping)) {
        void *value = NULL;
        hystrix_command_execute(cmds[0], run_ok, fallback, NULL, &value);
        hystrix_command_execute(cmds[1], run_flaky, fallback, &n, &value);
        sleep_ms(20);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    int seconds = argc > 2 ? atoi(argv[2]) : 0;

    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.request_volume_threshold = 5;
    cfg.sleep_window_ms = 1000;
    hystrix_configure_named("payments", &cfg);
    hystrix_command *cmds[2] = {NULL, NULL};
    if (hystrix_command_named("inventory", &cmds[0]) != HYSTRIX_OK ||
        hystrix_command_named("payments", &cmds[1]) != HYSTRIX_OK) {
        fprintf(stderr, "observe_server: could not make the demo commands\n");
        return 1;
    }

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t addr_len = sizeof addr;
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 16) != 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &addr_len) != 0) {
        perror("observe_server: listen");
        return 1;
    }
    printf("observe_server: http://127.0.0.1:%d/hystrix (dashboard), /hystrix.stream, /metrics\n",
           ntohs(addr.sin_port));
    fflush(stdout);

    pthread_t traffic;
    pthread_create(&traffic, NULL, workload, cmds);
    /* Accept with a timeout so the SECONDS limit is noticed. */
    struct timeval tick = {0, 200000};
    setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
    time_t until = seconds > 0 ? time(NULL) + seconds : 0;
    while (!until || time(NULL) < until) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) continue;
        pthread_t client;
        if (pthread_create(&client, NULL, serve_client, (void *)(intptr_t)fd) == 0) pthread_detach(client);
        else close(fd);
    }
    atomic_store(&stopping, 1);
    pthread_join(traffic, NULL);
    close(listener);
    sleep_ms(1100); /* lets stream clients see `stopping` and return */
    hystrix_command_free(cmds[0]);
    hystrix_command_free(cmds[1]);
    hystrix_shutdown();
    return 0;
}
