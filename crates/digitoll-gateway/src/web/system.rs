//! The system page: queue depth and age, throughput, error rate, Toll and
//! Maskinporten latency, from the same figures `/metrics` renders, sampled
//! while the page is open (htmx polls the fragment) and drawn as small SVG
//! line charts (server-side; no chart library).

use std::collections::VecDeque;
use std::time::Instant;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use super::{Ctx, Layout, WebError};
use crate::state::GatewayState;

/// Samples kept (at one per 2 s or slower, about 4 minutes).
const KEEP: usize = 120;

/// One reading of the counters and gauges.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sample {
    at: Option<Instant>,
    queued: f64,
    oldest_due: f64,
    attempts: f64,
    attempts_failed: f64,
    toll_sum: f64,
    toll_count: f64,
    mp_sum: f64,
    mp_count: f64,
}

/// The ring of samples.
#[derive(Debug, Default)]
pub(crate) struct Samples(VecDeque<Sample>);

/// Sums the values of `name` (any labels) in Prometheus text, optionally only
/// lines whose labels contain `label`.
fn sum_metric(text: &str, name: &str, label: Option<&str>) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            let metric = key.split('{').next()?;
            if metric != name {
                return None;
            }
            if let Some(want) = label
                && !key.contains(want)
            {
                return None;
            }
            value.trim().parse::<f64>().ok()
        })
        .sum()
}

async fn take_sample(state: &GatewayState) -> Result<Sample, WebError> {
    let stats = state.store().queue_stats(None).await?;
    let text = state.metrics().map(|h| h.render()).unwrap_or_default();
    let attempts = sum_metric(&text, "digitoll_gateway_attempts_total", None);
    let ok = sum_metric(
        &text,
        "digitoll_gateway_attempts_total",
        Some("outcome=\"accepted\""),
    ) + sum_metric(
        &text,
        "digitoll_gateway_attempts_total",
        Some("outcome=\"reconciled\""),
    );
    Ok(Sample {
        at: Some(Instant::now()),
        queued: (stats.ready + stats.leased) as f64,
        oldest_due: stats.oldest_due_age.map_or(0.0, |d| d.as_secs_f64()),
        attempts,
        attempts_failed: (attempts - ok).max(0.0),
        toll_sum: sum_metric(&text, "toll_request_duration_seconds_sum", None),
        toll_count: sum_metric(&text, "toll_request_duration_seconds_count", None),
        mp_sum: sum_metric(
            &text,
            "digitoll_gateway_token_broker_seconds_sum",
            Some("kind=\"maskinporten\""),
        ),
        mp_count: sum_metric(
            &text,
            "digitoll_gateway_token_broker_seconds_count",
            Some("kind=\"maskinporten\""),
        ),
    })
}

/// A chart: title, the latest value as text, and an SVG polyline.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    pub(crate) title: &'static str,
    pub(crate) now: String,
    pub(crate) points: String,
    pub(crate) max: String,
    pub(crate) empty: bool,
}

fn chart(title: &'static str, values: &[Option<f64>], unit_fmt: fn(f64) -> String) -> Chart {
    let known: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    let max = known.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { max } else { 1.0 };
    let n = values.len().max(2) - 1;
    let points = known
        .iter()
        .map(|(i, v)| {
            let x = *i as f64 * 300.0 / n as f64;
            let y = 58.0 - (v / scale) * 54.0;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    Chart {
        title,
        now: known
            .last()
            .map(|(_, v)| unit_fmt(*v))
            .unwrap_or_else(|| "–".into()),
        points,
        max: unit_fmt(max),
        empty: known.len() < 2,
    }
}

fn charts(ctx: &Ctx, samples: &VecDeque<Sample>) -> Vec<Chart> {
    let pairs: Vec<(&Sample, &Sample)> = samples.iter().zip(samples.iter().skip(1)).collect();
    let secs = |a: &Sample, b: &Sample| match (a.at, b.at) {
        (Some(x), Some(y)) => y.duration_since(x).as_secs_f64().max(0.001),
        _ => 1.0,
    };
    let rate: Vec<Option<f64>> = pairs
        .iter()
        .map(|(a, b)| Some((b.attempts - a.attempts).max(0.0) / secs(a, b)))
        .collect();
    let errors: Vec<Option<f64>> = pairs
        .iter()
        .map(|(a, b)| {
            let n = b.attempts - a.attempts;
            (n > 0.0).then(|| 100.0 * (b.attempts_failed - a.attempts_failed).max(0.0) / n)
        })
        .collect();
    let latency = |sum: fn(&Sample) -> f64, count: fn(&Sample) -> f64| -> Vec<Option<f64>> {
        pairs
            .iter()
            .map(|(a, b)| {
                let n = count(b) - count(a);
                (n > 0.0).then(|| 1000.0 * (sum(b) - sum(a)) / n)
            })
            .collect()
    };
    let t = |k: &str| ctx.lang.t(k);
    let int = |v: f64| format!("{v:.0}");
    let one = |v: f64| format!("{v:.1}");
    vec![
        chart(
            t("system.queue"),
            &samples.iter().map(|s| Some(s.queued)).collect::<Vec<_>>(),
            int,
        ),
        chart(
            t("system.age"),
            &samples
                .iter()
                .map(|s| Some(s.oldest_due))
                .collect::<Vec<_>>(),
            one,
        ),
        chart(t("system.throughput"), &rate, one),
        chart(t("system.errors"), &errors, int),
        chart(
            t("system.toll"),
            &latency(|s| s.toll_sum, |s| s.toll_count),
            int,
        ),
        chart(t("system.mp"), &latency(|s| s.mp_sum, |s| s.mp_count), int),
    ]
}

#[derive(Template)]
#[template(path = "system.html")]
struct SystemPage {
    l: Layout,
    charts: Vec<Chart>,
    totals: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "system_live.html")]
struct SystemLive {
    l: Layout,
    charts: Vec<Chart>,
    totals: Vec<(&'static str, String)>,
}

async fn sample_and_chart(
    state: &GatewayState,
    ctx: &Ctx,
) -> Result<(Vec<Chart>, Vec<(&'static str, String)>), WebError> {
    let s = take_sample(state).await?;
    let totals = vec![
        (ctx.lang.t("system.queue"), format!("{:.0}", s.queued)),
        (ctx.lang.t("system.age"), format!("{:.1}", s.oldest_due)),
        (
            ctx.lang.t("system.errors"),
            if s.attempts > 0.0 {
                format!("{:.1}", 100.0 * s.attempts_failed / s.attempts)
            } else {
                "–".into()
            },
        ),
        (
            ctx.lang.t("system.toll"),
            if s.toll_count > 0.0 {
                format!("{:.0}", 1000.0 * s.toll_sum / s.toll_count)
            } else {
                "–".into()
            },
        ),
    ];
    let mut samples = state
        .web()
        .samples
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let recent = samples
        .0
        .back()
        .and_then(|l| l.at)
        .is_some_and(|at| at.elapsed().as_millis() < 1500);
    if !recent {
        samples.0.push_back(s);
        while samples.0.len() > KEEP {
            samples.0.pop_front();
        }
    }
    Ok((charts(ctx, &samples.0), totals))
}

/// `GET /ui/system` (operator only).
pub(crate) async fn system(
    State(state): State<GatewayState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let (charts, totals) = sample_and_chart(&state, &ctx).await?;
    Ok(Html(
        SystemPage {
            l: ctx.layout("system.title", "system"),
            charts,
            totals,
        }
        .render()?,
    )
    .into_response())
}

/// `GET /ui/system/live` (htmx fragment, operator only).
pub(crate) async fn system_live(
    State(state): State<GatewayState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let (charts, totals) = sample_and_chart(&state, &ctx).await?;
    Ok(Html(
        SystemLive {
            l: ctx.layout("system.title", "system"),
            charts,
            totals,
        }
        .render()?,
    )
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_is_summed_by_name_and_label() {
        let text = "# TYPE x counter\n\
                    digitoll_gateway_attempts_total{tenant=\"a\",api=\"road\",outcome=\"ok\"} 3\n\
                    digitoll_gateway_attempts_total{tenant=\"a\",api=\"road\",outcome=\"retryable\"} 2\n\
                    toll_request_duration_seconds_sum{api=\"road\"} 0.5\n\
                    toll_request_duration_seconds_count{api=\"road\"} 5\n";
        assert_eq!(
            sum_metric(text, "digitoll_gateway_attempts_total", None),
            5.0
        );
        assert_eq!(
            sum_metric(
                text,
                "digitoll_gateway_attempts_total",
                Some("outcome=\"ok\"")
            ),
            3.0
        );
        assert_eq!(
            sum_metric(text, "toll_request_duration_seconds_sum", None),
            0.5
        );
        let c = chart("t", &[Some(1.0), Some(3.0), None, Some(2.0)], |v| {
            format!("{v:.0}")
        });
        assert_eq!(c.now, "2");
        assert_eq!(c.max, "3");
        assert!(!c.empty);
        assert_eq!(c.points.split(' ').count(), 3);
    }
}
