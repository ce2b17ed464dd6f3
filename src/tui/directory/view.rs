//! Draws the Directory tab: a line saying what the operator may do here, then
//! four boxes — instances and the selected instance's developers above, teams
//! and operators below — the focused one marked and with its cursor.

use super::{DirectoryTab, Section};
use crate::tui::kit::columns::{Want, fit_text, text_width, widths};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{block, safe};
use crate::tui::state::State;
use keyward_core::domain::model::Role;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

pub fn tab(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let d = &state.directory;
    let [line, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let role = state.role();
    let said = if role == Role::Admin {
        Span::styled(
            " h/l: section · n: add · e: edit · D: remove · ?: every key",
            theme.dim(),
        )
    } else {
        Span::styled(
            format!(" Read-only: you are a {role}; only admins change the directory."),
            theme.warning(),
        )
    };
    frame.render_widget(Paragraph::new(Line::from(said)), line);
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(rest);
    let [instances, developers] =
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(top);
    let [teams, operators] =
        Layout::horizontal([Constraint::Percentage(38), Constraint::Percentage(62)]).areas(bottom);

    let inst_rows: Vec<Vec<String>> = d
        .lists
        .instances
        .iter()
        .map(|i| {
            vec![
                if i.is_retired() {
                    format!("{} (retired)", safe(&i.name))
                } else {
                    safe(&i.name)
                },
                i.cloud.as_str().to_owned(),
                i.max_active.to_string(),
                format!("{}/{}", i.active_keys, i.keys),
                i.url.as_deref().map(safe).unwrap_or_default(),
            ]
        })
        .collect();
    section(
        d,
        Section::Instances,
        Listing {
            title: format!(" Instances ({}) ", d.lists.instances.len()),
            columns: &[
                col("Name", 8, 0),
                col("Cloud", 10, 1),
                col("Limit", 5, 2),
                col("Active", 6, 3),
                col("URL", 12, 4),
            ],
            rows: inst_rows,
        },
        theme,
        frame,
        instances,
    );

    let devs = d.developers();
    let dev_title = match d.instance() {
        Some(i) => format!(" Developers of {} ({}) ", safe(&i.name), devs.len()),
        None => " Developers ".to_owned(),
    };
    let dev_rows: Vec<Vec<String>> = devs
        .iter()
        .map(|dev| {
            vec![
                safe(&dev.name),
                dev.active_keys.to_string(),
                dev.keys.to_string(),
            ]
        })
        .collect();
    section(
        d,
        Section::Developers,
        Listing {
            title: dev_title,
            columns: &[col("Name", 8, 0), col("Active", 6, 1), col("Keys", 4, 2)],
            rows: dev_rows,
        },
        theme,
        frame,
        developers,
    );

    let team_rows: Vec<Vec<String>> = d
        .lists
        .teams
        .iter()
        .map(|t| vec![safe(&t.name), t.keys.to_string()])
        .collect();
    section(
        d,
        Section::Teams,
        Listing {
            title: format!(" Teams ({}) ", d.lists.teams.len()),
            columns: &[col("Name", 8, 0), col("Keys", 4, 1)],
            rows: team_rows,
        },
        theme,
        frame,
        teams,
    );

    let op_rows: Vec<Vec<String>> = d
        .lists
        .operators
        .iter()
        .map(|o| {
            vec![
                safe(&o.login),
                safe(&o.name),
                safe(&o.email),
                o.role.as_str().to_owned(),
            ]
        })
        .collect();
    section(
        d,
        Section::Operators,
        Listing {
            title: format!(" Operators ({}) ", d.lists.operators.len()),
            columns: &[
                col("Login", 6, 0),
                col("Name", 6, 2),
                col("Email", 8, 3),
                col("Role", 7, 1),
            ],
            rows: op_rows,
        },
        theme,
        frame,
        operators,
    );
}

/// A column of a section: its header, the narrowest it is drawn and its
/// rank (the highest rank is left out first on a narrow screen).
struct Col {
    header: &'static str,
    min: u16,
    rank: u8,
}

const fn col(header: &'static str, min: u16, rank: u8) -> Col {
    Col { header, min, rank }
}

/// What a section lists: its title, columns and rows of cells.
struct Listing<'a> {
    title: String,
    columns: &'a [Col],
    rows: Vec<Vec<String>>,
}

/// One section's box: its rows around its cursor; the focused section's
/// title is marked and its cursor row highlighted. Columns are as wide as
/// what they hold, and a value cut short ends with `…`.
fn section(
    d: &DirectoryTab,
    which: Section,
    listing: Listing,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let Listing {
        title,
        columns,
        rows,
    } = listing;
    let focused = d.section == which;
    let cursor = d.cursor(which);
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    let offset = (cursor + 1).saturating_sub(visible);
    let empty = rows.is_empty();
    let shown: Vec<(usize, Vec<String>)> = rows
        .into_iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .collect();
    let wants: Vec<Want> = columns
        .iter()
        .enumerate()
        .map(|(c, col)| {
            let content = shown
                .iter()
                .filter_map(|(_, cells)| cells.get(c))
                .map(|t| text_width(t))
                .chain([text_width(col.header)])
                .max()
                .unwrap_or(0);
            Want {
                min: col.min,
                content,
                short: content,
                rank: col.rank,
            }
        })
        .collect();
    // Borders, the cursor mark and the gap after it.
    let widths = widths(&wants, area.width.saturating_sub(4), 1);
    let kept: Vec<usize> = (0..columns.len()).filter(|&c| widths[c] > 0).collect();
    let table_rows: Vec<Row> = shown
        .into_iter()
        .map(|(i, cells)| {
            let here = i == cursor;
            // The selected instance stays marked while its developers are focused.
            let mark = if here && (focused || which == Section::Instances) {
                "›"
            } else {
                " "
            };
            let mut all = vec![Cell::from(mark)];
            all.extend(kept.iter().map(|&c| {
                Cell::from(fit_text(cells.get(c).map_or("", String::as_str), widths[c]))
            }));
            let row = Row::new(all);
            if here && focused {
                row.style(theme.cursor())
            } else {
                row
            }
        })
        .collect();
    let mut constraints = vec![Constraint::Length(1)];
    constraints.extend(kept.iter().map(|&c| Constraint::Length(widths[c])));
    let mut header = vec![String::new()];
    header.extend(kept.iter().map(|&c| fit_text(columns[c].header, widths[c])));
    let title = if focused {
        format!("▸{}", title.trim_start())
    } else {
        title
    };
    let mut outline = block(fit_text(&title, area.width.saturating_sub(2)));
    if focused {
        outline = outline.border_style(theme.key());
    }
    if empty && d.loaded {
        outline = outline.title_bottom(" none yet ");
    }
    let table = Table::new(table_rows, constraints)
        .header(Row::new(header).style(theme.header()))
        .flex(Flex::Start)
        .column_spacing(1)
        .block(outline);
    frame.render_widget(table, area);
}
