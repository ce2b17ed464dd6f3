//! Snapshots of keys screens at 80×24 and 60×16 (`snapshot_testing` says how).

use crate::tui::snapshot_testing::*;

#[test]
fn status_line_counts_undelivered_notifications() {
    let mut state = keys_state();
    state.settings.delivery = true;
    state.outbox = keyward_core::domain::outbox::OutboxCounts {
        pending: 2,
        failed: 1,
    };
    let text = render(&state, 80, 24);
    assert!(text.contains("✉ 2 pending · 1 failed"), "{text}");
    state.outbox.failed = 0;
    assert!(render(&state, 80, 24).contains("✉ 2 pending "));
    state.outbox.pending = 0;
    assert!(!render(&state, 80, 24).contains('✉'));
    state.outbox.failed = 4;
    snap_both("status_line_failed_notifications", &mut state);
}

#[test]
fn without_delivery_the_badge_says_notifications_only_queue() {
    let mut state = keys_state();
    state.settings.delivery = false;
    state.outbox = keyward_core::domain::outbox::OutboxCounts {
        pending: 46,
        failed: 0,
    };
    let text = render(&state, 80, 24);
    assert!(
        text.contains("✉ 46 queued, no delivery configured"),
        "{text}"
    );
    assert!(!text.contains("pending"), "{text}");
    // Narrower, the badge keeps to half the line and says as much as fits.
    let narrow = render(&state, 60, 16);
    assert!(narrow.contains("✉ 46 queued, no delivery "), "{narrow}");
    snap_both("status_line_no_delivery", &mut state);
}

#[test]
fn keys_tab() {
    let mut state = keys_state();
    snap_both("keys_tab", &mut state);
}

#[test]
fn a_viewers_help_lists_the_changes_with_the_role_they_need() {
    let mut state = keys_state();
    state.help = true;
    if let Some(me) = state.me.as_mut() {
        me.role = keyward_core::domain::model::Role::Viewer;
    }
    snap_both("keys_tab_help_viewer", &mut state);
    let text = render(&state, 120, 40);
    let line = |does: &str| {
        text.lines()
            .find(|l| l.contains(does))
            .unwrap_or_else(|| panic!("{does} not in\n{text}"))
            .to_owned()
    };
    assert!(!line("filter the keys").contains("role"), "{text}");
    for does in ["new key", "deactivate selection", "select all shown"] {
        assert!(line(does).contains("manager role"), "{does}: {text}");
    }
}

#[test]
fn a_viewers_footer_offers_only_what_a_viewer_may_do() {
    let mut state = keys_state();
    let footer = |s: &State| render(s, 120, 24).lines().last().unwrap_or("").to_owned();
    let manager = footer(&state);
    assert!(
        manager.contains("new") && manager.contains("deactivate"),
        "{manager}"
    );
    if let Some(me) = state.me.as_mut() {
        me.role = keyward_core::domain::model::Role::Viewer;
    }
    let viewer = footer(&state);
    for hint in [
        "new",
        "edit",
        "renew",
        "deactivate",
        "delete",
        "teams",
        "select",
    ] {
        assert!(
            !viewer.contains(hint),
            "{hint} offered to a viewer: {viewer}"
        );
    }
    assert!(
        viewer.contains("filter") && viewer.contains("details"),
        "{viewer}"
    );
}

#[test]
fn the_expires_column_shows_one_form_on_every_row_at_every_width() {
    let mut state = keys_state();
    // "Last used" shows never on every row, so the only dates are expiries;
    // one key expires soon and carries the wider `!` mark.
    for key in state.keys.rows.values_mut() {
        key.last_used_at = None;
    }
    let is_date = |w: &str| {
        w.len() == 10 && w.as_bytes()[4] == b'-' && w.as_bytes()[..4].iter().all(u8::is_ascii_digit)
    };
    let is_relative = |w: &str| w == "today" || w.starts_with("in ") || w.ends_with(" ago");
    for width in 60..=200 {
        let text = render(&state, width, 24);
        let rows: Vec<&str> = text.lines().filter(|l| l.contains("kA3f")).collect();
        let dated = rows
            .iter()
            .filter(|l| l.split_whitespace().any(is_date))
            .count();
        let relative = rows
            .iter()
            .filter(|l| {
                l.split('│')
                    .any(|c| c.split("  ").any(|p| is_relative(p.trim())))
            })
            .count();
        assert!(
            dated == 0 || relative == 0,
            "at {width} columns {dated} rows show a date and {relative} a relative time:\n{text}"
        );
        // By the width alone: dates on a wide terminal, `in 9d` on a narrow one.
        if width >= 112 {
            assert_eq!(relative, 0, "at {width} columns:\n{text}");
        } else {
            assert_eq!(dated, 0, "at {width} columns:\n{text}");
        }
    }
}

#[test]
fn keys_tab_with_query_error() {
    let mut state = keys_state();
    let typed = "stauts:active expires:<30d";
    state.keys.filter.input = Input::new(typed.to_owned());
    state.keys.filter.editing = true;
    state.keys.filter.error = Some(
        KeyQuery::parse(typed)
            .expect_err("stauts is no field")
            .to_string(),
    );
    snap_both("keys_tab_query_error", &mut state);
}

#[test]
fn keys_tab_with_detail_pane() {
    let mut state = keys_state();
    state.keys.cursor = 0;
    let mut k = state.keys.rows[&1].clone();
    k.grace_until = Some(NOW + 2 * DAY);
    state.keys.detail = Some(k);
    snap_both("keys_tab_detail", &mut state);
}

#[test]
fn keys_tab_empty() {
    let mut state = main_state();
    state.keys.filter.input = Input::new("team:nobody".to_owned());
    state.keys.filter.applied = "team:nobody".to_owned();
    state.status = Some(Status {
        text: "You are a viewer; creating keys needs the manager role.".to_owned(),
        error: true,
        id: 1,
    });
    snap_both("keys_tab_empty", &mut state);
}

#[test]
fn keys_tab_help_overlay() {
    let mut state = keys_state();
    state.help = true;
    snap_both("keys_tab_help", &mut state);
}

#[test]
fn hostile_names_on_the_keys_tab() {
    let mut state = hostile_state();
    snap_both("hostile_keys_tab", &mut state);
    let text = render(&state, 80, 24);
    // The name column is narrow at 80 columns: the OSC 52 name shows cut short
    // here, whole in the detail pane.
    for shown in ["\\e[31mred\\e[", "\\e]52;c;aGk=", "\\u{200b}"] {
        assert!(text.contains(shown), "{shown} not shown in\n{text}");
    }
    // The operator's login shows in the tab bar where it fits whole.
    let wide = render(&state, 120, 34);
    assert!(wide.contains("mallory\\u{202e} (admin)"), "{wide}");
}

#[test]
fn hostile_names_in_the_detail_pane() {
    let mut state = hostile_state();
    state.keys.cursor = 1;
    state.keys.detail = Some(state.keys.rows[&12].clone());
    snap_both("hostile_detail", &mut state);
    let text = render(&state, 80, 24);
    for shown in ["\\e]52;c;aGk=\\u{7}", "acme\\u{200b}-prod", "c\\e[2Ji"] {
        assert!(text.contains(shown), "{shown} not shown in\n{text}");
    }
}

#[test]
fn hostile_names_on_the_teams_tab() {
    let mut state = hostile_state();
    state.tab = Tab::Teams;
    select(&mut state, 14);
    snap_both("hostile_teams_tab", &mut state);
    let text = render(&state, 80, 24);
    assert!(text.contains("pay\\u{200b}ments"), "{text}");
}

#[test]
fn more_hostile_names_on_the_keys_tab() {
    let mut state = more_hostile_state();
    snap_both("hostile_more_keys_tab", &mut state);
    let text = render(&state, 80, 24);
    // Narrow columns cut the names short: the detail pane shows more.
    for shown in [
        "c1\\u{9b}",
        "ops\\u{9d…",
        "Z\u{336}\u{335}a\u{301}\u{302}l\u{30a}g\u{327}o",
        "🔑 deploy 👩",
        "line\\u{2028}",
    ] {
        assert!(text.contains(shown), "{shown} not shown in\n{text}");
    }
}

#[test]
fn more_hostile_names_in_the_detail_pane() {
    let mut state = more_hostile_state();
    state.keys.detail = Some(state.keys.rows[&21].clone());
    snap_both("hostile_more_detail", &mut state);
    let text = render(&state, 80, 24);
    for shown in [
        "c1\\u{9b}31m\\u{85}x",
        "acme\\e]50;?\\u{7}",
        "iso\\u{2066}la\\u{2067}t",
        "z\\u{200c}w\\u{200d}j",
        "ops\\u{9d}52;c;aGk=",
    ] {
        assert!(text.contains(shown), "{shown} not shown in\n{text}");
    }
}

#[test]
fn separators_and_marks_in_the_detail_pane() {
    let mut state = more_hostile_state();
    state.keys.cursor = 3;
    state.keys.detail = Some(state.keys.rows[&24].clone());
    snap_both("hostile_separators_detail", &mut state);
    let text = render(&state, 80, 24);
    assert!(text.contains("line\\u{2028}sep\\u{2029}"), "{text}");
}

#[test]
fn a_name_as_long_as_names_go_in_the_detail_pane_and_a_confirmation() {
    let mut state = more_hostile_state();
    state.keys.cursor = 4;
    state.keys.detail = Some(state.keys.rows[&25].clone());
    snap_both("hostile_long_name_detail", &mut state);
    select(&mut state, 25);
    select(&mut state, 21);
    press_planned(&mut state, 'x');
    assert!(matches!(state.modal, Some(Modal::Confirm(_))));
    snap_both("hostile_long_name_confirm", &mut state);
}

#[test]
fn more_hostile_names_on_the_teams_tab() {
    let mut state = more_hostile_state();
    state.tab = Tab::Teams;
    select(&mut state, 23);
    snap_both("hostile_more_teams_tab", &mut state);
    let text = render(&state, 80, 24);
    assert!(text.contains("font\\e]50;?\\u{7}"), "{text}");
}

#[test]
fn teams_tab() {
    let mut state = keys_state();
    state.tab = Tab::Teams;
    snap_both("teams_tab", &mut state);
}

/// Keys like the demo store's: long names, long developer logins, keys in
/// many teams, every status, expiries near and far.
/// Name, instance, developer, channel, teams, status, expiry and last use (days).
type DemoRow<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a [&'a str],
    KeyStatus,
    Option<i64>,
    Option<i64>,
);

fn demo_like_state() -> State {
    let mut state = main_state();
    let rows: [DemoRow; 10] = [
        (
            "billing-sync nightly reconciliation",
            "acme-prod",
            "ana.silva",
            "ci",
            &["payments", "finance", "platform"],
            KeyStatus::Active,
            Some(9),
            Some(1),
        ),
        (
            "crm contact export to the marketing warehouse",
            "acme-prod",
            "integration-bot",
            "zapier",
            &["marketing", "data-engineering"],
            KeyStatus::Active,
            Some(120),
            None,
        ),
        (
            "legacy webhook",
            "acme-sandbox",
            "bo.chen",
            "webhook",
            &[],
            KeyStatus::Expired,
            Some(-3),
            Some(40),
        ),
        (
            "old importer",
            "acme-sandbox",
            "bo.chen",
            "cron",
            &["platform"],
            KeyStatus::Deactivated,
            Some(60),
            Some(25),
        ),
        (
            "reporting bot",
            "acme-prod",
            "integration-bot",
            "ci",
            &["data"],
            KeyStatus::Active,
            None,
            Some(0),
        ),
        (
            "partner portal single sign-on bridge",
            "globex-eu-production",
            "maximiliane.oberhauser",
            "partner-api",
            &["security", "identity", "platform", "support"],
            KeyStatus::Active,
            Some(400),
            Some(2),
        ),
        (
            "invoice pdf renderer",
            "acme-prod",
            "li.wei",
            "github-actions",
            &["finance"],
            KeyStatus::Active,
            Some(30),
            Some(3),
        ),
        (
            "support desk ticket sync",
            "initech-support",
            "carla.mendes",
            "webhook",
            &["support", "customer-success"],
            KeyStatus::Active,
            Some(12),
            Some(5),
        ),
        (
            "data lake loader",
            "acme-prod",
            "integration-bot",
            "airflow",
            &["data-engineering", "data", "platform"],
            KeyStatus::Active,
            Some(800),
            Some(1),
        ),
        (
            "mobile app release pipeline",
            "acme-prod",
            "ana.silva",
            "ci",
            &["mobile"],
            KeyStatus::Deleted,
            Some(5),
            None,
        ),
    ];
    let keys = rows
        .iter()
        .enumerate()
        .map(
            |(i, &(name, instance, developer, channel, teams, status, expires, last_used))| {
                key(K {
                    id: i as i64 + 1,
                    name,
                    instance,
                    developer,
                    channel,
                    teams,
                    status,
                    expires,
                    last_used,
                })
            },
        )
        .collect();
    load_keys(&mut state, keys);
    state.keys.cursor = 1;
    select(&mut state, 6);
    state.teams.teams = teams();
    state
}

#[test]
fn keys_tab_fits_demo_like_keys_at_every_size() {
    let mut state = demo_like_state();
    for (w, h) in [(80, 24), (120, 34), (200, 50)] {
        state.width = w;
        state.height = h;
        let text = render(&state, w, h);
        snapshot(&format!("keys_tab_demo_{w}x{h}"), &text);
    }
    let at_80 = render(&state, 80, 24);
    // Every column the issue names stays at 80 columns, in short forms.
    for header in ["Name", "Key", "Dev", "Chan", "Teams", "Expires", "Status"] {
        assert!(at_80.contains(header), "{header} missing:\n{at_80}");
    }
    assert!(at_80.contains('…'), "cut cells say so:\n{at_80}");
    // At 200 columns the teams are whole: spare width went where it was needed.
    let at_200 = render(&state, 200, 50);
    assert!(
        at_200.contains("security, identity, platform, support"),
        "{at_200}"
    );
    assert!(
        at_200.contains("partner portal single sign-on bridge"),
        "{at_200}"
    );
}

#[test]
fn teams_tab_fits_demo_like_keys() {
    let mut state = demo_like_state();
    state.tab = Tab::Teams;
    state.width = 80;
    state.height = 24;
    snapshot("teams_tab_demo_80x24", &render(&state, 80, 24));
}

#[test]
fn an_invalid_key_filter_shows_no_keys_and_why() {
    let mut state = keys_state();
    press(&mut state, KeyCode::Char('/'));
    for c in "status:bogus".chars() {
        press(&mut state, KeyCode::Char(c));
    }
    press(&mut state, KeyCode::Enter);
    snap_both("keys_invalid_filter", &mut state);
}

#[test]
fn a_long_message_beside_the_badge_is_cut_with_an_ellipsis_and_the_badge_keeps_to_its_count() {
    let mut state = keys_state();
    state.outbox = keyward_core::domain::outbox::OutboxCounts {
        pending: 24,
        failed: 0,
    };
    state.status = Some(crate::tui::kit::status::Status {
        text: "Deactivated 98 keys. Skipped 1 key that changed meanwhile \
               (kw_uwVDvDL4_…GS8n already deactivated (final))."
            .to_owned(),
        error: true,
        id: 1,
    });
    let text = render(&state, 80, 24);
    let line = text
        .lines()
        .find(|l| l.contains("Deactivated 98 keys"))
        .unwrap_or_else(|| panic!("no status line in\n{text}"));
    // Cut with `…` before the badge, which keeps to its count.
    assert!(line.trim_end_matches('"').ends_with("✉ 24"), "{line}");
    assert!(!line.contains("(final)"), "{line}");
    let cut = line.rfind('…').unwrap_or(0);
    assert!(cut > line.find("(kw_").unwrap_or(usize::MAX), "{line}");
    assert!(!line.contains("queued"), "{line}");
    // With room, the whole message and the badge's count.
    let wide = render(&state, 200, 50);
    let line = wide
        .lines()
        .find(|l| l.contains("Deactivated 98 keys"))
        .unwrap_or_else(|| panic!("no status line in\n{wide}"));
    assert!(line.contains("already deactivated (final))."), "{line}");
    assert!(line.trim_end_matches('"').ends_with("✉ 24"), "{line}");
}

#[test]
fn a_message_that_quotes_an_escaped_name_is_not_escaped_again_and_a_raw_one_is() {
    let mut state = keys_state();
    // The service's messages quote names escaped already (`escape`).
    state.status = Some(crate::tui::kit::status::Status {
        text: "key kw_x (Eve\\u{202e}evil) is already deleted; that is final".to_owned(),
        error: true,
        id: 1,
    });
    let text = render(&state, 120, 24);
    assert!(text.contains("(Eve\\u{202e}evil)"), "{text}");
    assert!(!text.contains("\\\\u{202e}"), "{text}");
    // A raw one in a message of the screen's own is still shown, not obeyed.
    state.status = Some(crate::tui::kit::status::Status {
        text: "Copied the key of Eve\u{202e}evil".to_owned(),
        error: false,
        id: 2,
    });
    let text = render(&state, 120, 24);
    assert!(text.contains("Eve\\u{202e}evil"), "{text}");
}
