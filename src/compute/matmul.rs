//! The matmul measurement shared by the self-test and the bench: N×N f32,
//! one warm-up call timed apart (it compiles kernels and runs autotune on
//! CubeCL), then synchronised runs, then the result checked against f64 dot
//! products on the host at sampled entries.
//!
//! The error of an entry is measured against the size of the terms it sums,
//! `|c − ref| / sqrt(Σ (a_ik·b_kj)²)`: fp32 gives about 1e-6, TF32 (tensor
//! cores with 10-bit mantissas) about 1e-3, and a wrong result about 1. That
//! is also how the precision a backend actually used is told apart.

use std::time::Instant;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};

use super::backends::{dispatch, Barrier, BurnJob};
use super::rng::HostRng;
use super::worker::run_on_worker;
use super::{BackendKind, Target};

/// The largest sampled error a correct result may have (TF32 included).
pub const MAX_REL_ERROR: f64 = 1e-2;
/// Above this, a CubeCL result was computed in TF32, not full fp32.
const TF32_ERROR_FLOOR: f64 = 5e-5;
/// Sampled rows × sampled columns.
const SAMPLED_ROWS: usize = 8;

/// What one matmul measurement found.
#[derive(Debug, Clone)]
pub struct MatmulMeasure {
    pub n: usize,
    /// The first call, kernel compilation and autotune included.
    pub first_s: f64,
    /// Each later call, synchronised.
    pub samples_s: Vec<f64>,
    /// The largest sampled error (see the module's comment).
    pub max_rel_error: f64,
    pub sampled: usize,
    pub all_finite: bool,
    pub barrier: Barrier,
    /// "fp32" or "tf32", as the result shows it was computed.
    pub precision: &'static str,
}

impl MatmulMeasure {
    pub fn flops(&self) -> f64 {
        2.0 * (self.n as f64).powi(3)
    }

    pub fn median_s(&self) -> f64 {
        median(&self.samples_s)
    }

    pub fn passed(&self) -> bool {
        self.all_finite && self.max_rel_error <= MAX_REL_ERROR
    }
}

/// The median of a non-empty list (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// Told, on the compute thread, before each call of a measurement starts:
/// 0 for the warm-up, then 1 to `runs` (a progress bar's "run 4/10").
pub type OnCall = std::sync::Arc<dyn Fn(usize) + Send + Sync>;

/// Measure an `n`×`n` matmul on `target`: one warm-up, then `runs` timed calls.
pub fn measure_matmul(
    target: Target,
    n: usize,
    runs: usize,
    seed: u64,
) -> Result<MatmulMeasure, String> {
    measure_matmul_observed(target, n, runs, seed, None)
}

/// [`measure_matmul`], telling `on_call` before each call.
pub fn measure_matmul_observed(
    target: Target,
    n: usize,
    runs: usize,
    seed: u64,
    on_call: Option<OnCall>,
) -> Result<MatmulMeasure, String> {
    let job = MatmulJob {
        n,
        runs,
        seed,
        on_call,
    };
    let mut m = run_on_worker(None, move || dispatch(target, job))
        .map_err(|e| format!("matmul on {target} failed: {e}"))???;
    m.precision = precision_of(target, m.max_rel_error);
    Ok(m)
}

fn precision_of(target: Target, max_rel_error: f64) -> &'static str {
    if target.backend == BackendKind::Cubecl && max_rel_error > TF32_ERROR_FLOOR {
        "tf32"
    } else {
        "fp32"
    }
}

struct MatmulJob {
    n: usize,
    runs: usize,
    seed: u64,
    on_call: Option<OnCall>,
}

impl BurnJob for MatmulJob {
    type Output = Result<MatmulMeasure, String>;

    fn run<B: AutodiffBackend>(self, device: B::Device, barrier: Barrier) -> Self::Output {
        let n = self.n;
        let mut rng = HostRng::new(self.seed);
        let a = rng.uniform_f32s(n * n, -1.0, 1.0);
        let b = rng.uniform_f32s(n * n, -1.0, 1.0);
        let rows: Vec<usize> = (0..SAMPLED_ROWS.min(n)).map(|_| rng.below(n)).collect();
        let cols: Vec<usize> = (0..SAMPLED_ROWS.min(n)).map(|_| rng.below(n)).collect();
        let a_rows: Vec<Vec<f32>> = rows
            .iter()
            .map(|&i| a[i * n..(i + 1) * n].to_vec())
            .collect();
        let b_cols: Vec<Vec<f32>> = cols
            .iter()
            .map(|&j| (0..n).map(|k| b[k * n + j]).collect())
            .collect();

        let ta = Tensor::<B::InnerBackend, 2>::from_data(TensorData::new(a, [n, n]), &device);
        let tb = Tensor::<B::InnerBackend, 2>::from_data(TensorData::new(b, [n, n]), &device);
        wait::<B::InnerBackend>(&device, barrier, &ta)?;
        wait::<B::InnerBackend>(&device, barrier, &tb)?;

        let tell = |k: usize| {
            if let Some(f) = &self.on_call {
                f(k)
            }
        };
        tell(0);
        let started = Instant::now();
        let mut c = ta.clone().matmul(tb.clone());
        wait::<B::InnerBackend>(&device, barrier, &c)?;
        let first_s = started.elapsed().as_secs_f64();

        let mut samples_s = Vec::with_capacity(self.runs);
        for k in 1..=self.runs {
            tell(k);
            let started = Instant::now();
            c = ta.clone().matmul(tb.clone());
            wait::<B::InnerBackend>(&device, barrier, &c)?;
            samples_s.push(started.elapsed().as_secs_f64());
        }

        let result = c
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| format!("cannot read the result back: {e:?}"))?;
        let mut max_rel_error = 0.0f64;
        let mut all_finite = true;
        for (ri, &i) in rows.iter().enumerate() {
            for (cj, &j) in cols.iter().enumerate() {
                let (exact, scale) = dot_f64(&a_rows[ri], &b_cols[cj]);
                let got = result[i * n + j] as f64;
                all_finite &= got.is_finite();
                let err = (got - exact).abs() / scale.max(f64::MIN_POSITIVE);
                max_rel_error = max_rel_error.max(if err.is_nan() { f64::INFINITY } else { err });
            }
        }
        Ok(MatmulMeasure {
            n,
            first_s,
            samples_s,
            max_rel_error,
            sampled: rows.len() * cols.len(),
            all_finite,
            barrier,
            precision: "fp32",
        })
    }
}

/// Σ a_k·b_k in f64, and the size of its terms, sqrt(Σ (a_k·b_k)²).
fn dot_f64(a: &[f32], b: &[f32]) -> (f64, f64) {
    let (mut sum, mut sq) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let t = *x as f64 * *y as f64;
        sum += t;
        sq += t * t;
    }
    (sum, sq.sqrt())
}

/// Wait until `result` is computed (see [`Barrier`]).
pub fn wait<B: Backend>(
    device: &B::Device,
    barrier: Barrier,
    result: &Tensor<B, 2>,
) -> Result<(), String> {
    match barrier {
        Barrier::Sync => {
            B::sync(device).map_err(|e| format!("cannot synchronise the device: {e:?}"))
        }
        Barrier::ReadBack => {
            let _ = result.clone().slice([0..1, 0..1]).into_data();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn cpu_matmul_is_timed_and_checked() {
        let m = measure_matmul(Target::CPU, 96, 3, 1).unwrap();
        assert_eq!(m.samples_s.len(), 3);
        assert!(m.first_s > 0.0 && m.samples_s.iter().all(|s| *s > 0.0));
        assert!(m.all_finite);
        assert!(m.max_rel_error < 1e-5, "{}", m.max_rel_error);
        assert!(m.passed());
        assert_eq!(m.precision, "fp32");
        assert_eq!(m.sampled, 64);
    }

    #[test]
    fn ndarray_matmul_is_right_at_odd_sizes() {
        // Odd sizes take BLAS's and matrixmultiply's edge kernels.
        for n in [1, 7, 33, 129] {
            let m = measure_matmul(Target::CPU_NDARRAY, n, 1, n as u64).unwrap();
            assert!(m.passed() && m.max_rel_error < 1e-5, "{n}: {m:?}");
            assert_eq!(m.precision, "fp32");
        }
    }

    #[test]
    fn precision_is_told_from_the_error() {
        let cuda = Target::new(super::super::DeviceKind::Cuda, BackendKind::Cubecl);
        assert_eq!(precision_of(cuda, 1e-3), "tf32");
        assert_eq!(precision_of(cuda, 1e-6), "fp32");
        assert_eq!(precision_of(Target::CPU, 1e-3), "fp32");
    }
}
