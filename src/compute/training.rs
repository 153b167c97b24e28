//! The book's training check, made into a test that can fail.
//!
//! The problem (chapter 3): x in [0, 1) (100 samples), y = 3x + 2 + 0.1·noise,
//! `Linear(1, 1)`, mean squared error, SGD with lr 0.1, 200 steps. The data
//! and the initial weight and bias (U(−1, 1), as PyTorch initialises a
//! Linear(1, 1)) come from one seeded host generator, rounded to f32, so the
//! device and the reference start from the same numbers.
//!
//! After 200 steps the fit is only roughly 3 and 2, so "close to 3 and 2" is
//! no test. The test: the same steps in f64 plain Rust give a reference; the
//! device's weight and bias must match it within 1e-3 relative, the loss must
//! fall, and nothing may be NaN.

use burn::module::Param;
use burn::nn::loss::{MseLoss, Reduction};
use burn::nn::Linear;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor, TensorData};

use super::backends::{dispatch, Barrier, BurnJob};
use super::rng::HostRng;
use super::worker::run_on_worker;
use super::Target;

pub const SAMPLES: usize = 100;
pub const LEARNING_RATE: f64 = 0.1;
/// Relative agreement required between the device and the f64 reference.
pub const TOLERANCE: f64 = 1e-3;

/// The problem every device solves: data and starting point.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingProblem {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub weight0: f32,
    pub bias0: f32,
    pub steps: u32,
    pub lr: f64,
}

impl TrainingProblem {
    /// The book's problem, drawn from `seed`.
    pub fn book(seed: u64, steps: u32) -> TrainingProblem {
        let mut rng = HostRng::new(seed);
        let x: Vec<f32> = (0..SAMPLES).map(|_| rng.uniform() as f32).collect();
        let y: Vec<f32> = x
            .iter()
            .map(|&x| (3.0 * x as f64 + 2.0 + 0.1 * rng.normal()) as f32)
            .collect();
        let weight0 = rng.uniform_in(-1.0, 1.0) as f32;
        let bias0 = rng.uniform_in(-1.0, 1.0) as f32;
        TrainingProblem {
            x,
            y,
            weight0,
            bias0,
            steps,
            lr: LEARNING_RATE,
        }
    }
}

/// Where a run of training ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub weight: f64,
    pub bias: f64,
    /// The loss at each step, before that step's update.
    pub losses: Vec<f64>,
}

impl Fit {
    pub fn final_loss(&self) -> f64 {
        self.losses.last().copied().unwrap_or(f64::NAN)
    }
}

/// The same steps in f64 plain Rust: gradient descent on the mean squared error.
pub fn reference_fit(p: &TrainingProblem) -> Fit {
    let n = p.x.len() as f64;
    let (mut w, mut b) = (p.weight0 as f64, p.bias0 as f64);
    let mut losses = Vec::with_capacity(p.steps as usize);
    for _ in 0..p.steps {
        let (mut loss, mut gw, mut gb) = (0.0, 0.0, 0.0);
        for (&x, &y) in p.x.iter().zip(&p.y) {
            let (x, y) = (x as f64, y as f64);
            let r = w * x + b - y;
            loss += r * r;
            gw += 2.0 * r * x;
            gb += 2.0 * r;
        }
        losses.push(loss / n);
        w -= p.lr * gw / n;
        b -= p.lr * gb / n;
    }
    Fit {
        weight: w,
        bias: b,
        losses,
    }
}

/// The verdict on a device's fit against the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingCheck {
    pub max_abs_diff: f64,
    pub matches_reference: bool,
    pub loss_fell: bool,
    pub finite: bool,
}

impl TrainingCheck {
    pub fn passed(&self) -> bool {
        self.matches_reference && self.loss_fell && self.finite
    }

    /// Why it failed, in words; None when it passed.
    pub fn failure(&self, device: &Fit, reference: &Fit) -> Option<String> {
        if !self.finite {
            Some("training produced NaN or infinity".into())
        } else if !self.matches_reference {
            Some(format!(
                "training does not match the reference (weight {:.4} vs {:.4}, bias {:.4} vs {:.4})",
                device.weight, reference.weight, device.bias, reference.bias
            ))
        } else if !self.loss_fell {
            Some("the loss did not fall".into())
        } else {
            None
        }
    }
}

/// Compare a device's fit with the reference.
pub fn check_fit(device: &Fit, reference: &Fit) -> TrainingCheck {
    let close = |got: f64, want: f64| (got - want).abs() <= TOLERANCE * want.abs().max(1.0);
    let finite = device.weight.is_finite()
        && device.bias.is_finite()
        && device.losses.iter().all(|l| l.is_finite());
    let loss_fell = match (device.losses.first(), device.losses.last()) {
        (Some(first), Some(last)) => last < first,
        _ => false,
    };
    TrainingCheck {
        max_abs_diff: (device.weight - reference.weight)
            .abs()
            .max((device.bias - reference.bias).abs()),
        matches_reference: finite
            && close(device.weight, reference.weight)
            && close(device.bias, reference.bias),
        loss_fell,
        finite,
    }
}

/// Train on `target` with Burn: `Linear(1, 1)`, `MseLoss`, Burn's SGD.
pub fn train_on(target: Target, problem: &TrainingProblem) -> Result<Fit, String> {
    let job = TrainJob(problem.clone());
    run_on_worker(None, move || dispatch(target, job))
        .map_err(|e| format!("training on {target} failed: {e}"))??
}

struct TrainJob(TrainingProblem);

impl BurnJob for TrainJob {
    type Output = Result<Fit, String>;

    fn run<B: AutodiffBackend>(self, device: B::Device, _barrier: Barrier) -> Self::Output {
        let p = self.0;
        let n = p.x.len();
        let x = Tensor::<B, 2>::from_data(TensorData::new(p.x.clone(), [n, 1]), &device);
        let y = Tensor::<B, 2>::from_data(TensorData::new(p.y.clone(), [n, 1]), &device);
        let mut model = Linear::<B> {
            weight: Param::from_tensor(Tensor::from_data(
                TensorData::new(vec![p.weight0], [1, 1]),
                &device,
            )),
            bias: Some(Param::from_tensor(Tensor::from_data(
                TensorData::new(vec![p.bias0], [1]),
                &device,
            ))),
        };
        let mut optim = SgdConfig::new().init::<B, Linear<B>>();
        let mse = MseLoss::new();
        let mut losses = Vec::with_capacity(p.steps as usize);
        for _ in 0..p.steps {
            let pred = model.forward(x.clone());
            let loss = mse.forward(pred, y.clone(), Reduction::Mean);
            // Reading the loss back waits for the step on every backend.
            losses.push(loss.clone().into_scalar().elem::<f64>());
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(p.lr, model, grads);
        }
        let weight = read_one(model.weight.val().into_data())?;
        let bias = match &model.bias {
            Some(b) => read_one(b.val().into_data())?,
            None => return Err("the model lost its bias".into()),
        };
        Ok(Fit {
            weight,
            bias,
            losses,
        })
    }
}

fn read_one(data: TensorData) -> Result<f64, String> {
    data.to_vec::<f32>()
        .map_err(|e| format!("cannot read a parameter back: {e:?}"))?
        .first()
        .map(|v| *v as f64)
        .ok_or_else(|| "an empty parameter".to_string())
}

/// The loss curve in eight levels (log scale: it falls by orders of magnitude).
pub fn sparkline(losses: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite: Vec<f64> = losses
        .iter()
        .copied()
        .filter(|l| l.is_finite() && *l > 0.0)
        .collect();
    if finite.is_empty() || width == 0 {
        return String::new();
    }
    let logs: Vec<f64> = finite.iter().map(|l| l.log10()).collect();
    let (lo, hi) = logs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let columns = width.min(logs.len());
    (0..columns)
        .map(|c| {
            let i = if columns == 1 {
                0
            } else {
                c * (logs.len() - 1) / (columns - 1)
            };
            let level = if hi > lo {
                ((logs[i] - lo) / (hi - lo) * 7.0).round() as usize
            } else {
                0
            };
            BARS[level.min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_problem_is_reproducible_and_the_books() {
        let a = TrainingProblem::book(42, 200);
        assert_eq!(a, TrainingProblem::book(42, 200));
        assert_ne!(a, TrainingProblem::book(43, 200));
        assert_eq!(a.x.len(), 100);
        assert!(a.x.iter().all(|x| (0.0..1.0).contains(x)));
        assert!((-1.0..1.0).contains(&a.weight0) && (-1.0..1.0).contains(&a.bias0));
        // y − (3x + 2) is the noise: small, centred.
        let noise: Vec<f64> =
            a.x.iter()
                .zip(&a.y)
                .map(|(x, y)| (*y - 3.0 * x - 2.0) as f64)
                .collect();
        assert!(noise.iter().all(|e| e.abs() < 0.5));
    }

    #[test]
    fn the_reference_descends_towards_three_and_two() {
        let fit = reference_fit(&TrainingProblem::book(42, 2000));
        assert!(
            (fit.weight - 3.0).abs() < 0.1 && (fit.bias - 2.0).abs() < 0.1,
            "{fit:?}"
        );
        assert!(fit.final_loss() < fit.losses[0]);
    }

    #[test]
    fn candle_cpu_training_matches_the_reference() {
        let p = TrainingProblem::book(42, 200);
        let device = train_on(Target::CPU, &p).unwrap();
        let reference = reference_fit(&p);
        let check = check_fit(&device, &reference);
        assert!(check.passed(), "{check:?} {device:?} {reference:?}");
        assert!(check.max_abs_diff < 1e-4, "{check:?}");
        assert_eq!(device.losses.len(), 200);
    }

    #[test]
    fn a_wrong_learning_rate_or_a_corrupted_reference_fails_the_check() {
        let p = TrainingProblem::book(7, 200);
        let device = train_on(Target::CPU, &p).unwrap();
        let wrong_lr = reference_fit(&TrainingProblem {
            lr: 0.11,
            ..p.clone()
        });
        let check = check_fit(&device, &wrong_lr);
        assert!(!check.passed());
        assert!(check
            .failure(&device, &wrong_lr)
            .unwrap()
            .contains("does not match"));
        let mut corrupted = reference_fit(&p);
        corrupted.bias *= 1.002;
        assert!(!check_fit(&device, &corrupted).passed());
        let mut nan = device.clone();
        nan.weight = f64::NAN;
        let check = check_fit(&nan, &reference_fit(&p));
        assert!(!check.passed() && !check.finite);
        let mut flat = device.clone();
        flat.losses.reverse();
        assert!(!check_fit(&flat, &reference_fit(&p)).loss_fell);
    }

    #[test]
    fn sparkline_falls_with_the_loss() {
        let s = sparkline(&[10.0, 1.0, 0.1, 0.01], 4);
        assert_eq!(s, "█▆▃▁");
        assert_eq!(sparkline(&[], 10), "");
        assert_eq!(sparkline(&[f64::NAN, 1.0], 10), "▁");
    }
}
