/* A benchmark, not a test (docs/cpu-blas.md): the eight matrix products of
 * `ttm bench`'s train step (MLP 784-1024-1024-10, batch 512), forward and
 * backward, each called straight on the system BLAS with its transpose flags,
 * best of 20. Their sum is what the train step would cost in BLAS alone.
 * Given sizes instead, it times N×N products (median of 7 after a warm-up),
 * the BLAS's own rate for `ttm bench`'s matmul rows.
 *
 *   cc -O2 scripts/sgemm_shapes.c -o /tmp/sgemm_shapes -lopenblas && /tmp/sgemm_shapes
 *   /tmp/sgemm_shapes 2048 5000
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* C[m×n] = op(A)·op(B), op(A) m×k; ta/tb: the operand is stored transposed. */
typedef struct {
    int ta, tb, m, n, k;
    const char *name;
} Shape;

static const Shape SHAPES[] = {
    {0, 0, 512, 1024, 784, "x·W1"},     /* forward */
    {0, 0, 512, 1024, 1024, "h1·W2"},
    {0, 0, 512, 10, 1024, "h2·W3"},
    {1, 0, 1024, 10, 512, "h2ᵀ·g3"},    /* backward: weight and input gradients */
    {0, 1, 512, 1024, 10, "g3·W3ᵀ"},
    {1, 0, 1024, 1024, 512, "h1ᵀ·g2"},
    {0, 1, 512, 1024, 1024, "g2·W2ᵀ"},
    {1, 0, 784, 1024, 512, "xᵀ·g1"},
};

static void call(const Shape *s, const float *a, const float *b, float *c) {
    int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
}

/* Operands of `len` floats, the same for every run. */
static void fill(float *a, float *b, size_t len) {
    for (size_t i = 0; i < len; i++) {
        a[i] = rand() / (float)RAND_MAX - 0.5f;
        b[i] = 0.5f * a[i];
    }
}

static int by_time(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* N×N·N×N, median of 7 after one warm-up. */
static int square(int n) {
    if (n <= 0) return 1;
    size_t len = (size_t)n * n;
    float *a = malloc(sizeof(float) * len), *b = malloc(sizeof(float) * len), *c = malloc(sizeof(float) * len);
    if (!a || !b || !c) return 1;
    fill(a, b, len);
    Shape s = {0, 0, n, n, n, "square"};
    double t[7];
    call(&s, a, b, c);
    for (int r = 0; r < 7; r++) {
        t[r] = now();
        call(&s, a, b, c);
        t[r] = now() - t[r];
    }
    qsort(t, 7, sizeof t[0], by_time);
    printf("%dx%d: median %.2f ms, %.1f GFLOP/s\n", n, n, t[3] * 1e3, 2.0 * n * n * n / t[3] / 1e9);
    free(a), free(b), free(c);
    return 0;
}

int main(int argc, char **argv) {
    printf("%s, %s kernels, %d threads\n", openblas_get_config(), openblas_get_corename(), openblas_get_num_threads());
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (square(atoi(argv[i]))) return 1;
        return 0;
    }
    const size_t len = 1 << 22; /* ≥ every operand: 1024·1024 */
    float *a = malloc(sizeof(float) * len), *b = malloc(sizeof(float) * len), *c = malloc(sizeof(float) * len);
    if (!a || !b || !c) return 1;
    fill(a, b, len);
    double total = 0;
    for (size_t j = 0; j < sizeof SHAPES / sizeof SHAPES[0]; j++) {
        const Shape *s = &SHAPES[j];
        for (int w = 0; w < 3; w++) call(s, a, b, c);
        double best = 1e9;
        for (int r = 0; r < 20; r++) {
            double t = now();
            call(s, a, b, c);
            t = now() - t;
            if (t < best) best = t;
        }
        total += best;
        printf("%-10s %7.3f ms %6.0f GFLOP/s\n", s->name, best * 1e3, 2.0 * s->m * s->n * s->k / best / 1e9);
    }
    printf("total %.2f ms\n", total * 1e3);
    return 0;
}
