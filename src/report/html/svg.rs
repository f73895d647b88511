//! The page's charts, drawn as inline SVG strings: the match-weight histogram, a
//! horizontal bar chart, a stacked bar and the per-candidate waterfall. Coordinates are
//! written with one decimal, so the same numbers give the same bytes.

use std::fmt::Write;

use super::{dec, esc, int};

/// A number of pixels, one decimal.
fn px(x: f64) -> String {
    dec(x, 1)
}

/// A tick step of 1, 2 or 5 × 10^k giving at most `max_ticks` ticks over `span`.
fn tick_step(span: f64, max_ticks: f64) -> f64 {
    let raw = (span / max_ticks).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// A dashed vertical or horizontal threshold, with its label.
pub(super) struct Threshold {
    pub weight: f64,
    pub label: String,
    pub class: &'static str,
}

/// One histogram bar: the bin's lower edge in bits and its counts per group.
pub(super) struct HistogramSpec<'a> {
    pub bins: Vec<(i32, [u64; 4])>,
    pub groups: [(&'a str, &'a str); 4],
    pub thresholds: Vec<Threshold>,
    pub clamp: i32,
}

/// The tier-3 match-weight histogram: whole-bit bins stacked by status group, with the
/// thresholds drawn as dashed lines.
pub(super) fn histogram(spec: &HistogramSpec<'_>) -> String {
    let (w, h) = (960.0, 320.0);
    let (left, right, top, bottom) = (56.0, 24.0, 40.0, 64.0);
    let finite: Vec<f64> = spec
        .thresholds
        .iter()
        .map(|t| t.weight)
        .filter(|w| w.is_finite())
        .collect();
    let mut lo = spec.bins.first().map_or(-10, |b| b.0);
    let mut hi = spec.bins.last().map_or(20, |b| b.0 + 1);
    for t in &finite {
        lo = lo.min(t.floor() as i32 - 1);
        hi = hi.max(t.ceil() as i32 + 1);
    }
    lo = lo.max(-spec.clamp);
    hi = hi.min(spec.clamp).max(lo + 1);
    let max_count = spec
        .bins
        .iter()
        .map(|(_, c)| c.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let ystep = tick_step(max_count as f64, 5.0).max(1.0);
    let ymax = (max_count as f64 / ystep).ceil() * ystep;
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let x = |bits: f64| left + (bits - lo as f64) / (hi - lo) as f64 * plot_w;
    let y = |n: f64| top + plot_h - n / ymax * plot_h;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg" data-chart="weight-histogram"><title>Tier-3 match weights (bits), best candidate per receipt</title>"#
    );
    // Grid and y axis.
    let mut n = 0.0;
    while n <= ymax + 1e-9 {
        let yy = y(n);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{}" x2="{}" y1="{yy1}" y2="{yy1}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
            px(left),
            px(w - right),
            px(left - 6.0),
            px(yy + 4.0),
            int(n as i64),
            yy1 = px(yy),
        );
        n += ystep;
    }
    // X ticks.
    let xstep = tick_step((hi - lo) as f64, 16.0).max(1.0) as i32;
    let first = (lo as f64 / xstep as f64).ceil() as i32 * xstep;
    let mut t = first;
    while t <= hi {
        let xx = x(t as f64);
        let _ = write!(
            s,
            r#"<line class="axis" x1="{xx1}" x2="{xx1}" y1="{}" y2="{}"/><text class="tick" x="{xx1}" y="{}" text-anchor="middle">{}</text>"#,
            px(top + plot_h),
            px(top + plot_h + 4.0),
            px(top + plot_h + 17.0),
            t,
            xx1 = px(xx),
        );
        t += xstep;
    }
    let _ = write!(
        s,
        r#"<line class="axis" x1="{}" x2="{}" y1="{yb}" y2="{yb}"/><text class="axis-label" x="{}" y="{}" text-anchor="middle">match weight (bits = log2 odds); bins of 1 bit</text><text class="axis-label" x="14" y="{}" text-anchor="middle" transform="rotate(-90 14 {})">receipts</text>"#,
        px(left),
        px(w - right),
        px(left + plot_w / 2.0),
        px(top + plot_h + 33.0),
        px(top + plot_h / 2.0),
        px(top + plot_h / 2.0),
        yb = px(top + plot_h),
    );
    // Bars.
    let bar_w = (plot_w / (hi - lo) as f64 - 1.0).max(1.0);
    for (bin, counts) in &spec.bins {
        if *bin < lo || *bin >= hi {
            continue;
        }
        let mut acc = 0u64;
        let edge = |b: i32| {
            if b <= -spec.clamp {
                format!("≤ {}", b + 1)
            } else if b >= spec.clamp - 1 {
                format!("≥ {b}")
            } else {
                format!("[{b}, {})", b + 1)
            }
        };
        let what: Vec<String> = spec
            .groups
            .iter()
            .zip(counts)
            .filter(|(_, c)| **c > 0)
            .map(|((name, _), c)| format!("{} {}", int(*c), name))
            .collect();
        let _ = write!(
            s,
            r#"<g class="bin"><title>{} bits: {}</title>"#,
            esc(&edge(*bin)),
            esc(&what.join(", "))
        );
        for (i, c) in counts.iter().enumerate() {
            if *c == 0 {
                continue;
            }
            let y0 = y(acc as f64);
            acc += c;
            let y1 = y(acc as f64);
            let _ = write!(
                s,
                r#"<rect class="{}" x="{}" y="{}" width="{}" height="{}"/>"#,
                spec.groups[i].1,
                px(x(*bin as f64) + 0.5),
                px(y1),
                px(bar_w),
                px((y0 - y1).max(0.5)),
            );
        }
        s.push_str("</g>");
    }
    // Thresholds, left to right, each labelled on its right (on its left at the right
    // edge); a label that would run into the previous one goes on the row above.
    let mut drawn: Vec<&Threshold> = spec
        .thresholds
        .iter()
        .filter(|t| t.weight.is_finite() && t.weight >= lo as f64 && t.weight <= hi as f64)
        .collect();
    drawn.sort_by(|a, b| a.weight.total_cmp(&b.weight));
    let mut row_end = [f64::NEG_INFINITY; 2];
    for t in drawn {
        let xx = x(t.weight);
        let width = t.label.chars().count() as f64 * 6.2;
        let at_right_edge = xx + 4.0 + width > w;
        let (start, end) = if at_right_edge {
            (xx - 4.0 - width, xx - 4.0)
        } else {
            (xx + 4.0, xx + 4.0 + width)
        };
        let row = usize::from(start < row_end[0] + 6.0);
        row_end[row] = end;
        let ly = top - 6.0 - 14.0 * row as f64;
        let _ = write!(
            s,
            r#"<line class="threshold {c}" x1="{xx1}" x2="{xx1}" y1="{}" y2="{}"/><text class="threshold-label {c}" x="{}" y="{}" text-anchor="{}">{}</text>"#,
            px(ly - 9.0),
            px(top + plot_h),
            px(if at_right_edge { xx - 4.0 } else { xx + 4.0 }),
            px(ly),
            if at_right_edge { "end" } else { "start" },
            esc(&t.label),
            c = t.class,
            xx1 = px(xx),
        );
    }
    // Legend.
    let mut lx = left;
    for (name, class) in &spec.groups {
        let _ = write!(
            s,
            r#"<rect class="{class}" x="{}" y="{}" width="10" height="10"/><text class="legend" x="{}" y="{}">{}</text>"#,
            px(lx),
            px(top + plot_h + 44.0),
            px(lx + 14.0),
            px(top + plot_h + 53.0),
            esc(name)
        );
        lx += 110.0;
    }
    s.push_str("</svg>");
    s
}

/// One bar of a horizontal bar chart.
pub(super) struct Bar {
    pub label: String,
    pub sublabel: String,
    pub value: i64,
}

/// Horizontal bars, largest first as given, each with its label and value in yen.
pub(super) fn hbars(bars: &[Bar], title: &str, data_chart: &str) -> String {
    let row = 24.0;
    let (left, right, top) = (300.0, 110.0, 8.0);
    let w = 960.0;
    let h = top * 2.0 + row * bars.len().max(1) as f64;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f64;
    let plot_w = w - left - right;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" viewBox="0 0 {w} {}" width="{w}" height="{}" xmlns="http://www.w3.org/2000/svg" data-chart="{}"><title>{}</title>"#,
        px(h),
        px(h),
        esc(data_chart),
        esc(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let yy = top + row * i as f64;
        let bw = (b.value.max(0) as f64 / max * plot_w).max(if b.value > 0 { 1.0 } else { 0.0 });
        let _ = write!(
            s,
            r#"<g class="hbar"><title>{} {}: {} yen</title><text class="bar-label" x="{}" y="{}" text-anchor="end">{}<tspan class="bar-sublabel"> {}</tspan></text><rect class="bar" x="{}" y="{}" width="{}" height="{}"/><text class="bar-value" x="{}" y="{}">{}</text></g>"#,
            esc(&b.label),
            esc(&b.sublabel),
            int(b.value),
            px(left - 8.0),
            px(yy + row / 2.0 + 4.0),
            esc(&b.label),
            esc(&b.sublabel),
            px(left),
            px(yy + 3.0),
            px(bw),
            px(row - 6.0),
            px(left + bw + 6.0),
            px(yy + row / 2.0 + 4.0),
            int(b.value),
        );
    }
    s.push_str("</svg>");
    s
}

/// One segment of a stacked bar.
pub(super) struct Segment {
    pub label: String,
    pub value: i64,
    pub color: &'static str,
}

/// One horizontal bar split into segments, with a legend underneath.
pub(super) fn stacked(segments: &[Segment], title: &str, unit: &str) -> String {
    let w = 960.0;
    let bar_h = 26.0;
    let legend_rows = segments.len().div_ceil(4).max(1) as f64;
    let h = bar_h + 12.0 + legend_rows * 18.0;
    let total: i64 = segments.iter().map(|s| s.value.max(0)).sum();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" viewBox="0 0 {w} {}" width="{w}" height="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        px(h),
        px(h),
        esc(title)
    );
    let mut x = 0.0;
    for seg in segments {
        if total == 0 || seg.value <= 0 {
            continue;
        }
        let sw = seg.value as f64 / total as f64 * w;
        let _ = write!(
            s,
            r#"<rect x="{}" y="0" width="{}" height="{bar_h}" fill="{}"><title>{}: {} {unit} ({}%)</title></rect>"#,
            px(x),
            px(sw),
            seg.color,
            esc(&seg.label),
            int(seg.value),
            dec(seg.value as f64 * 100.0 / total as f64, 1),
        );
        x += sw;
    }
    for (i, seg) in segments.iter().enumerate() {
        let lx = (i % 4) as f64 * 240.0;
        let ly = bar_h + 12.0 + (i / 4) as f64 * 18.0;
        let _ = write!(
            s,
            r#"<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text class="legend" x="{}" y="{}">{} {}</text>"#,
            px(lx),
            px(ly),
            seg.color,
            px(lx + 14.0),
            px(ly + 9.0),
            esc(&seg.label),
            int(seg.value),
        );
    }
    s.push_str("</svg>");
    s
}

/// The waterfall of one candidate: the prior, then each field's log2 Bayes factor added
/// to the running total, then the final match weight, with the thresholds.
pub(super) fn waterfall(
    prior: f64,
    fields: &[(String, String, f64)],
    thresholds: &[Threshold],
) -> String {
    let step_w = 58.0;
    let (left, right, top, bottom) = (44.0, 120.0, 14.0, 74.0);
    let steps = fields.len() + 2;
    let plot_w = step_w * steps as f64;
    let w = left + plot_w + right;
    let h = 250.0;
    let plot_h = h - top - bottom;
    let mut running = vec![0.0, prior];
    let mut total = prior;
    for f in fields {
        total += f.2;
        running.push(total);
    }
    let mut lo = running.iter().copied().fold(0.0f64, f64::min);
    let mut hi = running.iter().copied().fold(0.0f64, f64::max);
    for t in thresholds.iter().filter(|t| t.weight.is_finite()) {
        lo = lo.min(t.weight);
        hi = hi.max(t.weight);
    }
    let ystep = tick_step(hi - lo, 5.0).max(1.0);
    lo = (lo / ystep).floor() * ystep;
    hi = (hi / ystep).ceil() * ystep;
    if hi - lo < ystep {
        hi = lo + ystep;
    }
    let y = |v: f64| top + (hi - v) / (hi - lo) * plot_h;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart waterfall" role="img" viewBox="0 0 {} {h}" width="{}" height="{h}" xmlns="http://www.w3.org/2000/svg" data-chart="waterfall"><title>Match weight waterfall: prior, each field's log2 Bayes factor, total</title>"#,
        px(w),
        px(w)
    );
    let mut v = lo;
    while v <= hi + 1e-9 {
        let _ = write!(
            s,
            r#"<line class="{}" x1="{}" x2="{}" y1="{yy}" y2="{yy}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
            if v.abs() < 1e-9 { "axis" } else { "grid" },
            px(left),
            px(left + plot_w),
            px(left - 5.0),
            px(y(v) + 4.0),
            dec(v, 0),
            yy = px(y(v)),
        );
        v += ystep;
    }
    let bar = |s: &mut String,
               i: usize,
               from: f64,
               to: f64,
               class: &str,
               label: &str,
               value: &str,
               tip: &str| {
        let x0 = left + step_w * i as f64 + 8.0;
        let bw = step_w - 16.0;
        let (y0, y1) = (y(from.max(to)), y(from.min(to)));
        let _ = write!(
            s,
            r#"<g class="step"><title>{}</title><rect class="{class}" x="{}" y="{}" width="{}" height="{}"/><text class="step-value" x="{}" y="{}" text-anchor="middle">{}</text><text class="step-label" x="{}" y="{}" text-anchor="end" transform="rotate(-40 {} {})">{}</text></g>"#,
            esc(tip),
            px(x0),
            px(y0),
            px(bw),
            px((y1 - y0).max(1.0)),
            px(x0 + bw / 2.0),
            px(if to >= from { y0 - 3.0 } else { y1 + 10.0 }),
            esc(value),
            px(x0 + bw / 2.0 + 4.0),
            px(top + plot_h + 12.0),
            px(x0 + bw / 2.0 + 4.0),
            px(top + plot_h + 12.0),
            esc(label),
        );
    };
    bar(
        &mut s,
        0,
        0.0,
        prior,
        "wf-prior",
        "prior",
        &dec(prior, 2),
        &format!("prior (log2 prior odds) {}", dec(prior, 2)),
    );
    let mut run = prior;
    for (i, (field, level, bf)) in fields.iter().enumerate() {
        let class = if *bf > 1e-9 {
            "wf-up"
        } else if *bf < -1e-9 {
            "wf-down"
        } else {
            "wf-neutral"
        };
        let value = if bf.abs() < 1e-9 {
            "0".to_string()
        } else if *bf > 0.0 {
            format!("+{}", dec(*bf, 2))
        } else {
            dec(*bf, 2)
        };
        let tip = format!(
            "{field}: {level}, log2 BF {}, running total {}",
            dec(*bf, 2),
            dec(run + bf, 2)
        );
        bar(&mut s, i + 1, run, run + bf, class, field, &value, &tip);
        // Connector from this step's end to the next step.
        let x1 = left + step_w * (i + 1) as f64 + 8.0;
        let _ = write!(
            s,
            r#"<line class="connector" x1="{}" x2="{}" y1="{yy}" y2="{yy}"/>"#,
            px(x1 - 16.0),
            px(x1),
            yy = px(y(run)),
        );
        run += bf;
    }
    let last = steps - 1;
    let _ = write!(
        s,
        r#"<line class="connector" x1="{}" x2="{}" y1="{yy}" y2="{yy}"/>"#,
        px(left + step_w * last as f64 - 8.0),
        px(left + step_w * last as f64 + 8.0),
        yy = px(y(run)),
    );
    bar(
        &mut s,
        last,
        0.0,
        run,
        "wf-total",
        "match weight",
        &dec(run, 2),
        &format!("match weight {}", dec(run, 2)),
    );
    for t in thresholds.iter().filter(|t| t.weight.is_finite()) {
        let _ = write!(
            s,
            r#"<line class="threshold {c}" x1="{}" x2="{}" y1="{yy}" y2="{yy}"/><text class="threshold-label {c}" x="{}" y="{}">{}</text>"#,
            px(left),
            px(left + plot_w),
            px(left + plot_w + 4.0),
            px(y(t.weight) + 4.0),
            esc(&t.label),
            c = t.class,
            yy = px(y(t.weight)),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_steps_are_round() {
        assert_eq!(tick_step(100.0, 5.0), 20.0);
        assert_eq!(tick_step(7.0, 5.0), 2.0);
        assert_eq!(tick_step(1.0, 5.0), 0.2);
    }

    #[test]
    fn waterfall_ends_at_the_total() {
        let fields = vec![
            ("name".to_string(), "exact".to_string(), 11.25),
            ("sex".to_string(), "else".to_string(), -4.0),
        ];
        let svg = waterfall(-11.69, &fields, &[]);
        assert!(svg.contains(">-4.44<"), "{svg}");
        assert!(svg.contains(">+11.25<"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
