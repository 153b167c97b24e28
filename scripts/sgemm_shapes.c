/* A benchmark, not a test (docs/cpu-blas.md): the eight matrix products of
 * `ttm bench`'s train step (MLP 784-1024-1024-10, batch 512), forward and
 * backward, each called straight on the system BLAS with its transpose flags,
 * best of 20. Their sum is what the train step would cost in BLAS alone.
 *
 *   cc -O2 scripts/sgemm_shapes.c -o /tmp/sgemm_shapes -lopenblas && /tmp/sgemm_shapes
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
typedef struct { int ta, tb, m, n, k; const char *name; } S;
int main(){S s[]={{0,0,512,1024,784,"X.W1"},{0,0,512,1024,1024,"H1.W2"},{0,0,512,10,1024,"H2.W3"},{1,0,1024,10,512,"H2t.G3"},{0,1,512,1024,10,"G3.W3t"},{1,0,1024,1024,512,"H1t.G2"},{0,1,512,1024,1024,"G2.W2t"},{1,0,784,1024,512,"Xt.G1"}};
float*a=malloc(4<<22),*b=malloc(4<<22),*c=malloc(4<<22);for(int i=0;i<(1<<22);i++){a[i]=rand()/(float)RAND_MAX;b[i]=a[i]*0.5f;}
double tot=0;for(int j=0;j<8;j++){S x=s[j];int lda=x.ta?x.m:x.k, ldb=x.tb?x.k:x.n;
 for(int w=0;w<3;w++)cblas_sgemm(CblasRowMajor,x.ta?CblasTrans:CblasNoTrans,x.tb?CblasTrans:CblasNoTrans,x.m,x.n,x.k,1,a,lda,b,ldb,0,c,x.n);
 double best=1e9;for(int r=0;r<20;r++){double t=now();cblas_sgemm(CblasRowMajor,x.ta?CblasTrans:CblasNoTrans,x.tb?CblasTrans:CblasNoTrans,x.m,x.n,x.k,1,a,lda,b,ldb,0,c,x.n);t=now()-t;if(t<best)best=t;}
 tot+=best;printf("%-8s %.3f ms %.0f GFLOP/s\n",x.name,best*1e3,2.0*x.m*x.n*x.k/best/1e9);}
printf("total %.2f ms\n",tot*1e3);}
