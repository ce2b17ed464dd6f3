//! `view(&State, &mut Frame)`: draws the state, and nothing else. The screen,
//! the tab and the window each draw themselves from their feature's view;
//! every string that came from the store goes through `safe_text::escape`
//! before it reaches a cell, so a key name cannot move the cursor, recolour the
//! screen or write to the clipboard.

use super::directory;
use super::filters;
use super::first_run;
use super::history;
use super::keys;
use super::kit::theme::Theme;
use super::kit::{help, layout, status};
use super::router::{layer, layer_under_help};
use super::state::{Screen, State, Tab};
use keyward_core::safe_text::escape;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

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
        Screen::Setup(setup) => first_run::view::setup(setup, &theme, frame),
        Screen::OfferDemo => first_run::view::offer_demo(state, &theme, frame),
        Screen::Refused(message) => first_run::view::refused(message, &theme, frame),
        Screen::Loading => first_run::view::loading(state, frame),
        Screen::Main => main_screen(state, &theme, frame),
    }
    if state.help {
        let under = layer_under_help(state);
        let role = state.role();
        let keys_tab = under == keys::keymap::KEYS_LAYER || under == keys::keymap::TEAMS_LAYER;
        help::overlay(
            under,
            |action| {
                let needs = keys::keymap::needs(action);
                (keys_tab && role < needs).then(|| needs.as_str())
            },
            &theme,
            frame,
        );
    }
}

fn main_screen(state: &State, theme: &Theme, frame: &mut Frame) {
    let f = layout::frame(frame.area().width, frame.area().height);
    tab_bar(state, theme, frame, f.tabs);
    match state.tab {
        Tab::Keys => keys::view::tab(state, theme, frame, f.body),
        Tab::Filters => filters::view::tab(&state.filters, state.now, theme, frame, f.body),
        Tab::Teams => keys::teams_view::tab(state, theme, frame, f.body),
        Tab::History => history::view::tab(state, theme, frame, f.body),
        Tab::Directory => directory::view::tab(state, theme, frame, f.body),
    }
    status::draw(
        state.status.as_ref(),
        &state.store,
        state.outbox,
        state.settings.delivery,
        theme,
        frame,
        f.status,
    );
    let (layer, role) = (layer(state), state.role());
    let keys_tab = layer == keys::keymap::KEYS_LAYER || layer == keys::keymap::TEAMS_LAYER;
    help::footer(
        layer,
        |action| !keys_tab || role >= keys::keymap::needs(action),
        theme,
        frame,
        f.footer,
    );
    if let Some(m) = &state.modal {
        m.draw(state, theme, frame);
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
    // On a narrow screen the tabs come first; the login shows when it fits whole.
    if used + who.chars().count() <= usize::from(area.width) {
        let room = usize::from(area.width) - used - who.chars().count();
        spans.push(Span::raw(" ".repeat(room)));
        spans.push(Span::styled(who, theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
