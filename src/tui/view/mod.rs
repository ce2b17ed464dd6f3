//! `view(&State, &mut Frame)`: draws the state, and nothing else. Every string
//! that came from the store goes through `safe_text::escape` before it reaches
//! a cell, so a key name cannot move the cursor, recolour the screen or write
//! to the clipboard.

mod filters;
mod history;
mod keys;
mod modal;
mod screens;
#[cfg(test)]
mod snapshot_tests;
mod teams;

use super::keymap::{Action, Binding, Layer};
use super::layout;
use super::state::{Screen, State, Tab};
use super::theme::Theme;
use super::update::{layer, layer_under_help};
use chrono::{DateTime, FixedOffset};
use keyward_core::safe_text::escape;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn view(state: &State, frame: &mut Frame) {
    let area = frame.area();
    let theme = Theme {
        color: state.settings.color,
    };
    if layout::too_small(area.width, area.height) {
        let text = format!(
            "The terminal is too small ({}×{}); keyward needs at least {}×{}.",
            area.width,
            area.height,
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    match &state.screen {
        Screen::Setup(setup) => screens::setup(setup, &theme, frame),
        Screen::OfferDemo => screens::offer_demo(state, &theme, frame),
        Screen::Refused(message) => screens::refused(message, &theme, frame),
        Screen::Loading => screens::loading(state, frame),
        Screen::Main => main_screen(state, &theme, frame),
    }
    if state.help {
        help(state, &theme, frame);
    }
}

fn main_screen(state: &State, theme: &Theme, frame: &mut Frame) {
    let f = layout::frame(frame.area().width, frame.area().height);
    tab_bar(state, theme, frame, f.tabs);
    match state.tab {
        Tab::Keys => keys::tab(state, theme, frame, f.body),
        Tab::Filters => filters::tab(state, theme, frame, f.body),
        Tab::Teams => teams::tab(state, theme, frame, f.body),
        Tab::History => history::tab(state, theme, frame, f.body),
    }
    status_line(state, theme, frame, f.status);
    footer(layer(state), theme, frame, f.footer);
    if let Some(m) = &state.modal {
        modal::draw(state, m, theme, frame);
    }
}

fn tab_bar(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::raw(" ")];
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let title = format!(" {} {} ", i + 1, tab.title());
        spans.push(Span::styled(title, theme.tab(*tab == state.tab)));
        spans.push(Span::raw(" "));
    }
    let who = state
        .me
        .as_ref()
        .map(|m| format!("{} ({}) ", escape(&m.login), m.role))
        .unwrap_or_default();
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = usize::from(area.width).saturating_sub(used + who.chars().count());
    spans.push(Span::raw(" ".repeat(room)));
    spans.push(Span::styled(who, theme.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn status_line(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let line = match &state.status {
        Some(s) => {
            let style = if s.error { theme.error() } else { theme.ok() };
            let marker = if s.error { "✗ " } else { "✓ " };
            Line::from(vec![
                Span::styled(marker, style),
                Span::styled(escape(&s.text).into_owned(), style),
            ])
        }
        None => Line::from(Span::styled(
            format!(" {}", escape(&state.store)),
            theme.dim(),
        )),
    };
    frame.render_widget(Paragraph::new(line), area);
    // Undelivered notifications, at the right end, over whatever the line says.
    let o = state.outbox;
    if o.waiting() > 0 {
        let text = match (o.pending, o.failed) {
            (p, 0) => format!(" ✉ {p} pending "),
            (0, f) => format!(" ✉ {f} failed "),
            (p, f) => format!(" ✉ {p} pending · {f} failed "),
        };
        let style = if o.failed > 0 {
            theme.error()
        } else {
            theme.dim()
        };
        let width = (text.chars().count() as u16).min(area.width);
        let right = Rect {
            x: area.x + area.width - width,
            width,
            ..area
        };
        frame.render_widget(Paragraph::new(Span::styled(text, style)), right);
    }
}

/// The hint line, generated from the current layer's keymap table. When the
/// hints do not all fit, whole hints are left out rather than one cut in half,
/// and those that finish or leave the screen (save, yes, no, close, help, quit…)
/// are kept first; the others keep their order.
fn footer(layer: Layer, theme: &Theme, frame: &mut Frame, area: Rect) {
    // Neighbours with the same word share it: `↑ ↓ choice`.
    let mut hinted: Vec<(String, &Binding)> = Vec::new();
    for b in layer.bindings() {
        let Some(first) = b.keys.first() else {
            continue;
        };
        if b.hint.is_empty() {
            continue;
        }
        match hinted.last_mut() {
            Some((keys, prev)) if prev.hint == b.hint => {
                keys.push(' ');
                keys.push_str(&first.label());
            }
            _ => hinted.push((first.label(), b)),
        }
    }
    let cost =
        |(keys, b): &(String, &Binding)| keys.chars().count() + 1 + b.hint.chars().count() + 2;
    let finishes = |b: &Binding| {
        matches!(
            b.action,
            Action::Save
                | Action::Confirm
                | Action::Cancel
                | Action::Close
                | Action::Apply
                | Action::Copy
                | Action::Help
                | Action::Quit
        )
    };
    // The last hint needs no gap after it.
    let mut room = usize::from(area.width) + 2;
    let mut keep = vec![false; hinted.len()];
    for first in [true, false] {
        for (i, h) in hinted.iter().enumerate() {
            if !keep[i] && finishes(h.1) == first && cost(h) <= room {
                room -= cost(h);
                keep[i] = true;
            }
        }
    }
    let mut spans = Vec::new();
    for ((keys, b), _) in hinted.iter().zip(&keep).filter(|(_, k)| **k) {
        spans.push(Span::styled(keys.clone(), theme.key()));
        spans.push(Span::raw(format!(" {}  ", b.hint)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The `?` overlay: every binding of the layer under it, from its keymap table.
fn help(state: &State, theme: &Theme, frame: &mut Frame) {
    let under = layer_under_help(state);
    let bindings = under.bindings();
    // Above the footer, whose hints say how to close the overlay.
    let mut screen = frame.area();
    screen.height = screen.height.saturating_sub(1);
    let width = 70.min(screen.width);
    let room = usize::from(screen.height.saturating_sub(2));
    let label = |b: &Binding| {
        b.keys
            .iter()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join(" ")
    };
    // One binding a row when they all fit; on a shorter screen two short ones
    // (the moves and tab switches) share a row.
    let pair = bindings.len() > room;
    let key_width = if pair { 12 } else { 18 };
    let half = usize::from(width.saturating_sub(2)) / 2;
    let short = |b: &Binding| {
        label(b).chars().count() < key_width && b.does.chars().count() < half - key_width
    };
    let mut lines: Vec<Line> = Vec::new();
    let mut i = 0;
    while i < bindings.len() {
        let b = &bindings[i];
        let mut spans = vec![Span::styled(
            format!("{:<key_width$}", label(b)),
            theme.key(),
        )];
        match bindings.get(i + 1) {
            Some(next) if pair && short(b) && short(next) => {
                spans.push(Span::raw(format!("{:<w$}", b.does, w = half - key_width)));
                spans.push(Span::styled(
                    format!("{:<key_width$}", label(next)),
                    theme.key(),
                ));
                spans.push(Span::raw(next.does));
                i += 2;
            }
            _ => {
                spans.push(Span::raw(b.does));
                i += 1;
            }
        }
        lines.push(Line::from(spans));
    }
    let height = (lines.len() as u16 + 4).min(screen.height);
    let area = centered(screen, width, height);
    frame.render_widget(Clear, area);
    let hidden = lines
        .len()
        .saturating_sub(usize::from(area.height.saturating_sub(2)));
    let below = if hidden > 0 {
        format!("… {hidden} more rows: a taller terminal shows them")
    } else if matches!(under, Layer::Keys | Layer::Teams) {
        "Marks: ! expires within the soon threshold, [x] selected".to_owned()
    } else {
        "Esc closes".to_owned()
    };
    let help = Paragraph::new(lines).block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(" Help: {} ", layer_name(under)))
            .title_bottom(below),
    );
    frame.render_widget(help, area);
}

fn layer_name(layer: Layer) -> &'static str {
    match layer {
        Layer::Keys => "Keys",
        Layer::Filters => "Filters",
        Layer::Teams => "Teams",
        Layer::History => "History",
        Layer::FilterLine => "typing a query",
        Layer::Form => "key form",
        Layer::Confirm => "confirmation",
        Layer::Renew => "renew",
        Layer::NewSecret => "new key",
        Layer::TeamPicker => "teams of the selection",
        Layer::Columns => "columns",
        Layer::Export => "export",
        Layer::NamePrompt => "filter name",
        Layer::Help => "help",
        Layer::Setup => "first run",
        Layer::OfferDemo => "sample data",
        Layer::NotOperator => "keyward",
    }
}

/// A box of at most `width`×`height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    let [_, mid, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(h),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, center, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(w),
        Constraint::Fill(1),
    ])
    .areas(mid);
    center
}

/// Escaped text from the store, ready for a cell.
pub fn safe(s: &str) -> String {
    escape(s).into_owned()
}

/// A stored UTC time in local time, to the minute.
pub fn local_time(ts: i64, offset: i32) -> String {
    format_local(ts, offset, "%Y-%m-%d %H:%M")
}

pub fn local_date(ts: i64, offset: i32) -> String {
    format_local(ts, offset, "%Y-%m-%d")
}

fn format_local(ts: i64, offset: i32, format: &str) -> String {
    let Some(tz) = FixedOffset::east_opt(offset) else {
        return String::new();
    };
    DateTime::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&tz).format(format).to_string())
        .unwrap_or_default()
}

/// The query line above a table: the text being typed, with the cursor, and a
/// parse error beside it naming the column.
pub fn query_line(
    line: &super::state::QueryLine,
    label: &str,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let value = line.input.value();
    let mut spans = vec![Span::styled(format!(" {label} "), theme.key())];
    if value.is_empty() && !line.editing {
        spans.push(Span::styled("(none: press / to filter)", theme.dim()));
    } else {
        spans.push(Span::raw(safe(value)));
    }
    if let Some(e) = &line.error {
        spans.push(Span::styled(format!("  ✗ {}", safe(e)), theme.error()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    if line.editing {
        let prefix = label.chars().count() as u16 + 2;
        let x = area.x
            + prefix
            + escape(&value[..byte_at(value, line.input.cursor())])
                .chars()
                .count() as u16;
        frame.set_cursor_position((x.min(area.x + area.width.saturating_sub(1)), area.y));
    }
}

/// The byte index of the `chars`-th character.
pub fn byte_at(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i)
}

/// Which of the columns fit in `width`: each has a minimum width and a rank
/// (lower ranks are dropped last); the table keeps its order.
pub fn fit(columns: &[(u16, u8)], width: u16) -> Vec<usize> {
    let mut by_rank: Vec<usize> = (0..columns.len()).collect();
    by_rank.sort_by_key(|i| columns[*i].1);
    let mut used = 0u16;
    let mut keep = Vec::new();
    for i in by_rank {
        let w = columns[i].0 + 1;
        if used + w <= width {
            used += w;
            keep.push(i);
        }
    }
    keep.sort_unstable();
    keep
}

/// A bordered block with a title.
pub fn block(title: String) -> Block<'static> {
    Block::default().borders(Borders::ALL).title(title)
}

pub fn style_if(cond: bool, style: Style) -> Style {
    if cond { style } else { Style::new() }
}
