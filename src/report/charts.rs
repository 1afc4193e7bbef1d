//! Charts as SVG strings, drawn with plotters: traffic over time with incident windows
//! shaded and fixes marked, queue size over time, and where delivery time went.
//!
//! No text from the logs is ever drawn into a chart (labels are times, numbers and our own
//! words), so the SVG needs no escaping of hostile content.

use plotters::prelude::*;

use super::Report;
use crate::analysis::stats::TrafficBucket;
use crate::time::Stamp;

const W: u32 = 900;
const H: u32 = 280;

const DELIVERED: RGBColor = RGBColor(46, 160, 67);
const DEFERRED: RGBColor = RGBColor(219, 154, 4);
const BOUNCED: RGBColor = RGBColor(207, 34, 46);
const REJECTED: RGBColor = RGBColor(130, 80, 223);
const INCIDENT: RGBColor = RGBColor(207, 34, 46);
const FIX: RGBColor = RGBColor(9, 105, 218);
const AXIS: RGBColor = RGBColor(110, 119, 129);

fn hhmm(start: Stamp, secs: i64) -> String {
    let s = Stamp {
        micros: start.micros + secs * 1_000_000,
        offset_secs: start.offset_secs,
    }
    .to_string();
    // 2026-11-30T01:53:57+00:00 → 11-30 01:53
    if s.len() >= 16 {
        format!("{} {}", &s[5..10], &s[11..16])
    } else {
        s
    }
}

/// Every chart of the report, by key (`traffic`, `queue`, `delays`); charts without data
/// are left out.
/// What [`time_chart`] draws on.
type TimeChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordi64, plotters::coord::types::RangedCoordu64>,
>;

/// A chart over time in the report's style: seconds since `start` across (labelled HH:MM),
/// a count up to `ymax` and a tenth more, light horizontal grid lines, `y_desc` up the side.
fn time_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    start: Stamp,
    xmax: i64,
    ymax: u64,
    y_desc: &str,
) -> Option<TimeChart<'a, 'b>> {
    let mut chart = ChartBuilder::on(root)
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(0i64..xmax, 0u64..(ymax + ymax / 10 + 1))
        .ok()?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(AXIS.mix(0.15))
        .axis_style(AXIS)
        .label_style(("sans-serif", 12).into_font().color(&AXIS))
        .x_labels(8)
        .x_label_formatter(&|x| hhmm(start, *x))
        .y_desc(y_desc)
        .draw()
        .ok()?;
    Some(chart)
}

pub fn all(r: &Report) -> Vec<(&'static str, String)> {
    [
        ("traffic", traffic(r)),
        ("queue", queue(r)),
        ("delays", delays(r)),
    ]
    .into_iter()
    .filter_map(|(k, svg)| Some((k, svg?)))
    .collect()
}

/// The legend, in the charts' one style.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Option<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.7))
        .border_style(AXIS.mix(0.3))
        .label_font(("sans-serif", 12).into_font().color(&AXIS))
        .draw()
        .ok()
}

/// One stacked layer: the running total it draws up to, its colour and its legend.
type Layer<'f> = (&'f dyn Fn(&TrafficBucket) -> u64, RGBColor, &'static str);

/// Deliveries, deferrals, bounces and rejects per bucket, stacked; incidents shaded.
pub fn traffic(r: &Report) -> Option<String> {
    let b = &r.traffic.buckets;
    let start = b.first()?.at?;
    let step = r.traffic.bucket_s;
    let n = b.len() as i64;
    let ymax = b
        .iter()
        .map(|x| x.delivered + x.deferred + x.bounced + x.rejected)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let y_desc = format!("per {}", super::summary::duration(step as f64));
        let mut chart = time_chart(&root, start, n * step, ymax, &y_desc)?;
        for i in &r.analysis.incidents {
            let x0 = (i.start.micros - start.micros) / 1_000_000;
            let x1 =
                (i.recovered_at.unwrap_or(i.last_failure_at).micros - start.micros) / 1_000_000;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0), (x1.max(x0 + step / 2), ymax + ymax / 10 + 1)],
                    INCIDENT.mix(0.12).filled(),
                )))
                .ok()?;
        }
        // Stacked: rejected at the bottom, then bounced, deferred, delivered.
        let layers: [Layer; 4] = [
            (
                &|x| x.rejected + x.bounced + x.deferred + x.delivered,
                DELIVERED,
                "delivered",
            ),
            (
                &|x| x.rejected + x.bounced + x.deferred,
                DEFERRED,
                "deferred",
            ),
            (&|x| x.rejected + x.bounced, BOUNCED, "bounced"),
            (&|x| x.rejected, REJECTED, "rejected"),
        ];
        for (f, color, name) in layers {
            chart
                .draw_series(AreaSeries::new(
                    b.iter().enumerate().map(|(k, x)| (k as i64 * step, f(x))),
                    0,
                    color.mix(0.55),
                ))
                .ok()?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        for m in r
            .analysis
            .markers
            .iter()
            .filter(|m| !matches!(m.kind, crate::analysis::incidents::MarkerKind::Restart))
        {
            let x = (m.at.micros - start.micros) / 1_000_000;
            chart
                .draw_series(LineSeries::new(
                    [(x, 0), (x, ymax + ymax / 10 + 1)],
                    FIX.stroke_width(1),
                ))
                .ok()?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Messages in the queue over time: derived from the log (line), and from dumps (points).
pub fn queue(r: &Report) -> Option<String> {
    let series = &r.queue_from_log;
    let dumps: Vec<(Stamp, u64)> = r
        .queue
        .as_ref()
        .map(|q| {
            q.snapshots
                .iter()
                .filter_map(|s| Some((s.taken_at?, s.messages)))
                .collect()
        })
        .unwrap_or_default();
    let start = series
        .first()
        .map(|p| p.0)
        .into_iter()
        .chain(dumps.first().map(|d| d.0))
        .min_by_key(|s| s.micros)?;
    let end = series
        .last()
        .map(|p| p.0)
        .into_iter()
        .chain(dumps.last().map(|d| d.0))
        .max_by_key(|s| s.micros)?;
    let xs = |s: Stamp| (s.micros - start.micros) / 1_000_000;
    let xmax = xs(end).max(1);
    let ymax = series
        .iter()
        .map(|p| p.1.max(0) as u64)
        .chain(dumps.iter().map(|d| d.1))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, 220)).into_drawing_area();
        let mut chart = time_chart(&root, start, xmax, ymax, "messages queued")?;
        if !series.is_empty() {
            chart
                .draw_series(LineSeries::new(
                    series.iter().map(|p| (xs(p.0), p.1.max(0) as u64)),
                    FIX.stroke_width(2),
                ))
                .ok()?
                .label("from the log (arrived − removed)")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], FIX.stroke_width(2)));
        }
        if !dumps.is_empty() {
            chart
                .draw_series(
                    dumps
                        .iter()
                        .map(|d| Circle::new((xs(d.0), d.1), 3, DEFERRED.filled())),
                )
                .ok()?
                .label("queue dumps")
                .legend(|(x, y)| Circle::new((x + 6, y), 3, DEFERRED.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Where the delivery time went: one stacked bar overall, then one per top domain
/// (numbered; the table beside the chart names them).
pub fn delays(r: &Report) -> Option<String> {
    let d = &r.delays;
    if d.overall.count == 0 {
        return None;
    }
    let rows: Vec<[f64; 4]> = std::iter::once(&d.breakdown)
        .chain(d.per_domain.iter().map(|p| &p.breakdown))
        .map(|b| [b.before_qmgr, b.in_qmgr, b.connection, b.transmission])
        .collect();
    let xmax = rows
        .iter()
        .map(|r| r.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(0.001);
    let n = rows.len() as i32;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (W, 40 + 26 * n as u32 + 40)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..xmax * 1.05, 0i32..n)
            .ok()?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(AXIS.mix(0.15))
            .axis_style(AXIS)
            .label_style(("sans-serif", 12).into_font().color(&AXIS))
            .y_labels(n as usize)
            .y_label_formatter(&|y| {
                if *y == n - 1 {
                    "all".to_string()
                } else {
                    format!("#{}", n - 1 - y)
                }
            })
            .x_desc("mean seconds")
            .draw()
            .ok()?;
        let parts = [
            (DEFERRED, "before qmgr (a)"),
            (REJECTED, "in qmgr (b)"),
            (FIX, "connection (c)"),
            (DELIVERED, "transmission (d)"),
        ];
        for (k, (color, name)) in parts.into_iter().enumerate() {
            chart
                .draw_series(rows.iter().enumerate().map(|(i, r)| {
                    let y = n - 1 - i as i32;
                    let x0: f64 = r[..k].iter().sum();
                    let x1 = x0 + r[k];
                    Rectangle::new([(x0, y), (x1, y + 1)], color.mix(0.7).filled())
                }))
                .ok()?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        root.present().ok()?;
    }
    Some(svg)
}
