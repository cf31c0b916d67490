/* Boykov-Kolmogorov max-flow / min-cut (the "BK" algorithm of "An
 * Experimental Comparison of Min-Cut/Max-Flow Algorithms", PAMI 2004),
 * written for the graph-cut step of the cutout engine.
 *
 * Why BK: on 2-D grids with short augmenting paths it is several times faster
 * than push-relabel, and it needs no tuning. Capacities are float; the graph
 * is sized once (node and edge counts fixed at creation) so nothing grows
 * while the flow runs. Not thread-safe per graph; separate graphs are
 * independent. */
#ifndef CLEANPNG_IMAGE_CUTOUT_MAXFLOW_H
#define CLEANPNG_IMAGE_CUTOUT_MAXFLOW_H

#include <stddef.h>
#include <stdint.h>

typedef struct mf_graph mf_graph;

/* Returns NULL on allocation failure or when the counts exceed INT32_MAX/2. */
mf_graph *mf_create(int32_t nodes, int32_t max_edges);
void mf_free(mf_graph *g);

/* Removes all edges and terminal capacities, keeping the allocation. */
void mf_reset(mf_graph *g);

/* Adds capacity from the source and to the sink (both >= 0). */
void mf_add_tweights(mf_graph *g, int32_t node, float cap_source, float cap_sink);

/* Adds an edge i->j with capacity cap and j->i with rev_cap. Returns -1 when
 * more than max_edges edges would exist. */
int mf_add_edge(mf_graph *g, int32_t i, int32_t j, float cap, float rev_cap);

/* Computes the maximum flow; returns its value. */
double mf_maxflow(mf_graph *g);

/* After mf_maxflow: 1 if node is on the source side of the minimum cut
 * (reachable from the source in the residual graph), else 0. */
int mf_is_source(const mf_graph *g, int32_t node);

#endif
