//! The statistics of one workload's samples: the first call apart, then the
//! median, minimum and maximum of the timed runs, and the rate in GFLOP/s
//! (from the median, the number a person can reproduce).

/// Summary of one workload on one device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub first_s: f64,
    pub median_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    /// Floating-point operations per run divided by the median, in 10⁹/s.
    pub gflops: f64,
}

impl Summary {
    /// None when there are no samples, or a sample is not a positive finite time.
    pub fn of(first_s: f64, samples_s: &[f64], flops: f64) -> Option<Summary> {
        if samples_s.is_empty() || samples_s.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return None;
        }
        let median_s = median(samples_s)?;
        Some(Summary {
            first_s,
            median_s,
            min_s: samples_s.iter().copied().fold(f64::INFINITY, f64::min),
            max_s: samples_s.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            gflops: gflops(flops, median_s),
        })
    }
}

/// The median (the mean of the middle two for an even count); None when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// 10⁹ floating-point operations per second.
pub fn gflops(flops: f64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        flops / seconds / 1e9
    } else {
        0.0
    }
}

/// Floating-point operations of an `n`×`n` by `n`×`n` product.
pub fn matmul_flops(n: usize) -> f64 {
    2.0 * (n as f64).powi(3)
}

/// How many times faster `fast` is than `slow`, by their times.
pub fn speedup(slow_s: f64, fast_s: f64) -> Option<f64> {
    (slow_s > 0.0 && fast_s > 0.0 && slow_s.is_finite() && fast_s.is_finite())
        .then(|| slow_s / fast_s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn summary_keeps_the_first_call_apart() {
        let s = Summary::of(0.6, &[0.003, 0.0029, 0.0031, 0.0030], 2.0 * 1000f64.powi(3)).unwrap();
        assert_eq!(s.first_s, 0.6);
        assert!((s.median_s - 0.00300).abs() < 1e-12, "{}", s.median_s);
        assert_eq!(s.min_s, 0.0029);
        assert_eq!(s.max_s, 0.0031);
        // 2·10⁹ flops in 3 ms: 666.7 GFLOP/s.
        assert!((s.gflops - 666.666).abs() < 0.01, "{}", s.gflops);
    }

    #[test]
    fn summary_refuses_empty_or_broken_samples() {
        assert_eq!(Summary::of(0.1, &[], 1.0), None);
        assert_eq!(Summary::of(0.1, &[0.1, f64::NAN], 1.0), None);
        assert_eq!(Summary::of(0.1, &[0.0], 1.0), None);
    }

    #[test]
    fn rates_and_speedups() {
        assert_eq!(matmul_flops(5000), 2.5e11);
        // The book's Ubuntu CPU: one 5000² matmul in 1.378 s is 181 GFLOP/s.
        assert!((gflops(matmul_flops(5000), 1.378) - 181.42).abs() < 0.01);
        assert!((speedup(0.237, 0.021).unwrap() - 11.2857).abs() < 1e-3);
        assert_eq!(speedup(0.0, 1.0), None);
        assert_eq!(gflops(1.0, 0.0), 0.0);
    }

    proptest! {
        #[test]
        fn median_lies_between_min_and_max(v in proptest::collection::vec(1e-6f64..10.0, 1..40)) {
            let s = Summary::of(1.0, &v, 1e9).unwrap();
            prop_assert!(s.min_s <= s.median_s && s.median_s <= s.max_s);
            prop_assert!(s.gflops > 0.0);
        }
    }
}
