/* Gaussian mixture colour models for the cutout engine (private).
 *
 * Colours are RGB in [0,1]. Fitting is deterministic: Orchard-Bouman
 * splitting (split the cluster with the largest spread along its principal
 * axis) followed by a few hard-assignment refinements, so the same input
 * always gives the same model, whatever the thread count. */
#ifndef CLEANPNG_IMAGE_CUTOUT_GMM_H
#define CLEANPNG_IMAGE_CUTOUT_GMM_H

#include <stddef.h>
#include <stdint.h>

#define GMM_MAX_K 6
/* Variance floor: a perfectly flat background would otherwise give a
 * singular covariance and an infinitely confident model. */
#define GMM_VAR_FLOOR 1.5e-4f

typedef struct {
    int k; /* components in use, 0 = empty model */
    float weight[GMM_MAX_K];
    float mean[GMM_MAX_K][3];
    float icov[GMM_MAX_K][6]; /* inverse covariance: xx xy xz yy yz zz */
    float lognorm[GMM_MAX_K]; /* log(weight) - 0.5 log det - 1.5 log 2pi */
} gmm_model;

/* Fits up to k components to n colours (rgb, 3 floats each). Uses scratch of
 * n bytes for labels. Returns 0, or -1 when n == 0 (model left empty). */
int gmm_fit(gmm_model *m, const float *rgb, size_t n, int k, uint8_t *labels);

/* Negative log-likelihood of colour c under the mixture. An empty model
 * returns a large constant. */
float gmm_nll(const gmm_model *m, const float c[3]);

#endif
