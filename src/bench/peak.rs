//! The device's peak rate, where it is known, so that a row can say what
//! share of the hardware it used. Datasheet numbers, dense (no sparsity).
//!
//! NVIDIA H200 and H100 SXM (the same Hopper processor and clocks): FP32
//! 67 TFLOP/s and TF32 Tensor Core 989 TFLOP/s "with sparsity", so 494 dense
//! — NVIDIA H200 Tensor Core GPU datasheet (nvidia.com/h200, specifications
//! table, 2024) and H100 datasheet (SXM column). PCIe and NVL parts run
//! lower clocks and are not listed: no peak rather than a wrong one.

/// A peak rate and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub gflops: f64,
    pub source: &'static str,
}

const HOPPER_SXM: &str = "NVIDIA H200/H100 SXM datasheet: FP32 67 TFLOP/s, TF32 Tensor Core 989 TFLOP/s with sparsity (494 dense)";

/// The peak of the device named `device_name` computing in `precision`
/// ("fp32", "tf32"), where known.
pub fn peak(device_name: &str, precision: &str) -> Option<Peak> {
    let name = device_name.to_ascii_lowercase();
    let hopper_sxm = name.contains("h200") && !name.contains("nvl")
        || name.contains("h100") && (name.contains("sxm") || name.contains("hbm3"));
    if !hopper_sxm {
        return None;
    }
    let gflops = match precision_word(precision) {
        "fp32" => 67_000.0,
        "tf32" => 494_000.0,
        _ => return None,
    };
    Some(Peak {
        gflops,
        source: HOPPER_SXM,
    })
}

/// "fp32 (matmul precision high)" → "fp32".
pub fn precision_word(precision: &str) -> &str {
    precision.split_whitespace().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hopper_peaks_are_known_and_others_are_not() {
        assert_eq!(peak("NVIDIA H200", "tf32").unwrap().gflops, 494_000.0);
        assert_eq!(peak("NVIDIA H200", "fp32").unwrap().gflops, 67_000.0);
        assert_eq!(
            peak("NVIDIA H100 80GB HBM3", "fp32").unwrap().gflops,
            67_000.0
        );
        assert!(peak("NVIDIA H100 PCIe", "fp32").is_none());
        assert!(peak("NVIDIA H200 NVL", "fp32").is_none());
        assert!(peak("NVIDIA GeForce RTX 4090", "fp32").is_none());
        assert!(peak("NVIDIA H200", "bf16").is_none());
        assert_eq!(precision_word("fp32 (matmul precision high)"), "fp32");
    }
}
