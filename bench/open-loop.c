/*
 * The fixed-rate, open-loop sender of `bench/open-loop.mjs`, in C over libcurl's multi
 * interface: no JavaScript, so no garbage collector or event-loop tick of its own lands in
 * the latencies it records. Same command line, same JSON line out:
 *
 *   open-loop URL RATE SECONDS [name:value ...]
 *   {"p50":…,"p99":…,"p999":…,"max":…,"service":{…},"sent":…,"errors":…,"failures":"…"}   (ms;
 *   failures: what failed the counted calls that did, "179 × status 503, 2 × Timeout was reached")
 *
 * Request i is due at start + i/RATE whether or not earlier ones answered; its latency is
 * counted from when it was due (coordinated omission corrected, as wrk2 does), and again
 * from when it was handed to libcurl ("service": what the servers took). The wait for the
 * next due time is a pselect with a nanosecond timeout, not a millisecond one, so the
 * sender's own lateness stays in microseconds. bench/measure.ts builds it with `cc` when
 * libcurl's headers are installed and falls back to the JavaScript sender otherwise.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

/* Connections kept to the target: far above what 1,000 req/s at sub-ms latency needs. */
#define MAX_CONNECTIONS 256
/* Requests in flight that warm the connections before the clock starts. */
#define WARM_CONNECTIONS 32

typedef struct {
  int64_t due_ns;
  int64_t sent_ns;
  int64_t index;
} transfer_t;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static size_t discard(char *data, size_t size, size_t count, void *unused) {
  (void)data;
  (void)unused;
  return size * count;
}

static int compare(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The value at `percentile` of sorted samples, in milliseconds (nearest rank, as HDR does). */
static double at_percentile(const int64_t *sorted, int64_t count, double percentile) {
  if (count == 0) return 0;
  int64_t rank = (int64_t)((percentile / 100.0) * (double)count + 0.5);
  if (rank < 1) rank = 1;
  if (rank > count) rank = count;
  return (double)sorted[rank - 1] / 1e6;
}

static CURL *new_handle(const char *url, struct curl_slist *headers) {
  CURL *easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
  return easy;
}

/* Waits for a socket of libcurl's, or until `deadline_ns`, whichever comes first. */
static void wait_until(CURLM *multi, int64_t deadline_ns) {
  long curl_timeout_ms = -1;
  curl_multi_timeout(multi, &curl_timeout_ms);
  int64_t wait_ns = deadline_ns - now_ns();
  if (curl_timeout_ms >= 0 && curl_timeout_ms * 1000000 < wait_ns)
    wait_ns = curl_timeout_ms * 1000000;
  if (wait_ns <= 0) return;
  fd_set readable, writable, failed;
  FD_ZERO(&readable);
  FD_ZERO(&writable);
  FD_ZERO(&failed);
  int max_fd = -1;
  curl_multi_fdset(multi, &readable, &writable, &failed, &max_fd);
  struct timespec timeout = {wait_ns / 1000000000, wait_ns % 1000000000};
  pselect(max_fd + 1, &readable, &writable, &failed, &timeout, NULL);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: open-loop URL RATE SECONDS [name:value ...]\n");
    return 2;
  }
  const char *url = argv[1];
  double rate = atof(argv[2]);
  double seconds = atof(argv[3]);
  if (rate <= 0 || seconds <= 0) {
    fprintf(stderr, "open-loop: RATE and SECONDS must be positive\n");
    return 2;
  }
  struct curl_slist *headers = NULL;
  for (int i = 4; i < argc; i++) headers = curl_slist_append(headers, argv[i]);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_CONNECTIONS);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)MAX_CONNECTIONS);

  /* Idle easy handles, reused so each request costs no set-up; at most one per connection
     in flight, and more are made when the target falls behind. */
  int64_t idle_count = 0, idle_capacity = MAX_CONNECTIONS;
  CURL **idle = malloc(sizeof(CURL *) * (size_t)idle_capacity);

  /* A warm-up second at the same rate, not recorded, after the connections are open: the
     servers' first-request paths settle before anything counts. */
  int64_t warm_up = (int64_t)(rate + 0.5);
  int64_t total = warm_up + (int64_t)(rate * seconds + 0.5);
  int64_t *latencies = malloc(sizeof(int64_t) * (size_t)total);
  int64_t *services = malloc(sizeof(int64_t) * (size_t)total);
  int64_t recorded = 0, errors = 0, sent = 0, running = 0;
  /* Failed counted calls by HTTP status (400-599) and by libcurl's error code. */
  int64_t by_status[600] = {0};
  int64_t by_curl_code[CURL_LAST] = {0};
  transfer_t *transfers = calloc((size_t)total + WARM_CONNECTIONS, sizeof(transfer_t));
  int still_running = 0;

  for (int i = 0; i < WARM_CONNECTIONS; i++) {
    CURL *easy = new_handle(url, headers);
    transfers[total + i].index = -1;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &transfers[total + i]);
    curl_multi_add_handle(multi, easy);
    running++;
  }

  int64_t started = 0;
  for (;;) {
    int64_t now = now_ns();
    /* Hand libcurl every request now due (after the warm connections answered). */
    if (started == 0 && running == 0) started = now + 5000000;
    while (started != 0 && sent < total) {
      int64_t due = started + (int64_t)((double)sent * 1e9 / rate);
      if (due > now) break;
      CURL *easy = idle_count > 0 ? idle[--idle_count] : new_handle(url, headers);
      transfer_t *transfer = &transfers[sent];
      transfer->due_ns = due;
      transfer->sent_ns = now_ns();
      transfer->index = sent++;
      curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer);
      curl_multi_add_handle(multi, easy);
      running++;
    }
    curl_multi_perform(multi, &still_running);
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read(multi, &left))) {
      if (message->msg != CURLMSG_DONE) continue;
      int64_t done = now_ns();
      CURL *easy = message->easy_handle;
      transfer_t *transfer;
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&transfer);
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      int failed = message->data.result != CURLE_OK || status >= 400;
      curl_multi_remove_handle(multi, easy);
      running--;
      if (transfer->index >= warm_up) {
        if (failed) {
          errors++;
          if (message->data.result != CURLE_OK) by_curl_code[message->data.result]++;
          else if (status < 600) by_status[status]++;
        }
        latencies[recorded] = done - transfer->due_ns;
        services[recorded] = done - transfer->sent_ns;
        recorded++;
      } else if (transfer->index < 0 && failed) {
        fprintf(stderr, "open-loop: warm-up request to %s failed: %s (status %ld)\n", url,
                curl_easy_strerror(message->data.result), status);
        return 1;
      }
      if (idle_count == idle_capacity) {
        idle_capacity *= 2;
        idle = realloc(idle, sizeof(CURL *) * (size_t)idle_capacity);
      }
      idle[idle_count++] = easy;
    }
    if (sent >= total && running == 0) break;
    int64_t next_due = sent < total && started != 0
                           ? started + (int64_t)((double)sent * 1e9 / rate)
                           : now_ns() + 100000000;
    wait_until(multi, next_due);
  }

  char failures[4096] = "";
  size_t used = 0;
  for (int code = 400; code < 600; code++) {
    if (by_status[code] == 0 || used >= sizeof failures) continue;
    used += (size_t)snprintf(failures + used, sizeof failures - used, "%s%lld \u00d7 status %d",
                             used ? ", " : "", (long long)by_status[code], code);
  }
  for (int code = 1; code < CURL_LAST; code++) {
    if (by_curl_code[code] == 0 || used >= sizeof failures) continue;
    used += (size_t)snprintf(failures + used, sizeof failures - used, "%s%lld \u00d7 %s",
                             used ? ", " : "", (long long)by_curl_code[code],
                             curl_easy_strerror((CURLcode)code));
  }

  qsort(latencies, (size_t)recorded, sizeof(int64_t), compare);
  qsort(services, (size_t)recorded, sizeof(int64_t), compare);
  printf("{\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,"
         "\"service\":{\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f},"
         "\"sent\":%lld,\"errors\":%lld,\"failures\":\"%s\"}\n",
         at_percentile(latencies, recorded, 50), at_percentile(latencies, recorded, 99),
         at_percentile(latencies, recorded, 99.9),
         recorded ? (double)latencies[recorded - 1] / 1e6 : 0,
         at_percentile(services, recorded, 50), at_percentile(services, recorded, 99),
         at_percentile(services, recorded, 99.9), (long long)recorded, (long long)errors, failures);
  return 0;
}
