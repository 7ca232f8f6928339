//! Quadrant charts as server-drawn SVG: the stakeholder map (rank × influence) and each
//! competitive assessment (importance × our advantage), from core's [`QuadrantChart`].
//!
//! Rust only computes geometry; `macros.html` draws it, so every label is escaped by the
//! template engine like any other text. The chart carries a title, a description and a
//! visually hidden list of its points for screen readers.

use pipewise_core::user::Locale;
use pipewise_core::workspace::{Axis, QuadrantChart, QuadrantPoint};
use serde::Serialize;

use crate::i18n::t;

/// Drawing size in SVG units; the chart scales to its container.
const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 42.0;
/// Labels longer than this are cut with an ellipsis on the chart (the list has them whole).
const LABEL_CHARS: usize = 18;

#[derive(Clone, Debug, Serialize)]
pub struct QuadrantView {
    /// Unique within the page, for `aria-labelledby`.
    pub id: String,
    pub title: String,
    pub description: String,
    pub width: u32,
    pub height: u32,
    pub plot: Rect,
    /// The split lines between low and high.
    pub split_x: f64,
    pub split_y: f64,
    /// The highlighted cell (upper right or lower left), as a rectangle.
    pub highlight: Option<(Rect, &'static str)>,
    pub x_label: String,
    pub y_label: String,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    pub cell_captions: Vec<Caption>,
    pub points: Vec<PointView>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tick {
    pub at: f64,
    pub text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Caption {
    pub x: f64,
    pub y: f64,
    pub anchor: &'static str,
    pub text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PointView {
    pub cx: f64,
    pub cy: f64,
    pub r: f64,
    pub label: String,
    pub short_label: String,
    pub label_x: f64,
    pub label_y: f64,
    pub anchor: &'static str,
    /// `upper_right`, …: colours the dot.
    pub cell: &'static str,
    /// The whole point in words, for the tooltip and the list.
    pub summary: String,
}

/// Which cell a chart calls out, and what its corner captions say.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Rank × influence: the lower-left (low rank, low influence) is the danger.
    Stakeholders,
    /// Importance × advantage: the upper-right items are the selection criteria to propose.
    Competitive,
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Lays out `chart` for drawing.
pub fn layout(chart: &QuadrantChart, kind: Kind, id: &str, title: String, locale: Locale) -> QuadrantView {
    let scale = Scale { plot: Rect { x: LEFT, y: TOP, width: WIDTH - LEFT - RIGHT, height: HEIGHT - TOP - BOTTOM }, chart };
    let (x_axis, y_axis) = (&chart.x_axis, &chart.y_axis);
    let split_x = scale.x_of(f64::from(x_axis.high_from) - 0.5);
    let split_y = scale.y_of(f64::from(y_axis.high_from) - 0.5);
    let (x_label, y_label) = (t(locale, x_axis.label).to_owned(), t(locale, y_axis.label).to_owned());
    let x_ticks = (x_axis.min..=x_axis.max).map(|value| Tick { at: scale.x_of(f64::from(value)), text: value.to_string() }).collect();
    let y_ticks = (y_axis.min..=y_axis.max).map(|value| Tick { at: scale.y_of(f64::from(value)), text: signed(y_axis, value) }).collect();
    let (highlight, cell_captions) = cells(kind, scale.plot, split_x, split_y, locale);
    let points = points(chart, kind, &scale, (&x_label, &y_label), locale);
    let description = match kind {
        Kind::Stakeholders => t(locale, "quadrant.stakeholders_desc").to_owned(),
        Kind::Competitive => t(locale, "quadrant.competitive_desc").to_owned(),
    };
    QuadrantView {
        id: id.to_owned(),
        title,
        description,
        width: WIDTH as u32,
        height: HEIGHT as u32,
        plot: scale.plot,
        split_x,
        split_y,
        highlight,
        x_label,
        y_label,
        x_ticks,
        y_ticks,
        cell_captions,
        points,
    }
}

/// Where the chart's values land on the drawing: each value in the middle of its band.
struct Scale<'a> {
    plot: Rect,
    chart: &'a QuadrantChart,
}

impl Scale<'_> {
    fn x_of(&self, value: f64) -> f64 {
        let (plot, axis) = (&self.plot, &self.chart.x_axis);
        let span = f64::from(axis.max - axis.min + 1);
        round(plot.x + (value - f64::from(axis.min) + 0.5) / span * plot.width)
    }

    fn y_of(&self, value: f64) -> f64 {
        let (plot, axis) = (&self.plot, &self.chart.y_axis);
        let span = f64::from(axis.max - axis.min + 1);
        round(plot.y + plot.height - (value - f64::from(axis.min) + 0.5) / span * plot.height)
    }
}

/// A value of `axis`, with a `+` for positive ones when the axis also goes below zero.
fn signed(axis: &Axis, value: i32) -> String {
    if value > 0 && axis.min < 0 { format!("+{value}") } else { value.to_string() }
}

/// The cell the chart calls out, and the captions in its corners.
fn cells(kind: Kind, plot: Rect, split_x: f64, split_y: f64, locale: Locale) -> (Option<(Rect, &'static str)>, Vec<Caption>) {
    let right = plot.x + plot.width;
    let bottom = plot.y + plot.height;
    match kind {
        Kind::Stakeholders => (
            Some((Rect { x: plot.x, y: split_y, width: split_x - plot.x, height: bottom - split_y }, "danger")),
            vec![
                Caption { x: plot.x + 4.0, y: bottom - 5.0, anchor: "start", text: t(locale, "quadrant.low_low").to_owned() },
                Caption { x: right - 4.0, y: plot.y + 11.0, anchor: "end", text: t(locale, "quadrant.high_high").to_owned() },
            ],
        ),
        Kind::Competitive => (
            Some((Rect { x: split_x, y: plot.y, width: right - split_x, height: split_y - plot.y }, "good")),
            vec![
                Caption { x: right - 4.0, y: plot.y + 11.0, anchor: "end", text: t(locale, "quadrant.selection_criteria").to_owned() },
                Caption { x: plot.x + 4.0, y: bottom - 5.0, anchor: "start", text: t(locale, "quadrant.not_important_weaker").to_owned() },
            ],
        ),
    }
}

/// The points; those on the same spot are fanned out around it so each stays visible.
fn points(chart: &QuadrantChart, kind: Kind, scale: &Scale, (x_label, y_label): (&str, &str), locale: Locale) -> Vec<PointView> {
    let mut seen: Vec<((i32, i32), usize)> = Vec::new();
    chart
        .points
        .iter()
        .map(|point| {
            let index = match seen.iter_mut().find(|(spot, _)| *spot == (point.x, point.y)) {
                Some((_, count)) => {
                    *count += 1;
                    *count - 1
                }
                None => {
                    seen.push(((point.x, point.y), 1));
                    0
                }
            };
            let (dx, dy) = fan_offset(index);
            let cx = round(scale.x_of(f64::from(point.x)) + dx);
            let cy = round(scale.y_of(f64::from(point.y)) + dy);
            let summary = format!(
                "{}: {} {}, {} {}{}",
                point.label,
                x_label,
                point.x,
                y_label,
                signed(&chart.y_axis, point.y),
                match kind {
                    Kind::Stakeholders => crate::i18n::tf(locale, "quadrant.activity", &[("count", &point.weight.to_string())]),
                    Kind::Competitive => String::new(),
                }
            );
            point_view(point, (cx, cy), &scale.plot, summary)
        })
        .collect()
}

/// How far the `index`-th point on one spot is moved from it: the first not at all, the others
/// around it on a widening spiral.
fn fan_offset(index: usize) -> (f64, f64) {
    if index == 0 {
        (0.0, 0.0)
    } else {
        let angle = index as f64 * 2.4;
        let distance = 9.0 + 3.0 * (index / 6) as f64;
        (angle.cos() * distance, angle.sin() * distance)
    }
}

/// A point drawn at `(cx, cy)`, sized by its weight, its label on the side with room.
fn point_view(point: &QuadrantPoint, (cx, cy): (f64, f64), plot: &Rect, summary: String) -> PointView {
    let r = round(4.5 + f64::from(point.weight.min(16)).sqrt() * 1.6);
    let on_right = cx > plot.x + plot.width * 0.62;
    let short_label = if point.label.chars().count() > LABEL_CHARS {
        format!("{}…", point.label.chars().take(LABEL_CHARS - 1).collect::<String>())
    } else {
        point.label.clone()
    };
    PointView {
        cx,
        cy,
        r,
        label: point.label.clone(),
        short_label,
        label_x: if on_right { round(cx - r - 3.0) } else { round(cx + r + 3.0) },
        label_y: round(cy + 4.0),
        anchor: if on_right { "end" } else { "start" },
        cell: point.cell.as_str(),
        summary,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pipewise_core::ContactId;
    use pipewise_core::workspace::{BuyingRole, Level, Stakeholder, stakeholder_quadrant};

    use super::*;

    fn person(id: i64, name: &str, rank: u8, influence: u8) -> Stakeholder {
        Stakeholder {
            contact_id: ContactId(id),
            name: name.into(),
            buying_role: BuyingRole::Influencer,
            level: Level::Staff,
            rank,
            influence,
            influence_evidence: String::new(),
        }
    }

    #[test]
    fn points_land_in_their_cells_and_share_a_spot_visibly() {
        let people = [person(1, "Kim", 1, 1), person(2, "Lee", 5, 5), person(3, "Park", 1, 1)];
        let chart = stakeholder_quadrant(&people, &BTreeMap::from([(ContactId(1), 4)]));
        let view = layout(&chart, Kind::Stakeholders, "s", "Map".into(), Locale::En);
        // Plot 302 × 224 from (44, 14): rank 1 sits at 44 + 0.5/5 × 302 = 74.2, influence 1 at 238 − 0.5/5 × 224 = 215.6.
        assert_eq!((view.points[0].cx, view.points[0].cy), (74.2, 215.6));
        // Rank 5, influence 5: 44 + 4.5/5 × 302 = 315.8; 14 + 224 − 4.5/5 × 224 = 36.4.
        assert_eq!((view.points[1].cx, view.points[1].cy), (315.8, 36.4));
        assert_ne!((view.points[2].cx, view.points[2].cy), (view.points[0].cx, view.points[0].cy));
        assert_eq!(view.points[0].cell, "lower_left");
        assert_eq!(view.points[1].anchor, "end");
        // The split between 2 and 3: 44 + 2/5 × 302 = 164.8.
        assert_eq!(view.split_x, 164.8);
        assert!(view.points[0].summary.contains("4 activities"), "{}", view.points[0].summary);
    }
}
