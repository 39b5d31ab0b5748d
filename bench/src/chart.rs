//! The PNG chart: for every program, one bar per engine giving its time
//! relative to Chez on a log scale (bars grow from Chez's 1.0 up when
//! slower, down when faster), and a last group with the geometric means.

use crate::engines::{Engine, Installer};
use crate::Results;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use std::sync::OnceLock;

const FONT_FILE: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const FONT_PACKAGE: &str = "fonts-dejavu-core";
/// Room on the right for the legend, in pixels.
const LEGEND_WIDTH: i32 = 150;

/// The chart's font (DejaVu Sans from Debian), registered with plotters
/// once per process. Installs the font package when missing and allowed.
pub fn font(installer: &mut Installer, install: bool) -> Result<&'static [u8], String> {
    static FONT: OnceLock<&'static [u8]> = OnceLock::new();
    if let Some(f) = FONT.get() {
        return Ok(f);
    }
    if !Path::new(FONT_FILE).exists() {
        if !install {
            return Err(format!(
                "{FONT_FILE} is missing (package {FONT_PACKAGE}; installing disabled)"
            ));
        }
        installer.install_package(FONT_PACKAGE)?;
    }
    let bytes = std::fs::read(FONT_FILE).map_err(|e| format!("cannot read {FONT_FILE}: {e}"))?;
    // Registered fonts must live for the whole process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| format!("{FONT_FILE} is not a usable font"))?;
    Ok(FONT.get_or_init(|| bytes))
}

fn color(e: Engine) -> RGBColor {
    match e {
        Engine::ValkInterp => RGBColor(0xf2, 0x8e, 0x2b),
        Engine::ValkJit => RGBColor(0xe1, 0x57, 0x59),
        Engine::ValkAot => RGBColor(0xb0, 0x1e, 0x3b),
        Engine::Chez => RGBColor(0x30, 0x30, 0x30),
        Engine::Racket => RGBColor(0x4e, 0x79, 0xa7),
        Engine::Guile => RGBColor(0x59, 0xa1, 0x4f),
        Engine::Chicken => RGBColor(0xed, 0xc9, 0x48),
        Engine::Gambit => RGBColor(0x76, 0xb7, 0xb2),
        Engine::C => RGBColor(0x9c, 0x75, 0x5f),
    }
}

/// Draws the chart into `path`. `_font` proves the font was registered.
pub fn draw(r: &Results, path: &Path, _font: &'static [u8]) -> Result<(), String> {
    let engines: Vec<Engine> = r
        .engine_list()
        .into_iter()
        .filter(|&e| e != Engine::Chez && r.geomean_ratio(e).is_some())
        .collect();
    // Groups: programs with at least one ratio, then the geometric means.
    let mut groups: Vec<(String, Vec<Option<f64>>)> = r
        .programs
        .iter()
        .map(|p| {
            let bars = engines
                .iter()
                .map(|&e| r.ratio(&p.name, e))
                .collect::<Vec<_>>();
            (p.name.clone(), bars)
        })
        .filter(|(_, bars)| bars.iter().any(Option::is_some))
        .collect();
    if engines.is_empty() || groups.is_empty() {
        return Err("no engine has times relative to Chez".to_string());
    }
    groups.push((
        "geo. mean".to_string(),
        engines
            .iter()
            .map(|&e| r.geomean_ratio(e).map(|(g, _)| g))
            .collect(),
    ));
    let values: Vec<f64> = groups
        .iter()
        .flat_map(|(_, b)| b.iter().flatten().copied())
        .collect();
    let lo = values.iter().copied().fold(1.0f64, f64::min) / 1.6;
    let hi = values.iter().copied().fold(1.0f64, f64::max) * 1.6;

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let width = (groups.len() as u32 * 92 + 100 + LEGEND_WIDTH as u32).max(900);
    let root = BitMapBackend::new(path, (width, 620)).into_drawing_area();
    let err = |e: &dyn std::fmt::Display| format!("drawing {}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let title = format!(
        "Time relative to Chez Scheme (log scale, lower is faster){}",
        if r.quick {
            " - QUICK MODE, NOT A MEASUREMENT"
        } else {
            ""
        }
    );
    let n = groups.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .margin_right(LEGEND_WIDTH)
        .x_label_area_size(34)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..n, (lo..hi).log_scale())
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_desc("time ÷ Chez's time")
        .y_label_formatter(&|v| format_tick(*v))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(&e))?;

    let slot = 0.84 / engines.len() as f64;
    for (j, &e) in engines.iter().enumerate() {
        let c = color(e);
        let bars: Vec<Rectangle<(f64, f64)>> = groups
            .iter()
            .enumerate()
            .filter_map(|(i, (_, b))| b[j].map(|v| (i, v)))
            .map(|(i, v)| {
                let x0 = i as f64 + 0.08 + j as f64 * slot;
                Rectangle::new([(x0, 1.0), (x0 + slot * 0.92, v)], c.filled())
            })
            .collect();
        chart.draw_series(bars).map_err(|e| err(&e))?;
    }
    chart
        .draw_series(LineSeries::new(
            [(0.0, 1.0), (n, 1.0)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| err(&e))?;

    // The legend, in the right margin where it hides no bar.
    let legend_x = width as i32 - LEGEND_WIDTH + 14;
    let text =
        TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = 70;
    for &e in &engines {
        root.draw(&Rectangle::new(
            [(legend_x, y - 7), (legend_x + 14, y + 7)],
            color(e).filled(),
        ))
        .map_err(|e| err(&e))?;
        root.draw(&Text::new(e.label(), (legend_x + 22, y), text.clone()))
            .map_err(|e| err(&e))?;
        y += 26;
    }
    root.draw(&PathElement::new(
        [(legend_x, y), (legend_x + 14, y)],
        BLACK.stroke_width(2),
    ))
    .map_err(|e| err(&e))?;
    root.draw(&Text::new("Chez = 1", (legend_x + 22, y), text))
        .map_err(|e| err(&e))?;

    // Program names under each group, placed in pixels.
    let style =
        TextStyle::from(("sans-serif", 14).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, (name, _)) in groups.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, lo));
        root.draw(&Text::new(name.clone(), (px, py + 8), style.clone()))
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// Tick labels: 0.05, 0.5, 1, 20, 300 ...
fn format_tick(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks() {
        assert_eq!(format_tick(20.0), "20");
        assert_eq!(format_tick(0.5), "0.5");
        assert_eq!(format_tick(0.05), "0.05");
    }
}
