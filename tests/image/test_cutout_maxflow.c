/* Checks the BK max-flow against a plain Edmonds-Karp on random graphs, and
 * that the returned cut has exactly the capacity of the flow (min-cut =
 * max-flow), which catches both wrong flows and wrong labelling. */
#include "cutout_maxflow.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 40
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

/* Dense Edmonds-Karp; nodes 0..n-1, source n, sink n+1. */
static double reference_flow(int n, double cap[MAXN + 2][MAXN + 2])
{
    int s = n, t = n + 1, total = n + 2;
    double flow = 0;
    for (;;) {
        int prev[MAXN + 2], queue[MAXN + 2], qh = 0, qt = 0;
        for (int i = 0; i < total; i++)
            prev[i] = -1;
        prev[s] = s;
        queue[qt++] = s;
        while (qh < qt && prev[t] < 0) {
            int u = queue[qh++];
            for (int v = 0; v < total; v++)
                if (prev[v] < 0 && cap[u][v] > 1e-9) {
                    prev[v] = u;
                    queue[qt++] = v;
                }
        }
        if (prev[t] < 0)
            return flow;
        double b = 1e30;
        for (int v = t; v != s; v = prev[v])
            b = fmin(b, cap[prev[v]][v]);
        for (int v = t; v != s; v = prev[v]) {
            cap[prev[v]][v] -= b;
            cap[v][prev[v]] += b;
        }
        flow += b;
    }
}

int main(void)
{
    static double cap[MAXN + 2][MAXN + 2], orig[MAXN + 2][MAXN + 2];
    for (int trial = 0; trial < 500; trial++) {
        int n = 2 + (int)(rng() % (MAXN - 1));
        int m = (int)(rng() % (unsigned)(n * 3 + 1));
        memset(cap, 0, sizeof(cap));
        mf_graph *g = mf_create(n, m);
        CHECK(g);
        for (int i = 0; i < n; i++) {
            float cs = (rng() % 3 == 0) ? (float)(rng() % 100) : 0.0f;
            float ct = (rng() % 3 == 0) ? (float)(rng() % 100) : 0.0f;
            mf_add_tweights(g, i, cs, ct);
            cap[n][i] += cs;
            cap[i][n + 1] += ct;
        }
        for (int e = 0; e < m; e++) {
            int i = (int)(rng() % (unsigned)n), j = (int)(rng() % (unsigned)n);
            if (i == j)
                continue;
            float c = (float)(rng() % 50), r = (float)(rng() % 50);
            CHECK(mf_add_edge(g, i, j, c, r) == 0);
            cap[i][j] += c;
            cap[j][i] += r;
        }
        memcpy(orig, cap, sizeof(cap));
        double f = mf_maxflow(g);
        double ref = reference_flow(n, cap);
        if (fabs(f - ref) > 1e-3) {
            fprintf(stderr, "trial %d: bk=%f reference=%f\n", trial, f, ref);
            return 1;
        }
        /* Capacity of the cut (S = source side) must equal the flow. */
        double cut = 0;
        for (int i = 0; i < n + 2; i++)
            for (int j = 0; j < n + 2; j++) {
                int si = i == n ? 1 : i == n + 1 ? 0 : mf_is_source(g, i);
                int sj = j == n ? 1 : j == n + 1 ? 0 : mf_is_source(g, j);
                if (si && !sj)
                    cut += orig[i][j];
            }
        if (fabs(cut - ref) > 1e-3) {
            fprintf(stderr, "trial %d: cut=%f flow=%f\n", trial, cut, ref);
            return 1;
        }
        mf_free(g);
    }
    CHECK(mf_create(0, 0) == NULL);
    printf("test_cutout_maxflow: ok\n");
    return 0;
}
