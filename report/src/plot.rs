//! Line plots in one style for both reports: SVG, log y, one tick per measured x.

use std::path::Path;

use itertools::Itertools;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A named line: its points `(x, y)`, x and y positive (both axes are logarithmic).
pub type Series = (String, Vec<(f64, f64)>);

/// One chart: its caption, the titles of its x and y axes, and its lines (each coloured by
/// its name).
pub type Panel = (String, String, String, Vec<Series>);

/// Line colour of a medium (the first word of a series' name), the same in every plot (MPSC
/// and stock timely share blue).
fn colour(name: &str) -> RGBColor {
    match name.split(' ').next().unwrap_or_default() {
        "chain" => RGBColor(214, 39, 40),
        "mesh" => RGBColor(148, 103, 189),
        "ledger" => RGBColor(44, 160, 44),
        "cells" => RGBColor(255, 127, 14),
        _ => RGBColor(31, 119, 180),
    }
}

/// Draws `panels` into an SVG file, two a row when there are several, each row `size.1`
/// pixels high and `size.0` wide, under an optional `title`. Text is written as SVG `<text>`,
/// so no fonts are needed. Panels with no points are left blank; it is an error when none has
/// any.
pub fn svg_panels(
    path: &Path,
    size: (u32, u32),
    title: Option<&str>,
    panels: &[Panel],
) -> Result<(), String> {
    let blank = |p: &Panel| p.3.iter().all(|s| s.1.is_empty());
    if panels.iter().all(blank) {
        return Err(format!("{}: nothing to plot", path.display()));
    }
    let e = |e: &dyn std::fmt::Debug| format!("{}: {e:?}", path.display());
    let (cols, rows) = (panels.len().min(2), panels.len().div_ceil(2));
    let root = SVGBackend::new(path, (size.0, size.1 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let (top, body) = root.split_vertically(title.map_or(0, |_| 40));
    if let Some(t) = title {
        top.titled(t, ("sans-serif", 18)).map_err(|x| e(&x))?;
    }
    for (area, panel) in body.split_evenly((rows, cols)).iter().zip(panels) {
        draw(area, panel).map_err(|x| e(&x))?;
    }
    root.present().map_err(|x| e(&x))
}

/// The error of a drawing on the SVG backend.
type DrawError = DrawingAreaErrorKind<std::io::Error>;

/// One panel: x drawn on a linear axis of log2(x) so that every measured x gets a label; a
/// series whose name has more words than its medium is drawn lighter for each series of the
/// same medium before it.
fn draw(area: &DrawingArea<SVGBackend<'_>, Shift>, panel: &Panel) -> Result<(), DrawError> {
    let (title, x_label, y_label, series) = panel;
    let points = || series.iter().flat_map(|s| s.1.iter().copied());
    let range = |v: fn((f64, f64)) -> f64| points().map(v).minmax_by(f64::total_cmp);
    let (x, y) = (range(|p| p.0).into_option(), range(|p| p.1).into_option());
    let (Some((x0, x1)), Some((y0, y1))) = (x, y) else {
        return Ok(());
    };
    let (y0, y1) = ((y0 / 2.0).max(1e-3), y1 * 2.0);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0.log2() - 0.3..x1.log2() + 0.3, (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels(0)
        .y_label_formatter(&|v| match *v {
            v if v >= 1e5 => format!("{v:.0e}"),
            v if v >= 10.0 => format!("{v:.0}"),
            v => format!("{v:.2}"),
        })
        .draw()?;
    for x in points().map(|p| p.0).sorted_by(f64::total_cmp).dedup() {
        let font = ("sans-serif", 12).into_font().color(&BLACK);
        chart.draw_series([Text::new(format!("{x}"), (x.log2(), y0), font)])?;
        let grid = vec![(x.log2(), y0), (x.log2(), y1)];
        chart.draw_series([PathElement::new(grid, BLACK.mix(0.15))])?;
    }
    for (i, (name, points)) in series.iter().enumerate() {
        let medium = |s: &Series| s.0.split(' ').next() == name.split(' ').next();
        let shade = series[..i].iter().filter(|s| medium(s)).count() as f64;
        let RGBColor(r, g, b) = colour(name);
        let light = |x: u8| (x as f64 + (255.0 - x as f64) * (1.0 - 0.6f64.powf(shade))) as u8;
        let c = RGBColor(light(r), light(g), light(b));
        let points = points.iter().map(|&(x, y)| (x.log2(), y)).collect_vec();
        chart
            .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
