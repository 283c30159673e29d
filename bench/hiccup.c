/*
 * The machine's own stalls, as jHiccup measures them: a busy loop reads CLOCK_MONOTONIC
 * without pause, and any gap between two reads is time its thread did not run — the core
 * taken by the kernel, another process, or the hypervisor. Nothing in it allocates, parses
 * or collects garbage, so what it records is the floor under every latency the bench
 * measures on this machine: no process here, C or Node, answers within a millisecond while
 * its core is gone for two.
 *
 *   hiccup SECONDS
 *   {"seconds":…,"over_0_5ms":…,"over_1ms":…,"over_2ms":…,"over_5ms":…,"max_ms":…,"lost_ms":…}
 *
 * over_Xms: how many gaps were longer than X ms; lost_ms: the gaps over 0.1 ms, added up.
 * bench/measure.ts builds it with `cc` (no library needed) and runs one per core.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 0;
  if (!(seconds > 0 && seconds <= 600)) {
    fprintf(stderr, "usage: hiccup SECONDS (0 < SECONDS <= 600)\n");
    return 2;
  }
  const double limits_ms[] = {0.5, 1, 2, 5};
  long over[4] = {0, 0, 0, 0};
  double max_ms = 0, lost_ms = 0;
  int64_t previous = now_ns();
  const int64_t end = previous + (int64_t)(seconds * 1e9);
  /* Bounded by time: the loop ends at `end` whatever the gaps were. */
  for (int64_t t = previous; t < end; previous = t) {
    t = now_ns();
    double gap_ms = (double)(t - previous) / 1e6;
    if (gap_ms <= 0.1) continue;
    lost_ms += gap_ms;
    if (gap_ms > max_ms) max_ms = gap_ms;
    for (int i = 0; i < 4; i++)
      if (gap_ms > limits_ms[i]) over[i]++;
  }
  printf(
      "{\"seconds\":%.3f,\"over_0_5ms\":%ld,\"over_1ms\":%ld,\"over_2ms\":%ld,\"over_5ms\":%ld,"
      "\"max_ms\":%.3f,\"lost_ms\":%.3f}\n",
      seconds, over[0], over[1], over[2], over[3], max_ms, lost_ms);
  return 0;
}
