//! The Burn side of `ttm bench`: the two workloads, timed the same way on
//! every (device, backend) pair. The bench command computes medians, rates,
//! tables and the PyTorch side; this module only measures.
//!
//! Both workloads run one warm-up call first (kernel compilation, CubeCL's
//! autotune) and report it apart as `first_s`; every sample waits for the
//! device (see [`Barrier`](super::backends::Barrier)).

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::activation::relu;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};

use super::backends::{dispatch, probe, Barrier, BurnJob};
use super::matmul::{measure_matmul_observed, wait, OnCall};
use super::rng::HostRng;
use super::worker::run_on_worker;
use super::{BackendKind, Target};
use crate::error::{Error, Result};

/// What the train step is, in the words the bench prints.
pub const TRAIN_STEP: &str = "one forward, backward and SGD update of an MLP 784→1024→1024→10 (ReLU, cross-entropy), batch 512";

const BATCH: usize = 512;
const LAYERS: [(usize, usize); 3] = [(784, 1024), (1024, 1024), (1024, 10)];

/// One workload's timings on one target.
#[derive(Clone, Debug)]
pub struct Timing {
    /// The first call: kernel compilation and autotune included.
    pub first_s: f64,
    /// The synchronised runs after it.
    pub samples_s: Vec<f64>,
    /// Floating-point operations of one run.
    pub flops: f64,
    /// "fp32" or "tf32": what the matrix products were computed in, as measured.
    pub precision: String,
}

/// `runs` synchronised `n`×`n` f32 matmuls on `target`, after one warm-up.
/// The result is checked at sampled entries; a wrong one is an error.
pub fn time_matmul(target: Target, n: usize, runs: usize) -> Result<Timing> {
    time_matmul_observed(target, n, runs, None)
}

/// [`time_matmul`], telling `on_call` before each call (0: the warm-up).
pub fn time_matmul_observed(
    target: Target,
    n: usize,
    runs: usize,
    on_call: Option<OnCall>,
) -> Result<Timing> {
    check_inputs(n, runs)?;
    ensure_available(target)?;
    let m = measure_matmul_observed(target, n, runs, 0x5EED, on_call).map_err(Error::failed)?;
    if !m.passed() {
        return Err(Error::failed(format!(
            "the {n}×{n} matmul on {target} gave wrong results (sampled error {:.1e})",
            m.max_rel_error
        )));
    }
    Ok(Timing {
        first_s: m.first_s,
        flops: m.flops(),
        samples_s: m.samples_s,
        precision: m.precision.to_owned(),
    })
}

/// `runs` synchronised train steps (see [`TRAIN_STEP`]) on `target`, after one warm-up.
pub fn time_train_step(target: Target, runs: usize) -> Result<Timing> {
    time_train_step_observed(target, runs, None)
}

/// [`time_train_step`], telling `on_call` before each step (0: the warm-up).
pub fn time_train_step_observed(
    target: Target,
    runs: usize,
    on_call: Option<OnCall>,
) -> Result<Timing> {
    check_inputs(1, runs)?;
    ensure_available(target)?;
    let job = TrainStepJob {
        runs,
        seed: 0x7EA1,
        on_call,
    };
    let out = run_on_worker(None, move || dispatch(target, job))
        .map_err(|e| Error::failed(format!("the train step on {target} failed: {e}")))?
        .map_err(Error::failed)?
        .map_err(Error::failed)?;
    let precision = if target.backend == BackendKind::Cubecl && out.layer1_error > 5e-5 {
        "tf32"
    } else {
        "fp32"
    };
    Ok(Timing {
        first_s: out.first_s,
        samples_s: out.samples_s,
        flops: train_step_flops(),
        precision: precision.to_owned(),
    })
}

/// Forward 2·B·P; backward: weight gradients 2·B·P, input gradients of the
/// second and third layers (the first needs none). Element-wise work is left out.
pub fn train_step_flops() -> f64 {
    let all: usize = LAYERS.iter().map(|(i, o)| i * o).sum();
    let inner: usize = LAYERS[1..].iter().map(|(i, o)| i * o).sum();
    2.0 * BATCH as f64 * (2 * all + inner) as f64
}

fn check_inputs(n: usize, runs: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::bad_input("the matmul size must be at least 1"));
    }
    if runs == 0 {
        return Err(Error::bad_input("at least one timed run is needed"));
    }
    Ok(())
}

fn ensure_available(target: Target) -> Result<()> {
    probe(target)
        .map(|_| ())
        .map_err(|reason| Error::Unavailable {
            message: format!("{target} is unavailable: {reason}"),
        })
}

#[derive(Module, Debug)]
struct Mlp<B: Backend> {
    input: Linear<B>,
    hidden: Linear<B>,
    output: Linear<B>,
}

impl<B: Backend> Mlp<B> {
    fn new(device: &B::Device) -> Mlp<B> {
        Mlp {
            input: LinearConfig::new(LAYERS[0].0, LAYERS[0].1).init(device),
            hidden: LinearConfig::new(LAYERS[1].0, LAYERS[1].1).init(device),
            output: LinearConfig::new(LAYERS[2].0, LAYERS[2].1).init(device),
        }
    }

    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let x = relu(self.input.forward(x));
        let x = relu(self.hidden.forward(x));
        self.output.forward(x)
    }
}

struct TrainStepJob {
    runs: usize,
    seed: u64,
    on_call: Option<OnCall>,
}

struct TrainStepOut {
    first_s: f64,
    samples_s: Vec<f64>,
    /// Sampled error of the first layer's product, as in the matmul check.
    layer1_error: f64,
}

impl BurnJob for TrainStepJob {
    type Output = std::result::Result<TrainStepOut, String>;

    fn run<B: AutodiffBackend>(self, device: B::Device, barrier: Barrier) -> Self::Output {
        let mut rng = HostRng::new(self.seed);
        let (d_in, classes) = (LAYERS[0].0, LAYERS[2].1);
        let x_host = rng.uniform_f32s(BATCH * d_in, 0.0, 1.0);
        let labels: Vec<i64> = (0..BATCH).map(|_| rng.below(classes) as i64).collect();
        let x = Tensor::<B, 2>::from_data(TensorData::new(x_host.clone(), [BATCH, d_in]), &device);
        let y = Tensor::<B, 1, Int>::from_data(TensorData::new(labels, [BATCH]), &device);
        let loss_fn = CrossEntropyLossConfig::new().init(&device);
        let mut model = Mlp::<B>::new(&device);
        let mut optim = SgdConfig::new().init::<B, Mlp<B>>();

        let mut step = |model: Mlp<B>| -> std::result::Result<(Mlp<B>, f64), String> {
            let started = Instant::now();
            let logits = model.forward(x.clone());
            let loss = loss_fn.forward(logits, y.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let model = optim.step(0.01, model, grads);
            let w = model.output.weight.val().inner();
            wait::<B::InnerBackend>(&device, barrier, &w)?;
            Ok((model, started.elapsed().as_secs_f64()))
        };
        let tell = |k: usize| {
            if let Some(f) = &self.on_call {
                f(k)
            }
        };
        tell(0);
        let (m, first_s) = step(model)?;
        model = m;
        let mut samples_s = Vec::with_capacity(self.runs);
        for k in 1..=self.runs {
            tell(k);
            let (m, s) = step(model)?;
            model = m;
            samples_s.push(s);
        }

        // The precision the products ran in: the first layer's product, sampled.
        let w_tensor = model.input.weight.val().inner();
        let w = w_tensor
            .clone()
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| format!("cannot read weights back: {e:?}"))?;
        let x_inner = x.inner();
        let product = x_inner
            .matmul(w_tensor)
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| format!("cannot read a product back: {e:?}"))?;
        let d_out = LAYERS[0].1;
        let mut layer1_error = 0.0f64;
        for _ in 0..64 {
            let (i, j) = (rng.below(BATCH), rng.below(d_out));
            let (mut sum, mut sq) = (0.0f64, 0.0f64);
            for k in 0..d_in {
                let t = x_host[i * d_in + k] as f64 * w[k * d_out + j] as f64;
                sum += t;
                sq += t * t;
            }
            let err =
                (product[i * d_out + j] as f64 - sum).abs() / sq.sqrt().max(f64::MIN_POSITIVE);
            layer1_error = layer1_error.max(err);
        }
        Ok(TrainStepOut {
            first_s,
            samples_s,
            layer1_error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_step_is_timed_on_the_cpu() {
        let t = time_train_step(Target::CPU, 2).unwrap();
        assert_eq!(t.samples_s.len(), 2);
        assert!(t.first_s > 0.0 && t.samples_s.iter().all(|s| *s > 0.0));
        assert_eq!(t.precision, "fp32");
        assert!((t.flops - 4.897e9).abs() < 1e7, "{}", t.flops);
    }

    #[test]
    fn train_step_is_timed_on_ndarray() {
        let t = time_train_step(Target::CPU_NDARRAY, 1).unwrap();
        assert_eq!(t.samples_s.len(), 1);
        assert_eq!(t.precision, "fp32");
    }

    #[test]
    fn every_call_is_told_in_order_warm_up_first() {
        use std::sync::{Arc, Mutex};
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let on_call: OnCall = Arc::new(move |k| record.lock().unwrap().push(k));
        time_matmul_observed(Target::CPU, 16, 3, Some(on_call.clone())).unwrap();
        assert_eq!(*seen.lock().unwrap(), [0, 1, 2, 3]);
        seen.lock().unwrap().clear();
        time_train_step_observed(Target::CPU, 2, Some(on_call)).unwrap();
        assert_eq!(*seen.lock().unwrap(), [0, 1, 2]);
    }

    #[test]
    fn matmul_is_timed_on_the_cpu_and_bad_input_refused() {
        let t = time_matmul(Target::CPU, 64, 2).unwrap();
        assert_eq!(t.samples_s.len(), 2);
        assert_eq!(t.flops, 2.0 * 64f64.powi(3));
        assert_eq!(time_matmul(Target::CPU, 0, 2).unwrap_err().code(), 2);
        assert_eq!(time_matmul(Target::CPU, 8, 0).unwrap_err().code(), 2);
    }
}
