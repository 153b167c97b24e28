//! `ttm bench`'s domain: everything between the raw timings (Burn's from
//! `compute::bench`, PyTorch's from `scripts/torch_bench.py`) and what the
//! user sees: statistics, the result rows and their JSON file, the book's
//! reference rows, the tables (one machine, and `compare` across machines),
//! and the SVG chart.
//!
//! The command (`commands/bench.rs`) decides what to run; nothing here runs
//! a workload.

pub mod chart;
pub mod reference;
pub mod results;
pub mod stats;
pub mod table;
pub mod torch;

pub use results::{BenchDoc, BenchRow, Framework, Workload};
pub use stats::Summary;
