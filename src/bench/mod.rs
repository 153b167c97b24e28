//! `ttm bench`'s domain: everything between the raw timings (Burn's from
//! `compute::bench`, PyTorch's from `scripts/torch_bench.py`) and what the
//! user sees: statistics, the result rows and their JSON file, the book's
//! reference rows, the tables (one machine, and `compare` across machines),
//! and the SVG chart.
//!
//! [`run`] decides what to run and runs it (the workloads themselves are
//! Burn's, in `compute::bench`, and PyTorch's, in [`torch`]); [`compare`]
//! reads saved results back.

pub mod chart;
pub mod compare;
pub mod reference;
pub mod results;
pub mod run;
pub mod stats;
pub mod table;
pub mod torch;

pub use results::{BenchDoc, BenchRow, Framework, RowBackend, RowDevice, Workload};
pub use stats::Summary;
