//! The seeded host generator every device's problem comes from.
//!
//! The self-test's data and initial parameters are drawn here, on the host,
//! so that every device and the f64 reference start from the same numbers,
//! and a seed reproduces a run exactly. SplitMix64 seeds xoshiro256**; normal
//! draws use Box–Muller. No generator crate: this is twenty lines.

/// A small, fast, reproducible generator (xoshiro256**).
#[derive(Debug, Clone)]
pub struct HostRng {
    state: [u64; 4],
}

impl HostRng {
    pub fn new(seed: u64) -> HostRng {
        let mut sm = seed;
        let mut next = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        HostRng {
            state: [next(), next(), next(), next()],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal (Box–Muller; one of the pair is dropped for simplicity).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }

    /// `len` f32 values uniform in [lo, hi).
    pub fn uniform_f32s(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        let span = hi - lo;
        (0..len)
            .map(|_| lo + span * ((self.next_u64() >> 40) as f32 * (1.0 / (1u32 << 24) as f32)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers_other_seed_others() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut r = HostRng::new(42);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = HostRng::new(42);
        let b: Vec<u64> = (0..8).map(|_| r.next_u64()).collect();
        let mut r = HostRng::new(43);
        let c: Vec<u64> = (0..8).map(|_| r.next_u64()).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let mut r = HostRng::new(7);
        let n = 200_000;
        let u: Vec<f64> = (0..n).map(|_| r.uniform()).collect();
        assert!(u.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = u.iter().sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let z: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
        let f = r.uniform_f32s(10_000, -1.0, 1.0);
        assert!(f.iter().all(|v| (-1.0..1.0).contains(v)));
    }
}
