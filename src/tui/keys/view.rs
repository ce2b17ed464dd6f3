//! The Keys tab: filter line, the keys table (only the visible rows are drawn,
//! from the rows loaded around the viewport), and the detail pane.

use crate::tui::kit::columns::{Want, fit_either, fit_text, text_width, widths};
use crate::tui::kit::layout;
use crate::tui::kit::query_line;
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{block, local_date, local_time, safe};
use crate::tui::state::{State, Tab};
use keyward_core::domain::model::{Key, KeyStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Rect};
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

/// A column of the keys table: its title, a shorter title for a narrow
/// column, the narrowest it is drawn and its rank (the highest go first when
/// narrow). At 80 columns name, key, developer, channel, teams, expiry and
/// status stay, in their short forms where need be; instance and last use go.
struct KeyColumn {
    title: &'static str,
    short: &'static str,
    min: u16,
    rank: u8,
}

const fn column(title: &'static str, short: &'static str, min: u16, rank: u8) -> KeyColumn {
    KeyColumn {
        title,
        short,
        min,
        rank,
    }
}

const COLUMNS: [KeyColumn; 11] = [
    column("", "", 1, 0),
    column("Sel", "Sel", 3, 0),
    column("Name", "Name", 10, 0),
    column("Key", "Key", 13, 3),
    column("Instance", "Inst", 8, 8),
    column("Developer", "Dev", 8, 4),
    column("Channel", "Chan", 6, 5),
    column("Teams", "Teams", 8, 6),
    column("Expires", "Expires", 7, 1),
    column("Status", "Status", 8, 2),
    column("Last used", "Used", 6, 9),
];

/// The table width (inside its border) from which times show as dates.
const DATES_FROM: u16 = 110;
/// Expires and Last used: a date or a time from now.
const DATE_COLUMNS: [usize; 2] = [8, 10];

/// A cell's text in its long and short forms, and its style.
struct KeyCell {
    long: String,
    short: String,
    style: Style,
}

fn plain(text: String) -> KeyCell {
    KeyCell {
        short: text.clone(),
        long: text,
        style: Style::new(),
    }
}

/// The keys table, also drawn on the Teams tab with its checkboxes.
pub fn table(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let list = &state.keys;
    let inner_width = area.width.saturating_sub(2);
    let visible = usize::from(area.height.saturating_sub(3));
    let offset = list.offset;
    let soon = i64::from(state.settings.expiring_soon_days) * 86_400;
    // Dates or `in 89d` by the terminal's width alone: a key's expiry never
    // changes form as the admin scrolls to rows with longer names.
    let dates = inner_width >= DATES_FROM;
    let drawn: Vec<(usize, Vec<KeyCell>)> = list
        .refs
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .map(|(i, r)| {
            let at_cursor = i == list.cursor;
            let selected = list.selected.contains_key(&r.id);
            let mut all = vec![
                plain(if at_cursor { "›" } else { " " }.to_owned()),
                plain(if selected { "[x]" } else { "[ ]" }.to_owned()),
            ];
            match list.rows.get(&r.id) {
                Some(k) => all.extend(key_cells(k, state, theme, soon, at_cursor, dates)),
                None => {
                    all.push(plain(safe(&r.name)));
                    all.push(plain(safe(&r.public_id)));
                    all.extend((0..8).map(|_| plain("…".to_owned())));
                }
            }
            (i, all)
        })
        .collect();
    // Widths from the rows on screen, so a column is as wide as what it shows.
    let wants: Vec<Want> = COLUMNS
        .iter()
        .enumerate()
        .map(|(c, col)| {
            let widest = |form: fn(&KeyCell) -> &str, title: &str| {
                drawn
                    .iter()
                    .filter_map(|(_, cells)| cells.get(c))
                    .map(|cell| text_width(form(cell)))
                    .chain([text_width(title)])
                    .max()
                    .unwrap_or(0)
            };
            // A date is drawn whole or not at all.
            let min = if dates && DATE_COLUMNS.contains(&c) {
                widest(|cell| &cell.long, col.title)
            } else {
                col.min
            };
            Want {
                min,
                content: widest(|cell| &cell.long, col.title),
                short: widest(|cell| &cell.short, col.short),
                rank: col.rank,
            }
        })
        .collect();
    let widths = widths(&wants, inner_width, 1);
    let shown: Vec<usize> = (0..COLUMNS.len()).filter(|&c| widths[c] > 0).collect();
    // A column shows one form on every row: a date on one row and `in 89d`
    // on the next would read as two different things.
    let long: Vec<bool> = (0..COLUMNS.len())
        .map(|c| {
            drawn.iter().all(|(_, cells)| {
                cells
                    .get(c)
                    .is_none_or(|cell| text_width(&cell.long) <= widths[c])
            })
        })
        .collect();
    let rows: Vec<Row> = drawn
        .into_iter()
        .map(|(i, all)| {
            let row = Row::new(
                shown
                    .iter()
                    .map(|&c| {
                        all.get(c).map_or_else(Cell::default, |cell| {
                            let text = if long[c] { &cell.long } else { &cell.short };
                            Cell::from(fit_text(text, widths[c])).style(cell.style)
                        })
                    })
                    .collect::<Vec<_>>(),
            );
            if i == list.cursor {
                row.style(theme.cursor())
            } else {
                row
            }
        })
        .collect();
    let header = Row::new(
        shown
            .iter()
            .map(|&c| fit_either(COLUMNS[c].title, COLUMNS[c].short, widths[c]))
            .collect::<Vec<_>>(),
    )
    .style(theme.header());
    let constraints: Vec<Constraint> = shown
        .iter()
        .map(|&c| Constraint::Length(widths[c]))
        .collect();
    let mut outline = block(title(state));
    if let Some(e) = &list.filter.error {
        // The filter line cuts a long parse error short; the border has room for it.
        let room = area.width.saturating_sub(4);
        let note = fit_text(&format!("✗ {}", safe(e)), room);
        outline = outline.title_bottom(Line::styled(format!(" {note} "), theme.error()));
    }
    let t = Table::new(rows, constraints)
        .header(header)
        .flex(Flex::Start)
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
        } else if list.filter.applied.is_empty() {
            " No keys yet. n makes one; an instance comes first (Directory: 5, then n)."
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
    // Where the cursor stands and how many there are, once counted (a
    // window far from the top of a long list knows neither at first).
    let mut t = match (list.refs.is_empty(), list.position(), list.total) {
        (true, _, _) => " Keys 0 of 0 ".to_owned(),
        (false, Some(at), Some(n)) => format!(" Keys {at} of {n} "),
        (false, None, Some(n)) => format!(" Keys … of {n} "),
        (false, Some(at), None) => format!(" Keys {at} of … "),
        (false, None, None) => " Keys ".to_owned(),
    };
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
fn key_cells(
    k: &Key,
    state: &State,
    theme: &Theme,
    soon: i64,
    at_cursor: bool,
    dates: bool,
) -> Vec<KeyCell> {
    let offset = state.settings.utc_offset;
    let when = |t: i64| {
        if dates {
            local_date(t, offset)
        } else {
            relative(t - state.now)
        }
    };
    let expiring =
        k.status == KeyStatus::Active && k.expires_at.is_some_and(|e| e - state.now <= soon);
    let mark = if expiring { " !" } else { "" };
    let (expires, expires_short) = match k.expires_at {
        None => ("never".to_owned(), "never".to_owned()),
        Some(t) => (format!("{}{mark}", when(t)), format!("{}{mark}", when(t))),
    };
    let status_style = match k.status {
        _ if at_cursor => Style::new(),
        KeyStatus::Active => theme.ok(),
        KeyStatus::Expired => theme.error(),
        KeyStatus::Deactivated | KeyStatus::Deleted => theme.dim(),
    };
    let teams = match k.teams.as_slice() {
        [] | [_] => safe(&k.teams.join(", ")),
        [first, rest @ ..] => format!("{} +{}", safe(first), rest.len()),
    };
    let last_used = k.last_used_at;
    vec![
        plain(safe(&k.name)),
        KeyCell {
            long: k.masked(),
            // `kw_` and the `_` say nothing in a column headed Key.
            short: format!("{}…{}", k.public_id, safe(&k.tail)),
            style: Style::new(),
        },
        plain(safe(&k.instance)),
        plain(safe(&k.developer)),
        plain(safe(&k.channel)),
        KeyCell {
            long: safe(&k.teams.join(", ")),
            short: teams,
            style: Style::new(),
        },
        KeyCell {
            long: expires,
            short: expires_short,
            style: if expiring && !at_cursor {
                theme.warning()
            } else {
                Style::new()
            },
        },
        KeyCell {
            long: k.status.as_str().to_owned(),
            // The one status longer than the column's narrowest: cut, it
            // read `deactivat…`.
            short: match k.status {
                KeyStatus::Deactivated => "deact.".to_owned(),
                other => other.as_str().to_owned(),
            },
            style: status_style,
        },
        KeyCell {
            long: last_used.map_or("never".to_owned(), when),
            short: last_used.map_or("never".to_owned(), when),
            style: Style::new(),
        },
    ]
}

/// A time from now in a few cells: `today`, `in 9d`, `3d ago`, `in 4mo`, `2y ago`.
fn relative(seconds: i64) -> String {
    // To the nearest day: a key made with 90 days reads `in 90d`, not 89.
    let days = (seconds.abs() + 43_200) / 86_400;
    if days == 0 {
        return "today".to_owned();
    }
    let span = match days {
        0..100 => format!("{days}d"),
        100..730 => format!("{}mo", days / 30),
        _ => format!("{}y", days / 365),
    };
    if seconds >= 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
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
                "{} ({} {})",
                time(key.last_used_at, "never"),
                key.use_count,
                if key.use_count == 1 { "use" } else { "uses" }
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
