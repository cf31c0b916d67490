/* Boykov-Kolmogorov max-flow. The structure follows the authors' reference
 * description: two search trees (source S, sink T) grown from the terminals,
 * augmentation along the path found where they touch, then adoption of the
 * orphans that augmentation cut off. Trees are kept across augmentations,
 * which is what makes BK fast on images. Distances and timestamps give the
 * "closest valid parent" heuristic during adoption. */
#include "cutout_maxflow.h"

#include <stdlib.h>
#include <string.h>

enum { PARENT_NONE = -1, PARENT_TERMINAL = -2, PARENT_ORPHAN = -3 };
#define DIST_INFINITE 0x7fffffff

struct mf_graph {
    int32_t nnodes, max_arcs, narcs;
    /* per node */
    int32_t *first;  /* first outgoing arc or -1 */
    int32_t *parent; /* arc to the parent, or PARENT_* */
    int32_t *next;   /* active list link; -1 = not active, self = last */
    int32_t *ts;     /* timestamp of dist */
    int32_t *dist;   /* distance to the terminal (estimate) */
    uint8_t *is_sink;
    float *tr_cap; /* > 0: residual from source, < 0: residual to sink */
    /* per arc (sister of a is a ^ 1) */
    int32_t *head;
    int32_t *anext;
    float *rcap;
    /* active queue */
    int32_t q_first, q_last;
    /* orphan deque (a node is an orphan at most once at a time: <= nnodes) */
    int32_t *orph;
    int32_t o_head, o_count;
    int32_t time;
    double flow;
};

mf_graph *mf_create(int32_t nodes, int32_t max_edges)
{
    if (nodes <= 0 || max_edges < 0 || max_edges > INT32_MAX / 2 - 1)
        return NULL;
    mf_graph *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    size_t n = (size_t)nodes, m = (size_t)max_edges * 2;
    g->nnodes = nodes;
    g->max_arcs = (int32_t)m;
    g->first = malloc(n * sizeof(int32_t));
    g->parent = malloc(n * sizeof(int32_t));
    g->next = malloc(n * sizeof(int32_t));
    g->ts = malloc(n * sizeof(int32_t));
    g->dist = malloc(n * sizeof(int32_t));
    g->is_sink = malloc(n);
    g->tr_cap = malloc(n * sizeof(float));
    g->orph = malloc(n * sizeof(int32_t));
    g->head = malloc((m ? m : 1) * sizeof(int32_t));
    g->anext = malloc((m ? m : 1) * sizeof(int32_t));
    g->rcap = malloc((m ? m : 1) * sizeof(float));
    if (!g->first || !g->parent || !g->next || !g->ts || !g->dist || !g->is_sink || !g->tr_cap ||
        !g->orph || !g->head || !g->anext || !g->rcap) {
        mf_free(g);
        return NULL;
    }
    mf_reset(g);
    return g;
}

void mf_free(mf_graph *g)
{
    if (!g)
        return;
    free(g->first);
    free(g->parent);
    free(g->next);
    free(g->ts);
    free(g->dist);
    free(g->is_sink);
    free(g->tr_cap);
    free(g->orph);
    free(g->head);
    free(g->anext);
    free(g->rcap);
    free(g);
}

void mf_reset(mf_graph *g)
{
    size_t n = (size_t)g->nnodes;
    memset(g->first, 0xff, n * sizeof(int32_t)); /* -1 */
    memset(g->tr_cap, 0, n * sizeof(float));
    g->narcs = 0;
    g->flow = 0;
}

void mf_add_tweights(mf_graph *g, int32_t i, float cap_source, float cap_sink)
{
    float delta = g->tr_cap[i];
    if (delta > 0)
        cap_source += delta;
    else
        cap_sink -= delta;
    g->flow += cap_source < cap_sink ? cap_source : cap_sink;
    g->tr_cap[i] = cap_source - cap_sink;
}

int mf_add_edge(mf_graph *g, int32_t i, int32_t j, float cap, float rev_cap)
{
    if (g->narcs + 2 > g->max_arcs)
        return -1;
    int32_t a = g->narcs;
    g->narcs += 2;
    g->head[a] = j;
    g->anext[a] = g->first[i];
    g->first[i] = a;
    g->rcap[a] = cap;
    g->head[a + 1] = i;
    g->anext[a + 1] = g->first[j];
    g->first[j] = a + 1;
    g->rcap[a + 1] = rev_cap;
    return 0;
}

static void set_active(mf_graph *g, int32_t i)
{
    if (g->next[i] >= 0)
        return;
    if (g->q_last >= 0)
        g->next[g->q_last] = i;
    else
        g->q_first = i;
    g->q_last = i;
    g->next[i] = i;
}

/* Pops active nodes until one still belongs to a tree; -1 when none is left. */
static int32_t next_active(mf_graph *g)
{
    for (;;) {
        int32_t i = g->q_first;
        if (i < 0)
            return -1;
        if (g->next[i] == i)
            g->q_first = g->q_last = -1;
        else
            g->q_first = g->next[i];
        g->next[i] = -1;
        if (g->parent[i] != PARENT_NONE)
            return i;
    }
}

static void orphan_front(mf_graph *g, int32_t i)
{
    g->parent[i] = PARENT_ORPHAN;
    g->o_head = g->o_head == 0 ? g->nnodes - 1 : g->o_head - 1;
    g->orph[g->o_head] = i;
    g->o_count++;
}

static void orphan_rear(mf_graph *g, int32_t i)
{
    g->parent[i] = PARENT_ORPHAN;
    int32_t pos = g->o_head + g->o_count;
    if (pos >= g->nnodes)
        pos -= g->nnodes;
    g->orph[pos] = i;
    g->o_count++;
}

/* middle: an arc from a source-tree node to a sink-tree node. */
static void augment(mf_graph *g, int32_t middle)
{
    int32_t i, a;
    float bottleneck = g->rcap[middle];
    for (i = g->head[middle ^ 1];; i = g->head[a]) {
        a = g->parent[i];
        if (a == PARENT_TERMINAL)
            break;
        if (bottleneck > g->rcap[a ^ 1])
            bottleneck = g->rcap[a ^ 1];
    }
    if (bottleneck > g->tr_cap[i])
        bottleneck = g->tr_cap[i];
    for (i = g->head[middle];; i = g->head[a]) {
        a = g->parent[i];
        if (a == PARENT_TERMINAL)
            break;
        if (bottleneck > g->rcap[a])
            bottleneck = g->rcap[a];
    }
    if (bottleneck > -g->tr_cap[i])
        bottleneck = -g->tr_cap[i];

    g->rcap[middle ^ 1] += bottleneck;
    g->rcap[middle] -= bottleneck;
    for (i = g->head[middle ^ 1];; i = g->head[a]) {
        a = g->parent[i];
        if (a == PARENT_TERMINAL)
            break;
        g->rcap[a] += bottleneck;
        g->rcap[a ^ 1] -= bottleneck;
        if (g->rcap[a ^ 1] <= 0)
            orphan_front(g, i);
    }
    g->tr_cap[i] -= bottleneck;
    if (g->tr_cap[i] <= 0)
        orphan_front(g, i);
    for (i = g->head[middle];; i = g->head[a]) {
        a = g->parent[i];
        if (a == PARENT_TERMINAL)
            break;
        g->rcap[a ^ 1] += bottleneck;
        g->rcap[a] -= bottleneck;
        if (g->rcap[a] <= 0)
            orphan_front(g, i);
    }
    g->tr_cap[i] += bottleneck;
    if (g->tr_cap[i] >= 0)
        orphan_front(g, i);
    g->flow += bottleneck;
}

/* Finds a new parent for orphan i in its own tree, or frees it. sink selects
 * the tree; the residual arc that matters points towards the root. */
static void process_orphan(mf_graph *g, int32_t i, int sink)
{
    int32_t a0, a, j;
    int32_t d_min = DIST_INFINITE, a0_min = PARENT_NONE;
    for (a0 = g->first[i]; a0 >= 0; a0 = g->anext[a0]) {
        float r = sink ? g->rcap[a0] : g->rcap[a0 ^ 1];
        if (r <= 0)
            continue;
        j = g->head[a0];
        if (g->is_sink[j] != sink || g->parent[j] == PARENT_NONE)
            continue;
        /* Walk to the root to check that j is not itself cut off. */
        int32_t d = 0;
        for (;;) {
            if (g->ts[j] == g->time) {
                d += g->dist[j];
                break;
            }
            a = g->parent[j];
            d++;
            if (a == PARENT_TERMINAL) {
                g->ts[j] = g->time;
                g->dist[j] = 1;
                break;
            }
            if (a == PARENT_ORPHAN) {
                d = DIST_INFINITE;
                break;
            }
            j = g->head[a];
        }
        if (d < DIST_INFINITE) {
            if (d < d_min) {
                a0_min = a0;
                d_min = d;
            }
            for (j = g->head[a0]; g->ts[j] != g->time; j = g->head[g->parent[j]]) {
                g->ts[j] = g->time;
                g->dist[j] = d--;
            }
        }
    }
    g->parent[i] = a0_min;
    if (a0_min != PARENT_NONE) {
        g->ts[i] = g->time;
        g->dist[i] = d_min + 1;
        return;
    }
    /* i becomes free: its neighbours in the tree may grow into it again, and
     * its children become orphans. */
    for (a0 = g->first[i]; a0 >= 0; a0 = g->anext[a0]) {
        j = g->head[a0];
        a = g->parent[j];
        if (g->is_sink[j] != sink || a == PARENT_NONE)
            continue;
        float r = sink ? g->rcap[a0] : g->rcap[a0 ^ 1];
        if (r > 0)
            set_active(g, j);
        if (a != PARENT_TERMINAL && a != PARENT_ORPHAN && g->head[a] == i)
            orphan_rear(g, j);
    }
}

double mf_maxflow(mf_graph *g)
{
    int32_t n = g->nnodes;
    g->q_first = g->q_last = -1;
    g->o_head = 0;
    g->o_count = 0;
    g->time = 0;
    for (int32_t i = 0; i < n; i++) {
        g->next[i] = -1;
        g->ts[i] = 0;
        if (g->tr_cap[i] > 0) {
            g->is_sink[i] = 0;
            g->parent[i] = PARENT_TERMINAL;
            set_active(g, i);
            g->dist[i] = 1;
        } else if (g->tr_cap[i] < 0) {
            g->is_sink[i] = 1;
            g->parent[i] = PARENT_TERMINAL;
            set_active(g, i);
            g->dist[i] = 1;
        } else {
            g->is_sink[i] = 0;
            g->parent[i] = PARENT_NONE;
        }
    }

    int32_t current = -1;
    for (;;) {
        int32_t i = current;
        if (i >= 0) {
            g->next[i] = -1;
            if (g->parent[i] == PARENT_NONE)
                i = -1;
        }
        if (i < 0) {
            i = next_active(g);
            if (i < 0)
                break;
        }

        int32_t a, j;
        if (!g->is_sink[i]) {
            for (a = g->first[i]; a >= 0; a = g->anext[a]) {
                if (g->rcap[a] <= 0)
                    continue;
                j = g->head[a];
                if (g->parent[j] == PARENT_NONE) {
                    g->is_sink[j] = 0;
                    g->parent[j] = a ^ 1;
                    g->ts[j] = g->ts[i];
                    g->dist[j] = g->dist[i] + 1;
                    set_active(g, j);
                } else if (g->is_sink[j]) {
                    break;
                } else if (g->ts[j] <= g->ts[i] && g->dist[j] > g->dist[i]) {
                    g->parent[j] = a ^ 1;
                    g->ts[j] = g->ts[i];
                    g->dist[j] = g->dist[i] + 1;
                }
            }
        } else {
            for (a = g->first[i]; a >= 0; a = g->anext[a]) {
                if (g->rcap[a ^ 1] <= 0)
                    continue;
                j = g->head[a];
                if (g->parent[j] == PARENT_NONE) {
                    g->is_sink[j] = 1;
                    g->parent[j] = a ^ 1;
                    g->ts[j] = g->ts[i];
                    g->dist[j] = g->dist[i] + 1;
                    set_active(g, j);
                } else if (!g->is_sink[j]) {
                    a = a ^ 1;
                    break;
                } else if (g->ts[j] <= g->ts[i] && g->dist[j] > g->dist[i]) {
                    g->parent[j] = a ^ 1;
                    g->ts[j] = g->ts[i];
                    g->dist[j] = g->dist[i] + 1;
                }
            }
        }

        g->time++;
        if (a >= 0) {
            g->next[i] = i; /* keep i as the current node; marks it active */
            current = i;
            augment(g, a);
            while (g->o_count > 0) {
                int32_t o = g->orph[g->o_head];
                g->o_head = g->o_head + 1 == n ? 0 : g->o_head + 1;
                g->o_count--;
                process_orphan(g, o, g->is_sink[o]);
            }
        } else {
            current = -1;
        }
    }
    return g->flow;
}

int mf_is_source(const mf_graph *g, int32_t node)
{
    return g->parent[node] != PARENT_NONE && !g->is_sink[node];
}
