//! The SVG bar chart (`--plot FILE.svg`): one bar per platform, device and
//! engine, in two panels that both read "longer is faster" — matmul
//! GFLOP/s and train steps per second — on log scales, since a CPU and an
//! H100 differ by a factor of a hundred. Burn, PyTorch and the book's rows
//! have their own colours; every bar carries its number.
//!
//! Drawn in memory with plotters' SVG backend, then written atomically.

use std::path::Path;

use plotters::coord::ranged1d::SegmentValue;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::results::{Framework, RowDevice};
use super::table::{rate, CompareRow};
use crate::error::{Error, Result};
use crate::system::System;

const WIDTH: u32 = 1500;
const ROW_HEIGHT: u32 = 30;
const LABEL_WIDTH: u32 = 470;
const BURN: RGBColor = RGBColor(230, 120, 30);
const TORCH: RGBColor = RGBColor(60, 110, 200);
const BOOK: RGBColor = RGBColor(165, 165, 165);

/// One bar pair: a row of the book-layout table.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRow {
    pub label: String,
    pub framework: Framework,
    pub book: bool,
    pub matmul_gflops: Option<f64>,
    pub train_steps_per_s: Option<f64>,
}

impl ChartRow {
    pub fn from_compare(r: &CompareRow) -> ChartRow {
        let device = if r.book {
            if r.device == RowDevice::Cpu {
                "CPU"
            } else {
                "GPU"
            }
        } else {
            r.device.title()
        };
        // The platform is shortened, never the device or engine: a long CPU
        // name must not hide which bar is Burn's.
        // The matmul's size too: a 1024² bar is not comparable to the book's 5000².
        let size = r
            .matmul_size
            .map(|n| format!(" · {n}²"))
            .unwrap_or_default();
        let tail = format!(" · {device} · {}{size}", r.engine);
        let room = 72usize.saturating_sub(tail.chars().count()).max(8);
        let platform = if r.platform.chars().count() > room {
            r.platform.chars().take(room - 1).collect::<String>() + "…"
        } else {
            r.platform.clone()
        };
        let label = platform + &tail;
        ChartRow {
            label,
            framework: r.framework,
            book: r.book,
            matmul_gflops: r.matmul_gflops.filter(|g| g.is_finite() && *g > 0.0),
            train_steps_per_s: r
                .train_step_s
                .filter(|s| *s > 0.0)
                .map(|s| 1.0 / s)
                .filter(|r| r.is_finite()),
        }
    }

    fn color(&self) -> RGBColor {
        match (self.book, self.framework) {
            (true, _) => BOOK,
            (false, Framework::Burn) => BURN,
            (false, Framework::Torch) => TORCH,
        }
    }
}

/// The chart as SVG text.
pub fn render_svg(title: &str, rows: &[ChartRow]) -> std::result::Result<String, String> {
    let rows: Vec<&ChartRow> = rows
        .iter()
        .filter(|r| r.matmul_gflops.is_some() || r.train_steps_per_s.is_some())
        .collect();
    if rows.is_empty() {
        return Err("there is nothing to draw: no row has a time".to_owned());
    }
    let height = 150 + ROW_HEIGHT * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (head, body) = root.split_vertically(64);
        draw_head(&head, title, &rows)?;
        let (left, right) = body.split_horizontally(LABEL_WIDTH + (WIDTH - LABEL_WIDTH) / 2);
        draw_panel(
            &left,
            "MatMul, GFLOP/s (log scale; longer is faster)",
            &rows,
            |r| r.matmul_gflops,
            LABEL_WIDTH,
        )?;
        draw_panel(
            &right,
            "Train steps per second (log scale; longer is faster)",
            &rows,
            |r| r.train_steps_per_s,
            8,
        )?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Draw and write `path` (atomically).
pub fn write_svg(sys: &System, path: &Path, title: &str, rows: &[ChartRow]) -> Result<()> {
    let svg = render_svg(title, rows)
        .map_err(|e| Error::failed(format!("cannot draw {}: {e}", path.display())))?;
    sys.write_atomic(path, svg.as_bytes())
}

fn draw_head<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    rows: &[&ChartRow],
) -> std::result::Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.draw(&Text::new(
        title.to_owned(),
        (16, 12),
        ("sans-serif", 26).into_font(),
    ))
    .map_err(err)?;
    let mut x = 16;
    // What the bars are, and only the kinds that have bars.
    let has = |book: bool, f: Option<Framework>| {
        rows.iter()
            .any(|r| r.book == book && f.is_none_or(|f| r.framework == f))
    };
    let legend = [
        ("Burn (medians)", BURN, has(false, Some(Framework::Burn))),
        (
            "PyTorch (medians)",
            TORCH,
            has(false, Some(Framework::Torch)),
        ),
        (
            "the book's PyTorch times, converted to GFLOP/s and steps/s",
            BOOK,
            has(true, None),
        ),
    ];
    for (name, color, _) in legend.into_iter().filter(|(_, _, shown)| *shown) {
        area.draw(&Rectangle::new([(x, 42), (x + 14, 56)], color.filled()))
            .map_err(err)?;
        area.draw(&Text::new(
            name.to_owned(),
            (x + 20, 42),
            ("sans-serif", 17).into_font(),
        ))
        .map_err(err)?;
        x += 40 + 9 * name.len() as i32;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    rows: &[&ChartRow],
    value: impl Fn(&ChartRow) -> Option<f64>,
    label_width: u32,
) -> std::result::Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let values: Vec<f64> = rows.iter().filter_map(|r| value(r)).collect();
    let (lo, hi) = log_bounds(&values);
    let n = rows.len();
    let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 19).into_font())
        .margin(8)
        .margin_right(36)
        .x_label_area_size(28)
        .y_label_area_size(label_width)
        // An integer range is inclusive here: 0..n-1 makes n slots.
        .build_cartesian_2d((lo..hi).log_scale(), (0..n - 1).into_segmented())
        .map_err(err)?;
    let show_labels = label_width > 40;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) if show_labels && *i < n => labels[n - 1 - *i].clone(),
            _ => String::new(),
        })
        .x_label_formatter(&|x: &f64| axis_label(*x))
        .label_style(("sans-serif", 15).into_font())
        .draw()
        .map_err(err)?;
    for (i, row) in rows.iter().enumerate() {
        let Some(v) = value(row).filter(|v| v.is_finite() && *v > 0.0) else {
            continue;
        };
        let slot = n - 1 - i;
        // A value beyond the axis (more decades than it shows) is drawn at its edge;
        // its label keeps the real number.
        let end = v.clamp(lo, hi);
        let mut bar = Rectangle::new(
            [
                (lo, SegmentValue::Exact(slot)),
                (end, SegmentValue::Exact(slot + 1)),
            ],
            row.color().filled(),
        );
        bar.set_margin(4, 4, 0, 0);
        chart.draw_series(std::iter::once(bar)).map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!(" {}", rate(v)),
                (end, SegmentValue::CenterOf(slot)),
                TextStyle::from(("sans-serif", 15).into_font()).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Left,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                ),
            )))
            .map_err(err)?;
    }
    Ok(())
}

/// "0.1", "1", "10", "100000": the log axis' ticks ("1e12" past a million).
fn axis_label(x: f64) -> String {
    if !x.is_finite() {
        String::new()
    } else if !(1e-4..1e7).contains(&x) {
        format!("{x:e}")
    } else if x >= 1.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// The most decades one axis shows; smaller values are drawn at its left edge.
const MAX_DECADES: i32 = 12;
/// Exponents that keep every power of ten (and a tick past it) finite and normal.
const MIN_EXPONENT: i32 = -300;
const MAX_EXPONENT: i32 = 300;

/// Powers of ten around the values, with room after the largest for its
/// label: finite, `lo < hi`, at most [`MAX_DECADES`] apart, whatever the
/// values (plotters' log axis loops for ever on an infinite bound).
pub fn log_bounds(values: &[f64]) -> (f64, f64) {
    let positive: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| *v > 0.0 && v.is_finite())
        .collect();
    if positive.is_empty() {
        return (1.0, 10.0);
    }
    let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let max = positive.iter().copied().fold(0.0, f64::max);
    // log10(max × 4) without forming max × 4, which may overflow.
    let hi_exp = ((max.log10() + 4f64.log10()).ceil() as i32).clamp(MIN_EXPONENT + 1, MAX_EXPONENT);
    let lo_exp = (min.log10().floor() as i32)
        .clamp(MIN_EXPONENT, hi_exp - 1)
        .max(hi_exp - MAX_DECADES);
    (10f64.powf(lo_exp.into()), 10f64.powf(hi_exp.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::results::RowBackend;
    use crate::bench::table::book_rows;

    /// Tags open and close in order; text holds no bare `<` or `&`.
    pub fn assert_well_formed(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let text = &rest[..start];
            assert!(!text.contains('>'), "stray '>' in text: {text}");
            for (i, _) in text.match_indices('&') {
                let entity = &text[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#"]
                        .iter()
                        .any(|e| entity.starts_with(e)),
                    "bare '&' in text: {text}"
                );
            }
            let end = rest[start..].find('>').expect("unclosed tag") + start;
            let tag = &rest[start + 1..end];
            if tag.starts_with('?') || tag.starts_with('!') {
            } else if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(
                    stack.pop().as_deref(),
                    Some(name.trim()),
                    "mismatched </{name}>"
                );
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap_or("").to_owned();
                stack.push(name);
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
    }

    #[test]
    fn the_books_rows_draw_as_a_well_formed_svg() {
        let rows: Vec<ChartRow> = book_rows().iter().map(ChartRow::from_compare).collect();
        let svg = render_svg("ttm bench & the book", &rows).unwrap();
        assert!(
            svg.trim_start().starts_with("<svg") || svg.starts_with("<?xml"),
            "{}",
            &svg[..80]
        );
        assert_well_formed(&svg);
        assert!(
            svg.contains("the book: Ubuntu (CUDA GPU)"),
            "labels are drawn"
        );
        assert!(
            svg.matches("fill=\"#A5A5A5\"").count() >= 8,
            "eight grey bars"
        );
    }

    #[test]
    fn nothing_to_draw_is_an_error() {
        let row = ChartRow {
            label: "x".into(),
            framework: Framework::Burn,
            book: false,
            matmul_gflops: None,
            train_steps_per_s: None,
        };
        assert!(render_svg("t", &[row]).is_err());
    }

    #[test]
    fn a_long_platform_is_shortened_but_the_engine_stays() {
        let row = CompareRow {
            platform: "Debian GNU/Linux 12 (bookworm), Intel(R) Xeon(R) Processor @ 2.20GHz".into(),
            device: RowDevice::Cpu,
            engine: "Burn candle".into(),
            framework: Framework::Burn,
            backend: RowBackend::Candle,
            matmul_s: Some(1.0),
            matmul_size: Some(96),
            matmul_gflops: Some(1.0),
            train_step_s: Some(1.0),
            relative_speed: None,
            book: false,
        };
        let label = ChartRow::from_compare(&row).label;
        assert!(label.ends_with(" · CPU · Burn candle · 96²"), "{label}");
        assert!(label.starts_with("Debian GNU/Linux 12"), "{label}");
        assert!(
            label.contains('…') && label.chars().count() <= 72,
            "{label}"
        );

        // The legend names only what has bars, and says the book's are converted.
        let mut rows = vec![ChartRow::from_compare(&row)];
        rows.extend(
            crate::bench::table::book_rows()
                .iter()
                .map(ChartRow::from_compare),
        );
        let svg = render_svg("t", &rows).unwrap();
        assert!(svg.contains("Burn (medians)"), "{svg}");
        assert!(
            !svg.contains("PyTorch (medians)"),
            "no PyTorch bars, no PyTorch legend"
        );
        assert!(svg.contains("converted to GFLOP/s and steps/s"));
        assert!(
            svg.contains("5000²"),
            "the book's matmul size on its labels"
        );
    }

    #[test]
    fn bounds_are_powers_of_ten() {
        assert_eq!(log_bounds(&[181.0, 45000.0]), (100.0, 1e6));
        assert_eq!(log_bounds(&[]), (1.0, 10.0));
        assert_eq!(log_bounds(&[5.0]), (1.0, 100.0));
    }

    fn rows_of(values: &[(f64, f64)]) -> Vec<ChartRow> {
        values
            .iter()
            .enumerate()
            .map(|(i, &(gflops, train_s))| {
                ChartRow::from_compare(&CompareRow {
                    platform: format!("machine {i}"),
                    device: RowDevice::Cpu,
                    engine: "Burn candle".into(),
                    framework: Framework::Burn,
                    backend: RowBackend::Candle,
                    matmul_s: Some(1.0),
                    matmul_size: Some(5000),
                    matmul_gflops: Some(gflops),
                    train_step_s: Some(train_s),
                    relative_speed: None,
                    book: false,
                })
            })
            .collect()
    }

    #[test]
    fn a_huge_value_draws_in_bounded_time_and_keeps_its_number() {
        // 3e307 made the log axis' upper bound infinite: plotters looped for ever.
        let rows = rows_of(&[(3e307, 1e-310), (181.0, 0.2)]);
        let svg = render_svg("huge", &rows).unwrap();
        assert_well_formed(&svg);
        assert!(
            svg.contains("3.00e307"),
            "the bar's label is the real value"
        );
        let (lo, hi) = log_bounds(&[3e307, 181.0, f64::MAX, 5e-324]);
        assert!(lo.is_finite() && hi.is_finite() && lo < hi, "{lo} {hi}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn log_bounds_are_finite_and_ordered(values in proptest::collection::vec(proptest::num::f64::ANY, 0..8)) {
            let (lo, hi) = log_bounds(&values);
            proptest::prop_assert!(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo < hi, "{lo} {hi}");
            proptest::prop_assert!(hi / lo <= 1.0001e12, "at most 12 decades: {lo} {hi}");
        }

        #[test]
        fn any_values_draw_a_well_formed_chart(values in proptest::collection::vec((proptest::num::f64::ANY, proptest::num::f64::ANY), 1..4)) {
            let rows = rows_of(&values);
            if let Ok(svg) = render_svg("any", &rows) {
                assert_well_formed(&svg);
            }
        }
    }
}
