//! The book's own numbers (seed, sections 3.6 and 3.7; DESIGN.md lists them),
//! shown beside ours and always marked as the book's. They are PyTorch
//! timings of a 5000² matmul and of a train step the book never defines,
//! from a run whose warm-up the book does not state: a reference point, not
//! a measurement of the same thing.

use super::results::RowDevice;

/// One row of the book's section 3.7 table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BookRow {
    pub platform: &'static str,
    /// As the book writes it: "CPU" or "GPU".
    pub device: &'static str,
    /// Our name for that hardware: cpu, cuda, mps.
    pub hardware: RowDevice,
    pub matmul_s: f64,
    pub train_step_s: f64,
}

/// The matmul size of the book's benchmark.
pub const BOOK_MATMUL_SIZE: usize = 5000;

/// Section 3.7, "macOS vs Ubuntu GPU", in the book's order.
pub const BOOK_ROWS: [BookRow; 4] = [
    BookRow {
        platform: "Ubuntu (gaming GPU)",
        device: "CPU",
        hardware: RowDevice::Cpu,
        matmul_s: 1.378,
        train_step_s: 0.237,
    },
    BookRow {
        platform: "Ubuntu (CUDA GPU)",
        device: "GPU",
        hardware: RowDevice::Cuda,
        matmul_s: 0.141,
        train_step_s: 0.021,
    },
    BookRow {
        platform: "macOS M1 (64 GB)",
        device: "CPU",
        hardware: RowDevice::Cpu,
        matmul_s: 0.441,
        train_step_s: 0.095,
    },
    BookRow {
        platform: "macOS M1 (MPS GPU)",
        device: "GPU",
        hardware: RowDevice::Mps,
        matmul_s: 0.132,
        train_step_s: 0.015,
    },
];

/// How the book's rows were measured, in one line for the tables.
pub const BOOK_NOTE: &str = "the book's rows (section 3.7) are PyTorch, 5000² matmul, a train step it does not define, warm-up not stated";

/// Section 3.6: one 5000² matmul without warm-up on the M1, where the first
/// Metal call paid for shader compilation and the GPU looked slower.
pub const BOOK_NO_WARMUP_NOTE: &str =
    "section 3.6 timed one matmul without warm-up: M1 CPU 0.128 s, MPS 0.176 s (shader compilation included)";

impl BookRow {
    /// The CPU row of the same machine, for the book's "Relative Speed".
    pub fn cpu_of(&self) -> Option<&'static BookRow> {
        let machine = self.platform.split_whitespace().next()?;
        BOOK_ROWS
            .iter()
            .find(|r| r.device == "CPU" && r.platform.starts_with(machine))
    }

    /// The book's "Relative Speed": the train step against the same machine's CPU.
    pub fn relative_speed(&self) -> Option<f64> {
        if self.device == "CPU" {
            return None;
        }
        Some(self.cpu_of()?.train_step_s / self.train_step_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_speeds_are_the_books() {
        // The book prints "≈11× faster" and "≈6× faster".
        let cuda = BOOK_ROWS[1].relative_speed().unwrap();
        let mps = BOOK_ROWS[3].relative_speed().unwrap();
        assert_eq!(cuda.round(), 11.0);
        assert_eq!(mps.round(), 6.0);
        assert_eq!(BOOK_ROWS[0].relative_speed(), None);
        assert_eq!(BOOK_ROWS[3].cpu_of().unwrap().platform, "macOS M1 (64 GB)");
    }
}
