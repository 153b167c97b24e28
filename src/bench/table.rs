//! The tables people read: one machine's results in detail (`ttm bench`),
//! and the cross-machine table in the layout of the book's section 3.7
//! (Platform, Device, MatMul, Train Step, Relative Speed), which `ttm bench`
//! also prints with the book's rows beside this machine's, and
//! `ttm bench compare` prints for saved files.

use serde::Serialize;
use serde_json::Value;

use super::reference::{BOOK_MATMUL_SIZE, BOOK_ROWS};
use super::results::{BenchDoc, Framework, RowBackend, RowDevice, Workload};
use super::stats::{gflops, matmul_flops, speedup};

/// Plain columns, padded; numbers right-aligned. A heading line (a
/// platform's name) may stand before a row, across the columns.
#[derive(Debug, Clone, Default)]
pub struct TextTable {
    pub headers: Vec<String>,
    pub right_aligned: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    /// (index of the row it stands before, the line).
    pub headings: Vec<(usize, String)>,
}

impl TextTable {
    pub fn new(headers: &[(&str, bool)]) -> TextTable {
        TextTable {
            headers: headers.iter().map(|(h, _)| (*h).to_owned()).collect(),
            right_aligned: headers.iter().map(|(_, r)| *r).collect(),
            rows: Vec::new(),
            headings: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// A line across the columns before the next row.
    pub fn heading(&mut self, line: String) {
        self.headings.push((self.rows.len(), line));
    }

    /// The widest line the table renders to (headings not counted: they are
    /// cut to the width instead).
    pub fn width(&self) -> usize {
        let mut plain = self.clone();
        plain.headings.clear();
        plain
            .render()
            .lines()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    }

    /// Leave columns out, in the order of `droppable`, until the table fits
    /// `width` columns; the headers of those left out, in that order.
    pub fn fit(&mut self, width: usize, droppable: &[&str]) -> Vec<String> {
        let mut left_out = Vec::new();
        for name in droppable {
            if self.width() <= width {
                break;
            }
            if self.remove_column(name) {
                left_out.push((*name).to_owned());
            }
        }
        left_out
    }

    /// Remove the column headed `name`; false where there is none.
    pub fn remove_column(&mut self, name: &str) -> bool {
        let Some(i) = self.headers.iter().position(|h| h == name) else {
            return false;
        };
        self.headers.remove(i);
        self.right_aligned.remove(i);
        for r in &mut self.rows {
            if i < r.len() {
                r.remove(i);
            }
        }
        true
    }

    pub fn render(&self) -> String {
        let width = |s: &str| s.chars().count();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(width(cell));
                }
            }
        }
        let line = |cells: &[String]| -> String {
            let mut out = String::new();
            for (i, w) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = " ".repeat(w - width(cell).min(*w));
                if i > 0 {
                    out.push_str("  ");
                }
                if self.right_aligned.get(i).copied().unwrap_or(false) {
                    out.push_str(&pad);
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    out.push_str(&pad);
                }
            }
            out.trim_end().to_owned()
        };
        let table_width = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        let mut out = vec![line(&self.headers)];
        for (i, r) in self.rows.iter().enumerate() {
            for (_, h) in self.headings.iter().filter(|(at, _)| *at == i) {
                out.push(cut(h, table_width.max(40)));
            }
            out.push(line(r));
        }
        out.join("\n")
    }
}

/// `text` cut to `width` characters, with "…" where it was cut.
pub fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// "0.41 ms", "92.3 ms", "1.378 s", "52.0 µs"; "—" for what is not a number.
/// Every formatter here keeps its text short for any finite value (a file
/// from another machine may say 3e307), in scientific notation past a bound.
pub fn seconds(s: f64) -> String {
    if !s.is_finite() {
        "—".to_owned()
    } else if !(0.0..1e6).contains(&s) || (s > 0.0 && s < 1e-9) {
        format!("{s:.3e} s")
    } else if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        // Four significant digits: "620.0 ms", "51.00 ms", "5.600 ms".
        let ms = s * 1e3;
        match ms {
            m if m >= 100.0 => format!("{m:.1} ms"),
            m if m >= 10.0 => format!("{m:.2} ms"),
            m => format!("{m:.3} ms"),
        }
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// "175.1 … 190.8 ms": one unit when both share it, "0.9 ms … 1.2 s" else.
pub fn range(min: f64, max: f64) -> String {
    let (lo, hi) = (seconds(min), seconds(max));
    match (lo.rsplit_once(' '), hi.rsplit_once(' ')) {
        (Some((a, u)), Some((b, v))) if u == v => format!("{a} … {b} {u}"),
        _ => format!("{lo} … {hi}"),
    }
}

/// "11×", "2.3×", "0.82×"
pub fn times(x: f64) -> String {
    if !x.is_finite() {
        "—".to_owned()
    } else if x.abs() >= 1e6 || (x != 0.0 && x.abs() < 1e-3) {
        format!("{x:.1e}×")
    } else if x >= 10.0 {
        format!("{x:.0}×")
    } else if x >= 1.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

/// "45 231", "181", "3.2": a rate people can read at a glance.
pub fn rate(x: f64) -> String {
    if !x.is_finite() {
        "—".to_owned()
    } else if x.abs() >= 1e7 || (x != 0.0 && x.abs() < 1e-3) {
        format!("{x:.2e}")
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// A time in seconds with four decimals, as the book's table prints them.
pub fn seconds_4(s: f64) -> String {
    if !s.is_finite() {
        "—".to_owned()
    } else if s.abs() >= 1e6 || (s != 0.0 && s.abs() < 1e-4) {
        format!("{s:.3e}")
    } else {
        format!("{s:.4}")
    }
}

/// One machine's rows in full: Burn and PyTorch side by side per device.
pub fn detail_table(doc: &BenchDoc) -> TextTable {
    let mut t = TextTable::new(&[
        ("Device", false),
        ("Engine", false),
        ("Workload", false),
        ("Median", true),
        ("Min … max", true),
        ("First call", true),
        ("GFLOP/s", true),
        ("Precision", false),
        ("Of peak", true),
        ("vs CPU", true),
        (VS_TORCH, true),
    ]);
    // Without PyTorch rows (no --torch) that last column would stay empty.
    let with_torch = !doc.comparisons.is_empty();
    if !with_torch {
        t.headers.pop();
        t.right_aligned.pop();
    }
    for row in ordered(doc) {
        // The train step's batch is in the line above the table.
        let workload = match row.workload {
            Workload::Matmul => format!("MatMul {0}×{0}", row.size),
            Workload::TrainStep => "Train step".to_owned(),
        };
        let vs_torch = match row.framework {
            Framework::Burn => doc
                .comparisons
                .iter()
                .find(|c| {
                    c.device == row.hardware()
                        && c.workload == row.workload
                        && c.burn_backend == row.backend
                })
                .map(|c| times(c.burn_speed_vs_torch))
                .or_else(|| unequal_precision(doc, row))
                .unwrap_or_default(),
            Framework::Torch => String::new(),
        };
        t.push(vec![
            row.device_title().to_owned(),
            row.engine(),
            workload,
            seconds(row.median_s),
            range(row.min_s, row.max_s),
            seconds(row.first_s),
            rate(row.gflops),
            row.precision.clone(),
            row.share_of_peak
                .map(|s| format!("{:.0} %", s * 100.0))
                .unwrap_or_default(),
            if row.on_cpu() {
                "—".to_owned()
            } else {
                row.speedup_vs_cpu.map(times).unwrap_or_default()
            },
            vs_torch,
        ]);
        if !with_torch {
            if let Some(r) = t.rows.last_mut() {
                r.pop();
            }
        }
    }
    // A column that says the same on every row goes: every row on the CPU
    // ("vs CPU" all "—"), one precision for all (the header line says f32).
    let all_cpu = doc.results.iter().all(|r| r.on_cpu());
    let one_precision = doc
        .results
        .windows(2)
        .all(|w| w[0].precision == w[1].precision);
    // No device with a known peak (every CPU, say): no "Of peak" column.
    let no_peak = doc.results.iter().all(|r| r.share_of_peak.is_none());
    for (name, drop) in [
        ("vs CPU", all_cpu),
        ("Precision", one_precision),
        ("Of peak", no_peak),
    ] {
        if drop {
            t.remove_column(name);
        }
    }
    t
}

/// The header of the Burn-against-PyTorch column.
pub const VS_TORCH: &str = "vs PyTorch";

/// The detail table's columns a narrow terminal loses first, in order:
/// what `--json` and a wider terminal still show.
pub const DETAIL_DROPPABLE: [&str; 5] =
    ["Min … max", "First call", "Of peak", "Precision", "vs CPU"];

/// The book-layout table's columns a narrow terminal loses first.
pub const COMPARE_DROPPABLE: [&str; 1] = ["GFLOP/s"];

/// "not compared (tf32 vs fp32)": a PyTorch row beside this Burn row ran at
/// another precision, so no ratio is shown.
fn unequal_precision(doc: &BenchDoc, row: &super::BenchRow) -> Option<String> {
    let torch = doc.results.iter().find(|t| {
        t.framework == Framework::Torch
            && t.workload == row.workload
            && t.hardware() == row.hardware()
    })?;
    Some(format!(
        "{} vs {}",
        super::peak::precision_word(&row.precision),
        super::peak::precision_word(&torch.precision)
    ))
}

/// The rows in reading order: CPU first (the book's order), then each GPU;
/// on a device, Burn before PyTorch; matmul before the train step.
fn ordered(doc: &BenchDoc) -> Vec<&super::BenchRow> {
    let mut rows: Vec<&super::BenchRow> = doc.results.iter().collect();
    rows.sort_by_key(|r| {
        (
            hardware_rank(r.hardware()),
            r.framework == Framework::Torch,
            r.backend,
            r.workload == Workload::TrainStep,
        )
    });
    rows
}

fn hardware_rank(hardware: RowDevice) -> usize {
    match hardware {
        RowDevice::Cpu => 0,
        RowDevice::Cuda => 1,
        RowDevice::Metal => 2,
        RowDevice::Vulkan => 3,
        RowDevice::Mps => 9,
    }
}

/// One line of the book-layout table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareRow {
    pub platform: String,
    pub device: RowDevice,
    /// "Burn cubecl", "PyTorch"
    pub engine: String,
    pub framework: Framework,
    pub backend: RowBackend,
    pub matmul_s: Option<f64>,
    pub matmul_size: Option<usize>,
    pub matmul_gflops: Option<f64>,
    pub train_step_s: Option<f64>,
    /// The train step (or, without one, the matmul) against the same
    /// platform's and framework's CPU, as the book's "Relative Speed".
    pub relative_speed: Option<f64>,
    /// A row from the book, not measured by ttm.
    pub book: bool,
}

/// A platform's label from its facts: "macOS 14.5, Apple M1 Max", "Ubuntu 22.04.4 LTS, NVIDIA H100 80GB HBM3".
/// Control characters in the facts (a file from anywhere) are spelled out.
pub fn platform_label(machine: &Value, fallback: &str) -> String {
    crate::ui::printable(&raw_platform_label(machine, fallback))
}

fn raw_platform_label(machine: &Value, fallback: &str) -> String {
    let text = |k: &str| {
        machine
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.is_empty())
    };
    let os = match (text("os").as_deref(), text("os_version")) {
        (Some("macos"), Some(v)) => Some(format!("macOS {v}")),
        (Some("macos"), None) => Some("macOS".to_owned()),
        (Some("linux"), Some(v)) => Some(v),
        (Some("linux"), None) => Some("Linux".to_owned()),
        _ => None,
    };
    let gpu = machine
        .get("gpus")
        .and_then(|g| g.get(0))
        .and_then(|g| g.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let apple = machine.get("apple_silicon").and_then(Value::as_bool) == Some(true);
    let hardware = match (text("chip"), gpu) {
        (Some(chip), _) if apple => Some(chip),
        (_, Some(gpu)) => Some(gpu),
        (chip, None) => chip,
    };
    match (os, hardware) {
        (Some(os), Some(hw)) => format!("{os}, {hw}"),
        (Some(os), None) => format!("{os} ({fallback})"),
        (None, Some(hw)) => hw,
        (None, None) => fallback.to_owned(),
    }
}

/// The book-layout rows of one saved (or just measured) document.
pub fn compare_rows(platform: &str, doc: &BenchDoc) -> Vec<CompareRow> {
    let mut engines: Vec<(Framework, RowBackend, RowDevice)> = Vec::new();
    for row in ordered(doc) {
        let key = (row.framework, row.backend, row.device);
        if !engines.contains(&key) {
            engines.push(key);
        }
    }
    let median = |f: Framework, b: RowBackend, d: RowDevice, w: Workload| {
        doc.results
            .iter()
            .find(|r| r.framework == f && r.backend == b && r.device == d && r.workload == w)
    };
    engines
        .into_iter()
        .map(|(framework, backend, device)| {
            let matmul = median(framework, backend, device, Workload::Matmul);
            let train = median(framework, backend, device, Workload::TrainStep);
            let cpu_backend = doc
                .results
                .iter()
                .find(|r| r.framework == framework && r.on_cpu())
                .map(|r| r.backend);
            let relative = if device == RowDevice::Cpu {
                None
            } else {
                cpu_backend.and_then(|cb| {
                    let cpu_train = median(framework, cb, RowDevice::Cpu, Workload::TrainStep);
                    let cpu_matmul = median(framework, cb, RowDevice::Cpu, Workload::Matmul);
                    match (cpu_train, train, cpu_matmul, matmul) {
                        (Some(c), Some(t), _, _) => speedup(c.median_s, t.median_s),
                        (_, _, Some(c), Some(m)) if c.size == m.size => {
                            speedup(c.median_s, m.median_s)
                        }
                        _ => None,
                    }
                })
            };
            CompareRow {
                platform: platform.to_owned(),
                engine: match framework {
                    Framework::Burn => format!("Burn {backend}"),
                    Framework::Torch => "PyTorch".to_owned(),
                },
                device,
                framework,
                backend,
                matmul_s: matmul.map(|m| m.median_s),
                matmul_size: matmul.map(|m| m.size),
                matmul_gflops: matmul.map(|m| m.gflops),
                train_step_s: train.map(|t| t.median_s),
                relative_speed: relative,
                book: false,
            }
        })
        .collect()
}

/// The book's four rows, in the same shape.
pub fn book_rows() -> Vec<CompareRow> {
    BOOK_ROWS
        .iter()
        .map(|b| CompareRow {
            platform: format!("the book: {}", b.platform),
            device: b.hardware,
            engine: "PyTorch".to_owned(),
            framework: Framework::Torch,
            backend: RowBackend::Torch,
            matmul_s: Some(b.matmul_s),
            matmul_size: Some(BOOK_MATMUL_SIZE),
            matmul_gflops: Some(gflops(matmul_flops(BOOK_MATMUL_SIZE), b.matmul_s)),
            train_step_s: Some(b.train_step_s),
            relative_speed: b.relative_speed(),
            book: true,
        })
        .collect()
}

/// The section 3.7 layout: Platform, Device, MatMul (s), GFLOP/s, Train
/// Step (s), Relative Speed. Each platform is a heading line with its rows
/// under it, so that a long platform name (a GPU's, from a saved file) does
/// not widen every row past the terminal.
pub fn compare_table(rows: &[CompareRow]) -> TextTable {
    let mut t = TextTable::new(&[
        ("Platform · Device", false),
        ("MatMul (s)", true),
        ("GFLOP/s", true),
        ("Train Step (s)", true),
        ("Relative Speed", false),
    ]);
    let mut platform: Option<&str> = None;
    for r in rows {
        if platform != Some(r.platform.as_str()) {
            t.heading(r.platform.clone());
            platform = Some(r.platform.as_str());
        }
        let device = if r.book {
            let gpu = r.device != RowDevice::Cpu;
            format!("{} · PyTorch", if gpu { "GPU" } else { "CPU" })
        } else {
            format!("{} · {}", r.device.title(), r.engine)
        };
        let matmul = match (r.matmul_s, r.matmul_size) {
            (Some(s), Some(n)) if n != BOOK_MATMUL_SIZE => format!("{} (N={n})", seconds_4(s)),
            (Some(s), _) => seconds_4(s),
            _ => "—".to_owned(),
        };
        let relative = match r.relative_speed {
            None => "—".to_owned(),
            Some(x) if !x.is_finite() => "—".to_owned(),
            // The book's own rows as the book printed them: "≈6×", not "≈6.3×".
            Some(x) if r.book => format!("≈{x:.0}× faster"),
            Some(x) if x >= 1.0 => format!("≈{} faster", times(x)),
            Some(x) => format!("≈{} (slower)", times(x)),
        };
        t.push(vec![
            format!("  {device}"),
            matmul,
            r.matmul_gflops.map(rate).unwrap_or_else(|| "—".to_owned()),
            r.train_step_s
                .map(seconds_4)
                .unwrap_or_else(|| "—".to_owned()),
            relative,
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::results::BenchRow;
    use crate::bench::stats::Summary;
    use serde_json::json;

    fn row(f: Framework, b: &str, d: &str, w: Workload, size: usize, median: f64) -> BenchRow {
        let s = Summary::of(median, &[median], 1e9).unwrap();
        let b = match b {
            "candle" => RowBackend::Candle,
            "cubecl" => RowBackend::Cubecl,
            _ => RowBackend::Torch,
        };
        let d = RowDevice::parse(d).unwrap();
        BenchRow::new(f, b, d, w, size, s, vec![median], "fp32", None)
    }

    fn fixture(name: &str) -> BenchDoc {
        let path = format!(
            "{}/tests/fixtures/bench-results/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        BenchDoc::parse(&std::fs::read(&path).unwrap()).unwrap()
    }

    fn widest(text: &str) -> usize {
        text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    #[test]
    fn gpu_tables_fit_100_columns_and_80_sensibly() {
        let doc = fixture("linux-h100.json");
        let full = detail_table(&doc);
        assert!(
            full.width() > 100,
            "the fixture is wide enough to test this"
        );

        let mut at_100 = full.clone();
        let left_out = at_100.fit(100, &DETAIL_DROPPABLE);
        let text = at_100.render();
        eprintln!("{text}\n{left_out:?}");
        assert!(widest(&text) <= 100, "{text}");
        for kept in [
            "Device", "Engine", "Workload", "Median", "GFLOP/s", "vs CPU", VS_TORCH,
        ] {
            assert!(
                at_100.headers.iter().any(|h| h == kept),
                "{kept} at 100:\n{text}"
            );
        }
        assert!(left_out.len() < DETAIL_DROPPABLE.len(), "{left_out:?}");

        let mut at_80 = full.clone();
        at_80.fit(80, &DETAIL_DROPPABLE);
        let text = at_80.render();
        eprintln!("{text}");
        assert!(widest(&text) <= 80, "{text}");
        for kept in [
            "Device", "Engine", "Workload", "Median", "GFLOP/s", "vs CPU", VS_TORCH,
        ] {
            assert!(
                at_80.headers.iter().any(|h| h == kept),
                "{kept} at 80:\n{text}"
            );
        }
        assert!(text.contains("CUDA    Burn cubecl"), "{text}");

        for width in [100, 80] {
            let mut rows = compare_rows("Ubuntu 22.04.4 LTS, NVIDIA H100 80GB HBM3", &doc);
            rows.extend(book_rows());
            let mut t = compare_table(&rows);
            t.fit(width, &COMPARE_DROPPABLE);
            let text = t.render();
            eprintln!("{text}");
            assert!(widest(&text) <= width, "{width}:\n{text}");
            assert!(t.headers.iter().any(|h| h == "GFLOP/s"), "{width}:\n{text}");
            assert!(
                text.contains("\nUbuntu 22.04.4 LTS, NVIDIA H100 80GB HBM3\n  CPU · Burn candle"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_narrow_table_leaves_columns_out_in_order() {
        let mut t = TextTable::new(&[("A", false), ("Wide column", true), ("B", false)]);
        t.push(vec!["a".into(), "1234567890123".into(), "b".into()]);
        assert_eq!(t.width(), 19);
        assert!(t.fit(30, &["Wide column"]).is_empty());
        assert_eq!(t.fit(10, &["Nope", "Wide column"]), ["Wide column"]);
        assert_eq!(t.render(), "A  B\na  b");
        t.heading("a platform whose name is far longer than the table".into());
        t.push(vec!["c".into(), "1".into(), "d".into()]);
        let text = t.render();
        let heading = text.lines().nth(2).unwrap();
        assert_eq!(heading.chars().count(), 40, "{text}");
        assert!(heading.ends_with('…'), "{text}");
    }

    #[test]
    fn columns_line_up() {
        let mut t = TextTable::new(&[("Name", false), ("Value", true)]);
        t.push(vec!["a".into(), "1".into()]);
        t.push(vec!["longer name".into(), "12345".into()]);
        assert_eq!(
            t.render(),
            "Name         Value\na                1\nlonger name  12345"
        );
    }

    #[test]
    fn units_read_well() {
        assert_eq!(seconds(1.378), "1.378 s");
        assert_eq!(seconds(0.0031), "3.100 ms");
        assert_eq!(seconds(0.051), "51.00 ms");
        assert_eq!(seconds(0.62), "620.0 ms");
        assert_eq!(range(0.17507, 0.19075), "175.1 … 190.8 ms");
        assert_eq!(seconds(0.000052), "52.0 µs");
        assert_eq!(times(11.28), "11×");
        assert_eq!(times(2.345), "2.3×");
        assert_eq!(times(0.8234), "0.82×");
    }

    #[test]
    fn any_number_prints_short() {
        assert_eq!(seconds(3e307), "3.000e307 s");
        assert_eq!(seconds(f64::NAN), "—");
        assert_eq!(rate(3e307), "3.00e307");
        assert_eq!(rate(f64::INFINITY), "—");
        assert_eq!(times(f64::INFINITY), "—");
        assert_eq!(seconds_4(2.5e307), "2.500e307");
        assert_eq!(seconds_4(0.6), "0.6000");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn tables_stay_narrow_for_any_value(
            m in proptest::num::f64::ANY,
            t in proptest::num::f64::ANY,
            g in proptest::num::f64::ANY,
            r in proptest::num::f64::ANY,
        ) {
            for text in [seconds(m), seconds_4(m), rate(g), times(r)] {
                proptest::prop_assert!(text.chars().count() <= 16, "{text:?}");
            }
            let row = CompareRow {
                platform: "p".into(),
                device: RowDevice::Cuda,
                engine: "Burn cubecl".into(),
                framework: Framework::Burn,
                backend: RowBackend::Cubecl,
                matmul_s: Some(m),
                matmul_size: Some(96),
                matmul_gflops: Some(g),
                train_step_s: Some(t),
                relative_speed: Some(r),
                book: false,
            };
            let text = compare_table(&[row]).render();
            proptest::prop_assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
        }
    }

    #[test]
    fn book_layout_has_the_books_relative_speeds() {
        let text = compare_table(&book_rows()).render();
        assert!(text.starts_with("Platform"), "{text}");
        assert!(text.contains("the book: Ubuntu (CUDA GPU)"), "{text}");
        assert!(text.contains("≈11× faster"), "{text}");
        assert!(
            text.contains("≈6× faster"),
            "as the book printed it: {text}"
        );
        assert!(!text.contains("≈6.3×"), "{text}");
        assert!(text.contains("1.3780"), "{text}");
    }

    #[test]
    fn relative_speed_is_against_the_same_frameworks_cpu() {
        let doc = BenchDoc::new(
            json!({}),
            "",
            vec![
                row(
                    Framework::Burn,
                    "candle",
                    "cpu",
                    Workload::Matmul,
                    5000,
                    1.0,
                ),
                row(
                    Framework::Burn,
                    "candle",
                    "cpu",
                    Workload::TrainStep,
                    512,
                    0.2,
                ),
                row(
                    Framework::Burn,
                    "cubecl",
                    "cuda",
                    Workload::Matmul,
                    5000,
                    0.01,
                ),
                row(
                    Framework::Burn,
                    "cubecl",
                    "cuda",
                    Workload::TrainStep,
                    512,
                    0.002,
                ),
                row(
                    Framework::Torch,
                    "torch",
                    "cuda",
                    Workload::Matmul,
                    5000,
                    0.02,
                ),
            ],
        );
        let rows = compare_rows("here", &doc);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].device, RowDevice::Cpu);
        assert_eq!(rows[0].relative_speed, None);
        assert!((rows[1].relative_speed.unwrap() - 100.0).abs() < 1e-9);
        // PyTorch has no CPU row here: no relative speed rather than a wrong one.
        assert_eq!(rows[2].relative_speed, None);
        assert_eq!(rows[2].train_step_s, None);
        let text = compare_table(&rows).render();
        assert!(text.contains("CUDA · Burn cubecl"), "{text}");
        assert!(text.contains("≈100× faster"), "{text}");
    }

    #[test]
    fn platforms_are_named_from_their_facts() {
        let mac = json!({"os": "macos", "os_version": "14.5", "chip": "Apple M1 Max", "apple_silicon": true,
                         "gpus": [{"name": "Apple M1 Max"}]});
        assert_eq!(platform_label(&mac, "f"), "macOS 14.5, Apple M1 Max");
        let linux = json!({"os": "linux", "os_version": "Ubuntu 22.04.4 LTS", "chip": "Xeon",
                           "gpus": [{"name": "NVIDIA H100 80GB HBM3"}]});
        assert_eq!(
            platform_label(&linux, "f"),
            "Ubuntu 22.04.4 LTS, NVIDIA H100 80GB HBM3"
        );
        assert_eq!(platform_label(&json!({"os": "other"}), "h100"), "h100");
        assert_eq!(platform_label(&Value::Null, "file"), "file");
    }
}
