#include "cutout_gmm.h"

#include <math.h>
#include <string.h>

#define LOG_2PI_1_5 2.7568156f /* 1.5 * log(2 pi) */
#define GMM_EMPTY_NLL 50.0f
#define GMM_REFINE_ROUNDS 2

typedef struct {
    double n;
    double s[3];
    double ss[6];
} cluster_stats;

static void stats_add(cluster_stats *st, const float *c)
{
    st->n += 1;
    st->s[0] += c[0];
    st->s[1] += c[1];
    st->s[2] += c[2];
    st->ss[0] += (double)c[0] * c[0];
    st->ss[1] += (double)c[0] * c[1];
    st->ss[2] += (double)c[0] * c[2];
    st->ss[3] += (double)c[1] * c[1];
    st->ss[4] += (double)c[1] * c[2];
    st->ss[5] += (double)c[2] * c[2];
}

/* Mean and covariance (with the variance floor) of a cluster. */
static void stats_moments(const cluster_stats *st, double mean[3], double cov[6])
{
    double n = st->n > 0 ? st->n : 1;
    for (int i = 0; i < 3; i++)
        mean[i] = st->s[i] / n;
    cov[0] = st->ss[0] / n - mean[0] * mean[0] + GMM_VAR_FLOOR;
    cov[1] = st->ss[1] / n - mean[0] * mean[1];
    cov[2] = st->ss[2] / n - mean[0] * mean[2];
    cov[3] = st->ss[3] / n - mean[1] * mean[1] + GMM_VAR_FLOOR;
    cov[4] = st->ss[4] / n - mean[1] * mean[2];
    cov[5] = st->ss[5] / n - mean[2] * mean[2] + GMM_VAR_FLOOR;
}

/* Largest eigenvalue and its eigenvector by power iteration (the matrix is
 * symmetric positive definite thanks to the floor). */
static double principal_axis(const double cov[6], double v[3])
{
    double x[3] = {0.577, 0.577, 0.577}, lambda = 0;
    for (int it = 0; it < 24; it++) {
        double y[3] = {cov[0] * x[0] + cov[1] * x[1] + cov[2] * x[2],
                       cov[1] * x[0] + cov[3] * x[1] + cov[4] * x[2],
                       cov[2] * x[0] + cov[4] * x[1] + cov[5] * x[2]};
        double norm = sqrt(y[0] * y[0] + y[1] * y[1] + y[2] * y[2]);
        if (norm <= 0)
            break;
        lambda = norm;
        for (int i = 0; i < 3; i++)
            x[i] = y[i] / norm;
    }
    memcpy(v, x, sizeof(x));
    return lambda;
}

/* Turns cluster statistics into the model's components. */
static void set_components(gmm_model *m, const cluster_stats *st, int k, double total)
{
    int out = 0;
    for (int c = 0; c < k; c++) {
        if (st[c].n < 1)
            continue;
        double mean[3], cov[6];
        stats_moments(&st[c], mean, cov);
        double a = cov[0], b = cov[1], cc = cov[2], d = cov[3], e = cov[4], f = cov[5];
        double c00 = d * f - e * e, c01 = cc * e - b * f, c02 = b * e - cc * d;
        double det = a * c00 + b * c01 + cc * c02;
        if (!(det > 1e-30))
            det = 1e-30;
        double inv = 1.0 / det;
        m->icov[out][0] = (float)(c00 * inv);
        m->icov[out][1] = (float)(c01 * inv);
        m->icov[out][2] = (float)(c02 * inv);
        m->icov[out][3] = (float)((a * f - cc * cc) * inv);
        m->icov[out][4] = (float)((b * cc - a * e) * inv);
        m->icov[out][5] = (float)((a * d - b * b) * inv);
        for (int i = 0; i < 3; i++)
            m->mean[out][i] = (float)mean[i];
        m->weight[out] = (float)(st[c].n / total);
        m->lognorm[out] = (float)(log(st[c].n / total) - 0.5 * log(det)) - LOG_2PI_1_5;
        out++;
    }
    m->k = out;
}

static float component_maha(const gmm_model *m, int c, const float x[3])
{
    float d0 = x[0] - m->mean[c][0], d1 = x[1] - m->mean[c][1], d2 = x[2] - m->mean[c][2];
    const float *ic = m->icov[c];
    return d0 * (ic[0] * d0 + 2 * ic[1] * d1 + 2 * ic[2] * d2) +
           d1 * (ic[3] * d1 + 2 * ic[4] * d2) + d2 * ic[5] * d2;
}

int gmm_fit(gmm_model *m, const float *rgb, size_t n, int k, uint8_t *labels)
{
    memset(m, 0, sizeof(*m));
    if (n == 0)
        return -1;
    if (k < 1)
        k = 1;
    if (k > GMM_MAX_K)
        k = GMM_MAX_K;
    cluster_stats st[GMM_MAX_K];
    memset(st, 0, sizeof(st));
    memset(labels, 0, n);
    for (size_t i = 0; i < n; i++)
        stats_add(&st[0], rgb + 3 * i);

    /* Orchard-Bouman: split the widest cluster along its principal axis. */
    int used = 1;
    while (used < k) {
        int best = -1;
        double best_l = 0, best_v[3] = {0, 0, 0}, best_mean[3] = {0, 0, 0};
        for (int c = 0; c < used; c++) {
            if (st[c].n < 2)
                continue;
            double mean[3], cov[6], v[3];
            stats_moments(&st[c], mean, cov);
            double l = principal_axis(cov, v);
            if (l > best_l) {
                best_l = l;
                best = c;
                memcpy(best_v, v, sizeof(v));
                memcpy(best_mean, mean, sizeof(mean));
            }
        }
        /* Nothing left to split beyond noise: fewer components suffice. */
        if (best < 0 || best_l < 3 * GMM_VAR_FLOOR)
            break;
        double thr = best_v[0] * best_mean[0] + best_v[1] * best_mean[1] + best_v[2] * best_mean[2];
        cluster_stats a, b;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        for (size_t i = 0; i < n; i++) {
            if (labels[i] != best)
                continue;
            const float *c = rgb + 3 * i;
            if (best_v[0] * c[0] + best_v[1] * c[1] + best_v[2] * c[2] > thr) {
                labels[i] = (uint8_t)used;
                stats_add(&b, c);
            } else {
                stats_add(&a, c);
            }
        }
        if (b.n < 1 || a.n < 1)
            break;
        st[best] = a;
        st[used] = b;
        used++;
    }
    set_components(m, st, used, (double)n);

    /* A few rounds of hard assignment to the most likely component (the
     * GrabCut update) tighten the clusters that the splitting cut roughly. */
    for (int round = 0; round < GMM_REFINE_ROUNDS && m->k > 1; round++) {
        memset(st, 0, sizeof(st));
        for (size_t i = 0; i < n; i++) {
            const float *c = rgb + 3 * i;
            int best = 0;
            float best_s = -INFINITY;
            for (int j = 0; j < m->k; j++) {
                float s = m->lognorm[j] - 0.5f * component_maha(m, j, c);
                if (s > best_s) {
                    best_s = s;
                    best = j;
                }
            }
            stats_add(&st[best], c);
        }
        set_components(m, st, m->k, (double)n);
    }
    return 0;
}

float gmm_nll(const gmm_model *m, const float c[3])
{
    if (m->k == 0)
        return GMM_EMPTY_NLL;
    float s[GMM_MAX_K], best = -INFINITY;
    for (int j = 0; j < m->k; j++) {
        s[j] = m->lognorm[j] - 0.5f * component_maha(m, j, c);
        if (s[j] > best)
            best = s[j];
    }
    float sum = 0;
    for (int j = 0; j < m->k; j++)
        sum += expf(s[j] - best);
    return -(best + logf(sum));
}
