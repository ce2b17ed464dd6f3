//! The Keys tab: filter line, the keys table (only the visible rows are drawn,
//! from the rows loaded around the viewport), and the detail pane.

use crate::tui::kit::layout;
use crate::tui::kit::query_line;
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{block, fit, local_date, local_time, safe};
use crate::tui::state::{State, Tab};
use keyward_core::domain::model::{Key, KeyStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

pub fn tab(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let detail = state.keys.detail.as_ref();
    let b = layout::body(Tab::Keys, area, detail.is_some());
    query_line::draw(&state.keys.filter, "/", theme, frame, b.line);
    table(state, theme, frame, b.table);
    if let Some(key) = detail {
        detail_pane(key, state, theme, frame, b.side);
    }
}

/// `(title, min width, rank)`: the rank says which columns go first when narrow.
/// Expiry and status outrank the rest, so the `!` mark and an expired or
/// deactivated key stay visible at the smallest size (60 columns).
const COLUMNS: [(&str, u16, u8); 11] = [
    ("", 1, 0),
    ("Sel", 3, 0),
    ("Name", 12, 0),
    ("Key", 17, 3),
    ("Instance", 12, 4),
    ("Developer", 12, 5),
    ("Channel", 9, 6),
    ("Teams", 14, 7),
    ("Expires", 12, 1),
    ("Status", 11, 2),
    ("Last used", 10, 8),
];

/// The keys table, also drawn on the Teams tab with its checkboxes.
pub fn table(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let list = &state.keys;
    let inner_width = area.width.saturating_sub(2);
    let widths: Vec<(u16, u8)> = COLUMNS.iter().map(|c| (c.1, c.2)).collect();
    let shown = fit(&widths, inner_width);
    let visible = usize::from(area.height.saturating_sub(3));
    let offset = list.offset;
    let soon = i64::from(state.settings.expiring_soon_days) * 86_400;
    let rows: Vec<Row> = list
        .refs
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .map(|(i, r)| {
            let at_cursor = i == list.cursor;
            let selected = list.selected.contains_key(&r.id);
            let cells: Vec<Cell> = match list.rows.get(&r.id) {
                Some(k) => key_cells(k, state, theme, soon, at_cursor),
                None => {
                    let mut c = vec![Cell::from(safe(&r.name)), Cell::from(safe(&r.public_id))];
                    c.extend((0..8).map(|_| Cell::from("…")));
                    c
                }
            };
            let mut all = vec![
                Cell::from(if at_cursor { "›" } else { " " }),
                Cell::from(if selected { "[x]" } else { "[ ]" }),
            ];
            all.extend(cells);
            let row = Row::new(
                shown
                    .iter()
                    .map(|&c| all.get(c).cloned().unwrap_or_default())
                    .collect::<Vec<_>>(),
            );
            if at_cursor {
                row.style(theme.cursor())
            } else {
                row
            }
        })
        .collect();
    let header =
        Row::new(shown.iter().map(|&c| COLUMNS[c].0).collect::<Vec<_>>()).style(theme.header());
    let constraints: Vec<Constraint> = shown
        .iter()
        .map(|&c| {
            if COLUMNS[c].0 == "Name" {
                Constraint::Min(COLUMNS[c].1)
            } else {
                Constraint::Length(COLUMNS[c].1)
            }
        })
        .collect();
    let mut outline = block(title(state));
    if let Some(e) = &list.filter.error {
        // The filter line cuts a long parse error short; the border has room for it.
        outline = outline.title_bottom(Line::styled(format!(" ✗ {} ", safe(e)), theme.error()));
    }
    let t = Table::new(rows, constraints)
        .header(header)
        .column_spacing(1)
        .block(outline);
    frame.render_widget(t, area);
    if list.refs.is_empty() {
        // Across the table under its header: a footer row would sit in the
        // one-column cursor column and show nothing.
        let message = if list.filter.error.is_some() {
            " No keys shown: the filter is invalid (see below). Fix it, or Esc clears it."
        } else if list.loading {
            " Loading…"
        } else {
            " No keys match. n makes one; Esc clears the filter."
        };
        let below_header = Rect {
            x: area.x + 1,
            y: area.y + 2,
            width: area.width.saturating_sub(2),
            height: area.height.saturating_sub(3),
        };
        frame.render_widget(
            Paragraph::new(message).wrap(Wrap { trim: false }),
            below_header,
        );
    }
}

fn title(state: &State) -> String {
    let list = &state.keys;
    let n = list.refs.len();
    let mut t = format!(" Keys {} of {n} ", if n == 0 { 0 } else { list.cursor + 1 });
    if !list.selected.is_empty() {
        t.push_str(&format!("· {} selected ", list.selected.len()));
    }
    if list.loading {
        t.push_str("· loading ");
    }
    t
}

/// A loaded key's cells. On the cursor row the cells keep the row's style, so
/// a status colour never sinks into the highlight.
fn key_cells<'a>(
    k: &Key,
    state: &State,
    theme: &Theme,
    soon: i64,
    at_cursor: bool,
) -> Vec<Cell<'a>> {
    let offset = state.settings.utc_offset;
    let expiring =
        k.status == KeyStatus::Active && k.expires_at.is_some_and(|e| e - state.now <= soon);
    let expires = match k.expires_at {
        None => "never".to_owned(),
        Some(t) if expiring => format!("{} !", local_date(t, offset)),
        Some(t) => local_date(t, offset),
    };
    let status_style = match k.status {
        _ if at_cursor => Style::new(),
        KeyStatus::Active => theme.ok(),
        KeyStatus::Expired => theme.error(),
        KeyStatus::Deactivated | KeyStatus::Deleted => theme.dim(),
    };
    vec![
        Cell::from(safe(&k.name)),
        Cell::from(k.masked()),
        Cell::from(safe(&k.instance)),
        Cell::from(safe(&k.developer)),
        Cell::from(safe(&k.channel)),
        Cell::from(safe(&k.teams.join(", "))),
        Cell::from(expires).style(if expiring && !at_cursor {
            theme.warning()
        } else {
            Style::new()
        }),
        Cell::from(k.status.as_str()).style(status_style),
        Cell::from(
            k.last_used_at
                .map_or("never".to_owned(), |t| local_date(t, offset)),
        ),
    ]
}

fn detail_pane(key: &Key, state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let offset = state.settings.utc_offset;
    let time = |t: Option<i64>, none: &str| t.map_or(none.to_owned(), |t| local_time(t, offset));
    let pairs: Vec<(&str, String)> = vec![
        ("Name", safe(&key.name)),
        // The masked form holds the public id: `kw_<id>_…tail`.
        ("Key", key.masked()),
        (
            "Instance",
            format!("{} ({})", safe(&key.instance), key.cloud.as_str()),
        ),
        ("Developer", safe(&key.developer)),
        ("Channel", safe(&key.channel)),
        ("Teams", safe(&key.teams.join(", "))),
        ("Status", key.status.as_str().to_owned()),
        ("Expires", time(key.expires_at, "never")),
        (
            "Created",
            format!(
                "{} by {}",
                time(Some(key.created_at), ""),
                safe(&key.created_by)
            ),
        ),
        (
            "Last used",
            format!(
                "{} ({} uses)",
                time(key.last_used_at, "never"),
                key.use_count
            ),
        ),
        ("Grace until", time(key.grace_until, "—")),
        ("Deactivated", time(key.deactivated_at, "—")),
    ];
    let half = pairs.len().div_ceil(2);
    let line = |(label, value): &(&str, String)| {
        Line::from(vec![
            Span::styled(format!("{label:<12}"), theme.header()),
            Span::raw(value.clone()),
        ])
    };
    let inner = block(" Details (Esc closes) ".to_owned());
    let inside = inner.inner(area);
    frame.render_widget(inner, area);
    // A column apart, so a value cut short never runs into the next label; the
    // right half, with the longer values (time and uses), is the wider.
    let [left, right] = ratatui::layout::Layout::horizontal([
        Constraint::Percentage(45),
        Constraint::Percentage(55),
    ])
    .spacing(1)
    .areas(inside);
    frame.render_widget(
        Paragraph::new(pairs[..half].iter().map(line).collect::<Vec<_>>()),
        left,
    );
    frame.render_widget(
        Paragraph::new(pairs[half..].iter().map(line).collect::<Vec<_>>()),
        right,
    );
}
