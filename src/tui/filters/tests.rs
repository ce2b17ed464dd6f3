//! `update` tests of the Filters tab and its name prompt, driven by hand-made messages.

use crate::tui::testing::*;

// ---------------------------------------------------------------------------------------------
// Filters tab
// ---------------------------------------------------------------------------------------------

fn mine() -> SavedFilter {
    SavedFilter {
        name: "mine".to_owned(),
        query: "developer:ana".to_owned(),
    }
}

#[test]
fn ready_made_filters_come_first_then_saved_ones() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    assert_eq!(READY_MADE.len(), 5);
    for (i, (name, _)) in READY_MADE.iter().enumerate() {
        let Listed {
            name: shown, saved, ..
        } = filter_at(&s.filters, s.now, i).unwrap();
        assert_eq!(shown, *name);
        assert!(!saved);
    }
    assert!(filter_at(&s.filters, s.now, 5).is_none());
    update(&mut s, Msg::SavedFilters(Ok(vec![mine()])));
    assert_eq!(
        filter_at(&s.filters, s.now, 5),
        Some(Listed {
            name: "mine".to_owned(),
            query: "developer:ana".to_owned(),
            saved: true,
        })
    );
    update(&mut s, ch('G'));
    assert_eq!(s.filters.cursor, 5);
}

#[test]
fn enter_applies_a_ready_made_filter_on_the_keys_tab() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, ch('j'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert_eq!(s.tab, Tab::Keys);
    assert_eq!(s.keys.filter.input.value(), "status:expired");
    assert_eq!(s.keys.filter.applied, "status:expired");
    assert_eq!(
        key_ref_loads(&fx),
        vec![(
            s.keys.generation,
            KeyQuery::parse("status:expired").unwrap()
        )]
    );
}

#[test]
fn deactivated_this_month_is_computed_from_the_store_clock() {
    let mut s = admin_with(1);
    let query = filter_at(&s.filters, s.now, 4).unwrap().query;
    assert_eq!(query, "deactivated:>=2026-05-01");
    s.now = 1_790_000_000;
    assert_eq!(
        filter_at(&s.filters, s.now, 4).unwrap().query,
        "deactivated:>=2026-09-01"
    );
}

#[test]
fn a_typed_query_applies_on_the_keys_tab_and_s_saves_it_under_a_name() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, ch('/'));
    let fx = type_text(&mut s, "team:ops");
    assert!(
        key_ref_loads(&fx).is_empty(),
        "typing on Filters loads nothing"
    );
    let fx = update(&mut s, press(KeyCode::Enter));
    assert_eq!(s.tab, Tab::Keys);
    assert_eq!(s.keys.filter.applied, "team:ops");
    assert_eq!(key_ref_loads(&fx).len(), 1);
    update(&mut s, ch('2'));
    let fx = update(&mut s, ch('s'));
    assert!(quiet(&fx));
    assert_eq!(layer(&s), name_prompt::LAYER);
    assert!(matches!(
        &name_prompt(&s).purpose,
        NamePurpose::SaveFilter { query } if query == "team:ops"
    ));
    type_text(&mut s, "ops keys");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::SaveFilter { name, query }]
            if name == "ops keys" && query == "team:ops"),
        "{fx:?}"
    );
    assert!(s.modal.is_none());
}

#[test]
fn s_with_nothing_typed_saves_the_highlighted_filter_as_ones_own() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, ch('s'));
    assert!(matches!(
        &name_prompt(&s).purpose,
        NamePurpose::SaveFilter { query } if query == "status:active expires:<30d"
    ));
}

#[test]
fn an_empty_filter_name_is_refused_in_the_prompt() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, ch('s'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty());
    assert!(name_prompt(&s).error.is_some());
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
}

#[test]
fn capital_r_on_a_ready_made_filter_is_refused() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    let fx = update(&mut s, ch('R'));
    assert!(s.modal.is_none());
    assert!(quiet(&fx));
    assert!(error_status(&s));
}

#[test]
fn capital_r_on_a_saved_filter_renames_it() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, Msg::SavedFilters(Ok(vec![mine()])));
    update(&mut s, ch('G'));
    update(&mut s, ch('R'));
    let p = name_prompt(&s);
    assert!(matches!(&p.purpose, NamePurpose::RenameFilter { from } if from == "mine"));
    assert_eq!(p.input.value(), "mine");
    clear_line(&mut s);
    type_text(&mut s, "ours");
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::RenameFilter { from, to }] if from == "mine" && to == "ours"),
        "{fx:?}"
    );
    assert!(s.modal.is_none());
}

#[test]
fn capital_d_on_a_saved_filter_asks_then_deletes_it() {
    let mut s = admin_with(2);
    update(&mut s, ch('2'));
    update(&mut s, Msg::SavedFilters(Ok(vec![mine()])));
    update(&mut s, ch('G'));
    let fx = update(&mut s, ch('D'));
    assert!(fx.is_empty());
    let c = confirm(&s);
    assert!(c.lines.join(" ").contains("mine: developer:ana"));
    let fx = update(&mut s, ch('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::DeleteFilter(name)] if name == "mine"),
        "{fx:?}"
    );
    // A ready-made one cannot be deleted.
    update(&mut s, ch('g'));
    let fx = update(&mut s, ch('D'));
    assert!(s.modal.is_none());
    assert!(quiet(&fx));
    assert!(error_status(&s));
}

#[test]
fn a_leaked_key_pasted_into_the_filters_query_keeps_only_its_public_id() {
    let mut s = admin_with(3);
    update(&mut s, ch('2'));
    let leaked = issued(9, "leaked");
    let token = leaked.token.expose().to_owned();
    update(&mut s, ch('/'));
    for c in token.chars() {
        update(&mut s, ch(c));
    }
    let shown = s.filters.query.input.value().to_owned();
    assert_eq!(shown, format!("id:{}", leaked.key.public_id));
    let secret = &token[12..44];
    assert!(!format!("{:?}", s.filters.query).contains(secret));
    assert!(status_text(&s).contains("keeps only its public id"));
}
