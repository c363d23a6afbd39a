//! Server-side SVG charts: a line chart and a grouped bar chart, with the y axis in percent or
//! in yuan (money arrives as integer fen and its labels are formatted from integers, never
//! through a float). Every text is XML-escaped; the same input gives the same bytes; the SVG
//! scales to its container (`viewBox`, `width="100%"`) and stays readable at 360 px.
//!
//! Text is Chinese first with English beside it ([`Text::new`]); a chart shows both unless
//! the English is empty.
//!
//! ```
//! use anxin_chart::{LineChart, Series, Text, Unit};
//! let chart = LineChart {
//!     title: Text::new("留存率", "retention"),
//!     x_label: Text::new("入学后月数", "months after admission"),
//!     y_label: Text::new("仍在缴费", "still paying"),
//!     x_labels: vec!["3".into(), "6".into(), "12".into(), "24".into()],
//!     series: vec![Series::new("杭州 2025", vec![Some(80.0), Some(62.5), None, None])],
//!     unit: Unit::Percent,
//! };
//! let svg = chart.to_svg();
//! assert!(svg.starts_with("<svg") && svg.contains("杭州 2025"));
//! ```

use std::fmt::Write as _;

/// A text in Chinese with its English beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            zh: zh.into(),
            en: en.into(),
        }
    }

    fn joined(&self) -> String {
        match (self.zh.is_empty(), self.en.is_empty()) {
            (_, true) => self.zh.clone(),
            (true, false) => self.en.clone(),
            (false, false) => format!("{} {}", self.zh, self.en),
        }
    }
}

/// What the y values are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unit {
    /// Percent (0–100, may go beyond).
    #[default]
    Percent,
    /// Money: the values are fen (build the series with [`Series::from_fen`]); labels in yuan.
    Yuan,
}

/// One named line (or one bar per category): a value per x label, `None` where there is none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

impl Series {
    pub fn new(name: impl Into<String>, values: Vec<Option<f64>>) -> Series {
        Series {
            name: name.into(),
            values,
        }
    }

    /// Money amounts in fen (for [`Unit::Yuan`]). Amounts beyond ±2^53 fen (about 90 000
    /// billion yuan) lose precision in the plot only.
    pub fn from_fen(name: impl Into<String>, fen: &[Option<i64>]) -> Series {
        Series {
            name: name.into(),
            values: fen.iter().map(|v| v.map(|f| f as f64)).collect(),
        }
    }
}

/// A line chart: one line per series over the x labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineChart {
    pub title: Text,
    pub x_label: Text,
    pub y_label: Text,
    pub x_labels: Vec<String>,
    pub series: Vec<Series>,
    pub unit: Unit,
}

/// A grouped bar chart: one group per category, one bar per series in each group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BarChart {
    pub title: Text,
    pub x_label: Text,
    pub y_label: Text,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub unit: Unit,
}

/// Most series and points drawn; beyond that the chart says how many were left out.
const MAX_SERIES: usize = 64;
const MAX_POINTS: usize = 2_000;

// The drawing area in viewBox units. 340 wide, about what a 360 px phone gives a figure
// (one unit about one pixel there): no text is under 12 units, so none under 12 px on a
// phone; on a wider screen everything scales up.
const W: f64 = 340.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 8.0;
/// The smallest text drawn, in viewBox units.
const SMALL: u32 = 12;
/// Room left between two x labels (SVG units).
const LABEL_GAP: f64 = 8.0;

/// The width a label takes at 12 px, estimated: about 7 units a Latin letter or digit, 12 a
/// Chinese character (a full em).
fn label_width(label: &str) -> f64 {
    label
        .chars()
        .map(|c| if c.is_ascii() { 7.0 } else { 12.0 })
        .sum()
}
/// A digit's advance at [`SMALL`], about 0.6 em, to tell whether a value fits beside a bar.
const DIGIT: f64 = 7.2;
const TOP: f64 = 80.0;
const PLOT_H: f64 = 220.0;
const LEGEND_ROW: f64 = 18.0;

/// Colour-blind-safe palette (Okabe–Ito); after it, the dash pattern changes.
const COLOURS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];
const DASHES: [&str; 4] = ["", "6 3", "2 3", "8 3 2 3"];

/// Escapes text for XML content and attribute values, dropping characters XML forbids.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Yuan text of an amount in fen: "1,234.5" style without floats ("-12.05", "3,000").
pub fn yuan_text(fen: i64) -> String {
    let neg = fen < 0;
    let abs = fen.unsigned_abs();
    let (yuan, cents) = (abs / 100, abs % 100);
    let digits = yuan.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str(&grouped);
    if cents != 0 {
        if cents % 10 == 0 {
            let _ = write!(s, ".{}", cents / 10);
        } else {
            let _ = write!(s, ".{cents:02}");
        }
    }
    s
}

/// A value that can be drawn: finite, and within ±10^15 (beyond that the chart is useless
/// anyway, and the scale arithmetic stays finite).
fn finite(v: &Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite()).map(|x| x.clamp(-1e15, 1e15))
}

/// A y scale: from `lo` to `hi` in `n` steps, with the labels of its ticks.
struct Scale {
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
}

impl Scale {
    fn y(&self, v: f64) -> f64 {
        let span = self.hi - self.lo;
        let t = if span > 0.0 {
            (v - self.lo) / span
        } else {
            0.0
        };
        TOP + PLOT_H - t.clamp(-0.05, 1.05) * PLOT_H
    }
}

fn scale(series: &[Series], unit: Unit) -> Scale {
    let values = series
        .iter()
        .flat_map(|s| s.values.iter().filter_map(finite));
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    match unit {
        Unit::Percent => {
            if lo >= 0.0 && hi <= 100.0 {
                let ticks = (0..=5)
                    .map(|i| (i as f64 * 20.0, format!("{}%", i * 20)))
                    .collect();
                return Scale {
                    lo: 0.0,
                    hi: 100.0,
                    ticks,
                };
            }
            let step = nice_step(hi - lo);
            let (a, b) = ((lo / step).floor() as i64, (hi / step).ceil() as i64);
            let decimals = if step >= 1.0 { 0 } else { 1 };
            let ticks = (a..=b)
                .map(|k| {
                    let v = k as f64 * step;
                    (v, format!("{v:.decimals$}%"))
                })
                .collect();
            Scale {
                lo: a as f64 * step,
                hi: b as f64 * step,
                ticks,
            }
        }
        Unit::Yuan => {
            // Steps in whole fen: 1, 2 or 5 × 10^k, about five ticks.
            let clamp = |x: f64| x.clamp(-9.0e15, 9.0e15).round() as i64;
            let (lo_f, hi_f) = (clamp(lo), clamp(hi));
            let range = (hi_f - lo_f).max(100) as u64;
            let mut step: i64 = 1;
            'search: for exp in 0..17u32 {
                for m in [1i64, 2, 5] {
                    let s = m * 10i64.pow(exp);
                    if range / s as u64 <= 6 {
                        step = s;
                        break 'search;
                    }
                }
            }
            let a = lo_f.div_euclid(step);
            let b = -((-hi_f).div_euclid(step));
            let ticks = (a..=b)
                .map(|k| (k as f64 * step as f64, yuan_text(k.saturating_mul(step))))
                .collect();
            Scale {
                lo: a as f64 * step as f64,
                hi: b as f64 * step as f64,
                ticks,
            }
        }
    }
}

/// 1, 2 or 5 × 10^k, about a fifth of `range`.
fn nice_step(range: f64) -> f64 {
    let raw = (range / 5.0).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

fn value_text(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Percent => {
            let tenths = (v * 10.0).round() as i64;
            if tenths % 10 == 0 {
                format!("{}%", tenths / 10)
            } else {
                format!("{}.{}%", tenths / 10, (tenths % 10).abs())
            }
        }
        Unit::Yuan => format!("{} 元", yuan_text(v.round() as i64)),
    }
}

/// A value as written on its bar: the unit is on the axis, so yuan go without "元".
fn short_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Percent => value_text(v, unit),
        Unit::Yuan => yuan_text(v.round() as i64),
    }
}

/// Two decimals at most, no trailing zeros: stable, short coordinates.
fn n(x: f64) -> String {
    let v = (x * 100.0).round() / 100.0;
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

struct Frame<'a> {
    title: &'a Text,
    x_label: &'a Text,
    y_label: &'a Text,
    labels: &'a [String],
    series: &'a [Series],
    unit: Unit,
    kind: &'a str,
}

impl Frame<'_> {
    fn height(&self) -> f64 {
        TOP + PLOT_H + 48.0 + LEGEND_ROW * self.series.len().min(MAX_SERIES) as f64 + 12.0
    }

    /// The opening, title, axes, ticks and x labels; returns the scale.
    fn open(&self, out: &mut String) -> Scale {
        let h = self.height();
        let title = self.title.joined();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"100%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-label=\"{}\" class=\"anxin-chart {}\" font-family=\"system-ui, 'PingFang SC', 'Noto Sans CJK SC', sans-serif\" font-size=\"14\">",
            n(W),
            n(h),
            escape(&title),
            self.kind
        );
        let _ = write!(out, "<title>{}</title>", escape(&title));
        let _ = write!(
            out,
            "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>",
            n(W),
            n(h)
        );
        // Title in Chinese, its English on the line below (a long title would not fit
        // beside it at phone width), then the y axis label.
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"20\" font-size=\"16\" font-weight=\"bold\">{}</text>",
            n(4.0),
            escape(if self.title.zh.is_empty() {
                &self.title.en
            } else {
                &self.title.zh
            })
        );
        if !self.title.en.is_empty() && !self.title.zh.is_empty() {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"37\" font-size=\"{SMALL}\" fill=\"#555555\">{}</text>",
                n(4.0),
                escape(&self.title.en)
            );
        }
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"56\" font-size=\"{SMALL}\" fill=\"#555555\">{}</text>",
            n(4.0),
            escape(&self.y_label.joined())
        );
        let scale = scale(self.series, self.unit);
        out.push_str("<g class=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">");
        for (v, _) in &scale.ticks {
            let y = scale.y(*v);
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
                n(LEFT),
                n(y),
                n(W - RIGHT),
                n(y)
            );
        }
        out.push_str(
            "</g><g class=\"y-ticks\" font-size=\"12\" text-anchor=\"end\" fill=\"#333333\">",
        );
        for (v, label) in &scale.ticks {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                n(LEFT - 4.0),
                n(scale.y(*v) + 4.0),
                escape(label)
            );
        }
        out.push_str("</g>");
        let _ = write!(
            out,
            "<line class=\"axis\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333333\"/>",
            n(LEFT),
            n(scale.y(0.0f64.clamp(scale.lo, scale.hi))),
            n(W - RIGHT),
            n(scale.y(0.0f64.clamp(scale.lo, scale.hi)))
        );
        // X labels: as many as fit side by side (at most eight), so they do not collide at
        // phone width: a label's width estimated from its characters at 12 px (about 7 units
        // for a Latin letter or digit, 12 for a Chinese character) and a gap. The last is
        // always shown; a regular one closer to it than the spacing gives way.
        let count = self.labels.len().min(MAX_POINTS);
        let widest = self
            .labels
            .iter()
            .take(count)
            .map(|l| label_width(l))
            .fold(0.0, f64::max);
        let fit = ((W - LEFT - RIGHT) / (widest + LABEL_GAP)).floor().max(1.0) as usize;
        let every = count.div_ceil(fit.min(8)).max(1);
        out.push_str(
            "<g class=\"x-ticks\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333333\">",
        );
        for (i, label) in self.labels.iter().take(count).enumerate() {
            let last = i + 1 == count;
            if !last && (i % every != 0 || count - 1 - i < every) {
                continue;
            }
            // A label that would run past the right edge ends at it instead.
            let x = self.x(i, count);
            let (x, anchor) = if x + label_width(label) / 2.0 > W - 1.0 {
                (W - 1.0, " text-anchor=\"end\"")
            } else {
                (x, "")
            };
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\"{anchor}>{}</text>",
                n(x),
                n(TOP + PLOT_H + 16.0),
                escape(label)
            );
        }
        out.push_str("</g>");
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"{SMALL}\" text-anchor=\"middle\" fill=\"#555555\">{}</text>",
            n((LEFT + W - RIGHT) / 2.0),
            n(TOP + PLOT_H + 34.0),
            escape(&self.x_label.joined())
        );
        scale
    }

    /// The centre of slot `i` of `count` along the x axis.
    fn x(&self, i: usize, count: usize) -> f64 {
        let width = W - LEFT - RIGHT;
        if self.kind == "line" {
            if count <= 1 {
                LEFT + width / 2.0
            } else {
                LEFT + 12.0 + (width - 24.0) * i as f64 / (count - 1) as f64
            }
        } else {
            LEFT + width * (i as f64 + 0.5) / count.max(1) as f64
        }
    }

    fn legend_and_close(&self, out: &mut String) {
        let top = TOP + PLOT_H + 50.0;
        out.push_str("<g class=\"legend\" font-size=\"13\">");
        for (i, s) in self.series.iter().take(MAX_SERIES).enumerate() {
            let y = top + LEGEND_ROW * i as f64;
            let (colour, dash) = style(i);
            if self.kind == "line" {
                let _ = write!(
                    out,
                    "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{colour}\" stroke-width=\"2.5\"{}/>",
                    n(4.0),
                    n(y - 4.0),
                    n(28.0),
                    n(y - 4.0),
                    dash_attr(dash)
                );
            } else {
                let _ = write!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"10\" fill=\"{colour}\"/>",
                    n(9.0),
                    n(y - 9.0)
                );
            }
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                n(34.0),
                n(y),
                escape(&s.name)
            );
        }
        out.push_str("</g>");
        if self.series.len() > MAX_SERIES {
            let left = self.series.len() - MAX_SERIES;
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"{SMALL}\" fill=\"#555555\">另有 {left} 组未画出 {left} more not drawn</text>",
                n(LEFT),
                n(self.height() - 4.0)
            );
        }
        out.push_str("</svg>\n");
    }
}

fn style(i: usize) -> (&'static str, &'static str) {
    (
        COLOURS[i % COLOURS.len()],
        DASHES[(i / COLOURS.len()) % DASHES.len()],
    )
}

fn dash_attr(dash: &str) -> String {
    if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    }
}

impl LineChart {
    /// The chart as a standalone SVG document (also fit to inline in HTML).
    pub fn to_svg(&self) -> String {
        let frame = Frame {
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            labels: &self.x_labels,
            series: &self.series,
            unit: self.unit,
            kind: "line",
        };
        let mut out = String::new();
        let scale = frame.open(&mut out);
        let count = self.x_labels.len().min(MAX_POINTS);
        for (i, s) in self.series.iter().take(MAX_SERIES).enumerate() {
            let (colour, dash) = style(i);
            let points: Vec<Option<(f64, f64, f64)>> = (0..count)
                .map(|k| {
                    s.values
                        .get(k)
                        .and_then(finite)
                        .map(|v| (frame.x(k, count), scale.y(v), v))
                })
                .collect();
            let mut d = String::new();
            let mut pen_down = false;
            for p in &points {
                match p {
                    Some((x, y, _)) => {
                        let _ = write!(
                            d,
                            "{}{},{} ",
                            if pen_down { "L" } else { "M" },
                            n(*x),
                            n(*y)
                        );
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            let _ = write!(out, "<g class=\"series\" data-series=\"{i}\">");
            if !d.is_empty() {
                let _ = write!(
                    out,
                    "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\" stroke-linejoin=\"round\"{}/>",
                    d.trim_end(),
                    dash_attr(dash)
                );
            }
            for (k, p) in points.iter().enumerate() {
                if let Some((x, y, v)) = p {
                    let label = self.x_labels.get(k).map_or("", String::as_str);
                    let _ = write!(
                        out,
                        "<circle class=\"point\" cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{colour}\"><title>{}：{} {}</title></circle>",
                        n(*x),
                        n(*y),
                        escape(&s.name),
                        escape(label),
                        escape(&value_text(*v, self.unit))
                    );
                }
            }
            out.push_str("</g>");
        }
        frame.legend_and_close(&mut out);
        out
    }
}

impl BarChart {
    /// The chart as a standalone SVG document (also fit to inline in HTML).
    pub fn to_svg(&self) -> String {
        let frame = Frame {
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            labels: &self.categories,
            series: &self.series,
            unit: self.unit,
            kind: "bar",
        };
        let mut out = String::new();
        let scale = frame.open(&mut out);
        let count = self.categories.len().min(MAX_POINTS);
        let drawn = self.series.len().min(MAX_SERIES);
        let slot = (W - LEFT - RIGHT) / count.max(1) as f64;
        let bar = slot * 0.8 / drawn.max(1) as f64;
        let base = scale.y(0.0f64.clamp(scale.lo, scale.hi));
        // Each value is written on its bar (across it when it fits, else up along it), and a
        // missing value says so with "无" at the base line: a bar that is not there must not
        // read as zero. Only where bars are too thin to carry text (many categories) is the
        // value left to the bar's tooltip.
        let labelled = bar >= f64::from(SMALL);
        let mut values = String::new();
        for (i, s) in self.series.iter().take(MAX_SERIES).enumerate() {
            let (colour, _) = style(i);
            let _ = write!(
                out,
                "<g class=\"series\" data-series=\"{i}\" fill=\"{colour}\">"
            );
            for k in 0..count {
                let x = LEFT + slot * k as f64 + slot * 0.1 + bar * i as f64;
                let centre = x + bar / 2.0;
                let Some(v) = s.values.get(k).and_then(finite) else {
                    if labelled {
                        let _ = write!(
                            values,
                            "<text class=\"missing\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555555\">无</text>",
                            n(centre),
                            n(base - 4.0)
                        );
                    }
                    continue;
                };
                let y = scale.y(v);
                let (top, height) = if y <= base {
                    (y, base - y)
                } else {
                    (base, y - base)
                };
                let text = value_text(v, self.unit);
                let _ = write!(
                    out,
                    "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}：{} {}</title></rect>",
                    n(x),
                    n(top),
                    n(bar.max(0.5)),
                    n(height),
                    escape(&s.name),
                    escape(self.categories.get(k).map_or("", String::as_str)),
                    escape(&text)
                );
                if !labelled {
                    continue;
                }
                let short = short_value(v, self.unit);
                let across = short.chars().count() as f64 * DIGIT
                    <= slot * 0.8 / drawn.max(1) as f64 + slot * 0.1;
                if across {
                    let _ = write!(
                        values,
                        "<text class=\"value\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                        n(centre),
                        n(top - 3.0),
                        escape(&short)
                    );
                } else {
                    // Along the bar: inside it, in white, when it is long enough to hold the
                    // text; otherwise up from just above its top.
                    let length = short.chars().count() as f64 * DIGIT;
                    let inside = height >= length + 8.0;
                    let (ay, anchor, fill) = if inside {
                        (top + 4.0, "end", " fill=\"#ffffff\"")
                    } else {
                        (top - 3.0, "start", "")
                    };
                    let _ = write!(
                        values,
                        "<text class=\"value\" x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\"{fill} transform=\"rotate(-90 {} {})\">{}</text>",
                        n(centre + 4.0),
                        n(ay),
                        n(centre + 4.0),
                        n(ay),
                        escape(&short)
                    );
                }
            }
            out.push_str("</g>");
        }
        if !values.is_empty() {
            let _ = write!(
                out,
                "<g class=\"values\" font-size=\"{SMALL}\" fill=\"#222222\">{values}</g>"
            );
        }
        frame.legend_and_close(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small well-formedness check: tags nest and close, attributes are quoted, no raw
    /// `<` or `&` outside markup and entities. Returns the element names in order.
    fn well_formed(svg: &str) -> Vec<String> {
        let mut stack: Vec<String> = Vec::new();
        let mut names = Vec::new();
        let mut rest = svg.trim_end();
        assert!(rest.starts_with("<svg "), "starts with <svg");
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('<') {
                let end = after.find('>').expect("tag closes");
                let tag = &after[..end];
                assert!(!tag.contains('<'), "no < inside a tag: {tag}");
                if let Some(name) = tag.strip_prefix('/') {
                    assert_eq!(stack.pop().as_deref(), Some(name), "closing {name}");
                } else {
                    let self_closing = tag.ends_with('/');
                    let body = tag.trim_end_matches('/');
                    let name = body
                        .split_whitespace()
                        .next()
                        .expect("tag name")
                        .to_string();
                    // Attributes: name="value" pairs, quotes balanced.
                    assert_eq!(body.matches('"').count() % 2, 0, "quotes in {body}");
                    check_text(body);
                    names.push(name.clone());
                    if !self_closing {
                        stack.push(name);
                    }
                }
                rest = &after[end + 1..];
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                check_text(&rest[..end]);
                rest = &rest[end..];
            }
            if stack.is_empty() {
                assert!(rest.trim().is_empty(), "one root element");
                break;
            }
        }
        assert!(stack.is_empty(), "all closed: {stack:?}");
        names
    }

    fn check_text(text: &str) {
        let mut i = 0;
        while let Some(at) = text[i..].find('&') {
            let from = i + at;
            let semi = text[from..].find(';').expect("entity ends with ;");
            let entity = &text[from + 1..from + semi];
            assert!(
                ["amp", "lt", "gt", "quot", "#39"].contains(&entity),
                "entity {entity}"
            );
            i = from + semi;
        }
        assert!(
            !text.contains('>') || text.contains('='),
            "raw > in text: {text}"
        );
    }

    fn retention() -> LineChart {
        LineChart {
            title: Text::new("入学后仍在缴费的比例", "share still paying after admission"),
            x_label: Text::new("入学后月数", "months after admission"),
            y_label: Text::new("仍在缴费", "still paying"),
            x_labels: vec!["3".into(), "6".into(), "12".into(), "24".into()],
            series: vec![
                Series::new("杭州 2025", vec![Some(100.0), Some(50.0), None, None]),
                Series::new(
                    "合肥 2024",
                    vec![Some(80.0), Some(60.0), Some(40.0), Some(25.0)],
                ),
            ],
            unit: Unit::Percent,
        }
    }

    #[test]
    fn line_chart_is_well_formed_with_one_point_per_value() {
        let svg = retention().to_svg();
        let names = well_formed(&svg);
        assert_eq!(names.iter().filter(|n| *n == "circle").count(), 6);
        // The first series breaks after two points: one path, one move.
        assert_eq!(names.iter().filter(|n| *n == "path").count(), 2);
        assert!(svg.contains("viewBox=\"0 0 340 ") && svg.contains("width=\"100%\""));
        assert!(svg.contains("入学后仍在缴费的比例") && svg.contains("share still paying"));
        assert!(svg.contains(">100%<") && svg.contains("杭州 2025：6 50%"));
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(retention().to_svg(), retention().to_svg());
        assert_eq!(bars().to_svg(), bars().to_svg());
    }

    #[test]
    fn text_is_escaped() {
        let mut chart = retention();
        chart.title = Text::new("<script>alert(1)</script> & \"引号\"", "it's");
        chart.series[0].name = "A&B <c>\u{7}".into();
        chart.x_labels[0] = "<3>".into();
        let svg = chart.to_svg();
        well_formed(&svg);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;引号&quot;"));
        assert!(svg.contains("it&#39;s") && svg.contains("A&amp;B &lt;c&gt;"));
        assert!(!svg.contains('\u{7}'));
    }

    fn bars() -> BarChart {
        BarChart {
            title: Text::new("月缴费", "monthly contribution"),
            x_label: Text::new("档次", "tier"),
            y_label: Text::new("元", "yuan"),
            categories: vec!["60%".into(), "100%".into(), "300%".into()],
            series: vec![
                Series::from_fen("现行 law in force", &[Some(96_240), Some(160_400), None]),
                Series::from_fen("改革 reform", &[Some(57_744), Some(128_320), Some(384_960)]),
            ],
            unit: Unit::Yuan,
        }
    }

    #[test]
    fn bar_chart_has_one_bar_per_value_and_yuan_labels_from_fen() {
        let svg = bars().to_svg();
        let names = well_formed(&svg);
        assert_eq!(svg.matches("class=\"bar\"").count(), 5);
        assert_eq!(names.iter().filter(|n| *n == "rect").count(), 1 + 5 + 2);
        assert!(
            svg.contains("962.4 元") && svg.contains("3,849.6 元"),
            "{svg}"
        );
        assert!(svg.contains(">1,000<") || svg.contains(">1,000.5<") || svg.contains(">2,000<"));
    }

    /// Every value is written on its bar and a missing one says "无", so a bar that is not
    /// there never reads as zero; thin bars (many categories) leave the value to the tooltip.
    #[test]
    fn bars_carry_their_values_and_missing_ones_say_so() {
        let svg = bars().to_svg();
        let values: Vec<&str> = svg
            .split("class=\"value\"")
            .skip(1)
            .filter_map(|t| t.split('>').nth(1)?.split('<').next())
            .collect();
        assert_eq!(values, ["962.4", "1,604", "577.44", "1,283.2", "3,849.6"]);
        assert_eq!(svg.matches("class=\"missing\"").count(), 1, "{svg}");
        let thin = BarChart {
            categories: (0..60).map(|i| i.to_string()).collect(),
            series: vec![Series::new("s", vec![Some(1.0); 60])],
            ..BarChart::default()
        };
        assert!(!thin.to_svg().contains("class=\"value\""));
    }

    /// Drawn 340 units wide, about a phone's figure in pixels: no text under 12 units.
    #[test]
    fn no_text_is_smaller_than_twelve() {
        for svg in [bars().to_svg(), retention().to_svg()] {
            for size in svg.split("font-size=\"").skip(1) {
                let size: u32 = size.split('"').next().unwrap_or("0").parse().unwrap_or(0);
                assert!(size >= SMALL, "font-size {size} in {svg}");
            }
        }
    }

    /// Two years of months: every third label and the last, none so close to the last that
    /// they overlap at phone width.
    #[test]
    fn x_labels_thin_out_and_keep_the_last_apart() {
        let shown = |count: usize| {
            let chart = BarChart {
                categories: (0..count).map(|i| format!("m{i}")).collect(),
                series: vec![Series::new("s", vec![Some(1.0); count])],
                ..BarChart::default()
            };
            let svg = chart.to_svg();
            let ticks = svg
                .split("class=\"x-ticks\"")
                .nth(1)
                .and_then(|s| s.split("</g>").next())
                .unwrap_or_default()
                .to_string();
            ticks
                .split("<text ")
                .skip(1)
                .filter_map(|t| t.split('>').nth(1)?.split('<').next())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            shown(24),
            ["m0", "m3", "m6", "m9", "m12", "m15", "m18", "m23"]
        );
        assert_eq!(shown(25).last().map(String::as_str), Some("m24"));
        assert!(
            shown(25).contains(&"m20".to_string()),
            "far enough: {:?}",
            shown(25)
        );
        assert_eq!(shown(3), ["m0", "m1", "m2"]);
        // Two years of months written as months (2024-11): four labels, each slot wide
        // enough for the label, the last far from the one before it.
        let months: Vec<String> = (0..24)
            .map(|i| format!("{}-{:02}", 2024 + (i + 10) / 12, (i + 10) % 12 + 1))
            .collect();
        let chart = BarChart {
            categories: months.clone(),
            series: vec![Series::new("s", vec![Some(1.0); 24])],
            ..BarChart::default()
        };
        let svg = chart.to_svg();
        let ticks = svg
            .split("class=\"x-ticks\"")
            .nth(1)
            .and_then(|s| s.split("</g>").next())
            .unwrap_or_default();
        let xs: Vec<f64> = ticks
            .split("<text x=\"")
            .skip(1)
            .filter_map(|t| t.split('"').next()?.parse().ok())
            .collect();
        assert_eq!(xs.len(), 4, "{ticks}");
        for pair in xs.windows(2) {
            assert!(
                pair[1] - pair[0] >= label_width("2024-11") + LABEL_GAP,
                "{xs:?}"
            );
        }
        // The last ends at the right edge rather than running past it.
        assert!(ticks.contains("text-anchor=\"end\">2026-10<"), "{ticks}");
        assert_eq!(shown(1), ["m0"]);
    }

    #[test]
    fn yuan_text_uses_integers() {
        assert_eq!(yuan_text(0), "0");
        assert_eq!(yuan_text(96_240), "962.4");
        assert_eq!(yuan_text(-1_205), "-12.05");
        assert_eq!(yuan_text(123_456_700), "1,234,567");
        assert_eq!(yuan_text(i64::MIN), "-92,233,720,368,547,758.08");
    }

    #[test]
    fn odd_input_never_panics_and_stays_well_formed() {
        let weird = [
            Vec::new(),
            vec![Some(f64::NAN), Some(f64::INFINITY), None],
            vec![Some(-5.0), Some(250.0)],
            vec![Some(1e300), Some(-1e300)],
            vec![Some(f64::MAX), Some(f64::MIN)],
            vec![Some(0.0); 3000],
        ];
        for values in weird {
            for unit in [Unit::Percent, Unit::Yuan] {
                let labels: Vec<String> = (0..values.len()).map(|i| i.to_string()).collect();
                let line = LineChart {
                    x_labels: labels.clone(),
                    series: vec![Series::new("s", values.clone()); 3],
                    unit,
                    ..LineChart::default()
                };
                let svg = line.to_svg();
                well_formed(&svg);
                assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
                let bar = BarChart {
                    categories: labels,
                    series: vec![Series::new("s", values.clone())],
                    unit,
                    ..BarChart::default()
                };
                well_formed(&bar.to_svg());
            }
        }
        let many = LineChart {
            x_labels: vec!["a".into()],
            series: (0..100)
                .map(|i| Series::new(i.to_string(), vec![Some(1.0)]))
                .collect(),
            ..LineChart::default()
        };
        let svg = many.to_svg();
        well_formed(&svg);
        assert!(svg.contains("另有 36 组未画出 36 more not drawn"));
    }
}
