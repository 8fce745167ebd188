//! `throughput.svg`: calls per second against submitting threads, one line
//! per implementation, drawn with plotters' SVG backend (no font files:
//! the viewer renders the text).

use std::path::Path;

use plotters::prelude::*;

use crate::affinity::Mode;
use crate::config::{Backend, THROUGHPUT_THREADS};
use crate::results::{FLOOR, PYTHON, Record};

/// One colour per backend; crochet solid, its raw baseline dashed.
fn colour(backend: Backend) -> RGBColor {
    match backend {
        Backend::Tokio => RGBColor(31, 119, 180),
        Backend::Smol => RGBColor(44, 160, 44),
        Backend::AsyncStd => RGBColor(214, 39, 40),
    }
}

const FLOOR_COLOUR: RGBColor = RGBColor(60, 60, 60);
const PYTHON_COLOUR: RGBColor = RGBColor(148, 103, 189);

fn line_style(line: &Line) -> ShapeStyle {
    line.colour.stroke_width(if line.dashed { 2 } else { 3 })
}

struct Line {
    id: String,
    colour: RGBColor,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

/// Draws the unpinned throughput of every implementation measured.
pub(crate) fn draw(record: &Record, backends: &[Backend], path: &Path) -> Result<(), String> {
    let points = |id: &str| -> Vec<(f64, f64)> {
        THROUGHPUT_THREADS
            .iter()
            .filter_map(|&threads| {
                record
                    .throughput(Mode::Unpinned, id, threads)
                    .map(|rate| (threads as f64, rate))
            })
            .collect()
    };
    let mut lines = Vec::new();
    for &backend in backends {
        for (id, dashed) in [(backend.crochet_id(), false), (backend.raw_id(), true)] {
            lines.push(Line {
                points: points(&id),
                id,
                colour: colour(backend),
                dashed,
            });
        }
    }
    for (id, colour) in [(FLOOR, FLOOR_COLOUR), (PYTHON, PYTHON_COLOUR)] {
        lines.push(Line {
            id: id.to_owned(),
            colour,
            dashed: id == PYTHON,
            points: points(id),
        });
    }
    lines.retain(|line| !line.points.is_empty());
    let top = lines
        .iter()
        .flat_map(|line| line.points.iter().map(|&(_, rate)| rate))
        .fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.15 } else { 1.0 };

    let error = |error: DrawingAreaErrorKind<_>| format!("drawing {}: {error}", path.display());
    let root = SVGBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(error)?;
    let (plot, legend) = root.split_horizontally(790);
    // x is log2 of the thread count, so 1, 4, 32 and 256 are evenly readable.
    let max_exponent = THROUGHPUT_THREADS
        .iter()
        .map(|&n| n.ilog2())
        .max()
        .unwrap_or(0) as f64;
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            "crochet-bench: throughput (unpinned) against submitting threads",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.3_f64..max_exponent + 0.3, 0.0_f64..top)
        .map_err(error)?;
    chart
        .configure_mesh()
        .x_desc("submitting threads")
        .y_desc("calls/s, all threads together")
        .x_labels(max_exponent as usize + 1)
        .x_label_formatter(&|exponent| format!("{:.0}", exponent.exp2()))
        .y_label_formatter(&|rate| format!("{:.0}k", rate / 1e3))
        .draw()
        .map_err(error)?;
    for line in &lines {
        let points: Vec<(f64, f64)> = line
            .points
            .iter()
            .map(|&(threads, rate)| (threads.log2(), rate))
            .collect();
        let style = line_style(line);
        if line.dashed {
            chart
                .draw_series(DashedLineSeries::new(points.clone(), 8, 5, style))
                .map_err(error)?;
        } else {
            chart
                .draw_series(LineSeries::new(points.clone(), style))
                .map_err(error)?;
        }
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&point| Circle::new(point, 4, line.colour.filled())),
            )
            .map_err(error)?;
    }
    // The legend beside the plot, where it hides no line.
    let text = ("sans-serif", 15).into_font().color(&BLACK);
    for (index, line) in lines.iter().enumerate() {
        let y = 70 + 26 * index as i32;
        let style = line_style(line);
        let sample = [(8, y), (44, y)];
        if line.dashed {
            legend
                .draw(&PathElement::new(vec![sample[0], (22, y)], style))
                .map_err(error)?;
            legend
                .draw(&PathElement::new(vec![(30, y), sample[1]], style))
                .map_err(error)?;
        } else {
            legend
                .draw(&PathElement::new(sample.to_vec(), style))
                .map_err(error)?;
        }
        legend
            .draw(&Text::new(line.id.clone(), (54, y - 8), text.clone()))
            .map_err(error)?;
    }
    root.present().map_err(error)?;
    Ok(())
}
