//! `update` tests of the Keys and Teams tabs: the list, selection, roles, deactivate and delete, bulk teams, driven by hand-made messages.

use crate::tui::testing::*;

// ---------------------------------------------------------------------------------------------
// Keys list
// ---------------------------------------------------------------------------------------------

fn page_of(generation: u64, from: KeyPageFrom, refs: Vec<KeyRef>) -> Msg {
    Msg::KeyPage {
        generation,
        from,
        limit: crate::tui::keys::PAGE,
        result: Ok(KeyPage { refs, kept: vec![] }),
    }
}

fn page_loads(fx: &[Effect]) -> Vec<(u64, KeyPageFrom)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::LoadKeyPage {
                generation, from, ..
            } => Some((*generation, from.clone())),
            _ => None,
        })
        .collect()
}

/// A long list is a window of pages: the first shows at once and is counted
/// after; the page beyond is asked for (once) as the cursor nears an edge;
/// `G` and `g` replace the window with a page from either end; `a` asks the
/// store for every key of the filter.
#[test]
fn a_long_list_is_a_window_of_pages_that_follows_the_cursor() {
    use crate::tui::keys::PAGE;
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    update(&mut s, Msg::Started(Ok(operator(Role::Admin))));
    let g = s.keys.generation;
    let all = refs_of(&keys(1000));
    let fx = update(&mut s, page_of(g, KeyPageFrom::Top, all[..PAGE].to_vec()));
    assert!(s.keys.at_start && !s.keys.at_end && !s.keys.stale());
    assert_eq!(row_loads(&fx)[0][0], 1, "drawn at once");
    let rows_at = fx
        .iter()
        .position(|e| matches!(e, Effect::LoadKeyRows { .. }));
    let count_at = fx
        .iter()
        .position(|e| matches!(e, Effect::CountKeys { at: None, .. }));
    assert!(
        rows_at.is_some() && rows_at < count_at,
        "counted after the rows on screen are asked for: {fx:?}"
    );
    assert_eq!((s.keys.position(), s.keys.total), (Some(1), None));
    update(
        &mut s,
        Msg::KeyCount {
            generation: g,
            result: Ok(KeyCount {
                total: 1000,
                before: None,
            }),
        },
    );
    assert_eq!((s.keys.position(), s.keys.total), (Some(1), Some(1000)));

    // Down the window: the page after its last key, asked for once.
    let mut asked = Vec::new();
    for _ in 0..12 {
        asked.extend(page_loads(&update(&mut s, press(KeyCode::PageDown))));
    }
    assert_eq!(asked, vec![(g, KeyPageFrom::After(all[PAGE - 1].clone()))]);
    let fx = update(
        &mut s,
        page_of(g, asked[0].1.clone(), all[PAGE..2 * PAGE].to_vec()),
    );
    assert_eq!(s.keys.refs[..], all[..2 * PAGE]);
    assert!(
        page_loads(&fx).is_empty(),
        "the cursor is far from the new edge"
    );
    let at = s.keys.position();
    // A page asked for an older window is dropped.
    update(
        &mut s,
        page_of(
            g,
            KeyPageFrom::After(all[PAGE - 1].clone()),
            all[..3].to_vec(),
        ),
    );
    assert_eq!((s.keys.refs.len(), s.keys.position()), (2 * PAGE, at));

    // G: a page from the bottom takes the window's place, the cursor on the last key.
    let fx = update(&mut s, ch('G'));
    let [(g2, KeyPageFrom::Bottom)] = page_loads(&fx)[..] else {
        panic!("{fx:?}")
    };
    assert!(g2 > g);
    update(
        &mut s,
        page_of(g2, KeyPageFrom::Bottom, all[1000 - PAGE..].to_vec()),
    );
    assert!(!s.keys.at_start && s.keys.at_end);
    assert_eq!(s.keys.current(), all.last());
    assert_eq!((s.keys.position(), s.keys.total), (Some(1000), Some(1000)));
    // Up the window: the page before its first key.
    let mut asked = Vec::new();
    for _ in 0..12 {
        asked.extend(page_loads(&update(&mut s, press(KeyCode::PageUp))));
    }
    assert_eq!(
        asked,
        vec![(g2, KeyPageFrom::Before(all[1000 - PAGE].clone()))]
    );
    let here = s.keys.current().cloned();
    update(
        &mut s,
        page_of(
            g2,
            asked[0].1.clone(),
            all[1000 - 2 * PAGE..1000 - PAGE].to_vec(),
        ),
    );
    assert_eq!(s.keys.refs[..], all[1000 - 2 * PAGE..]);
    assert_eq!(
        s.keys.current().cloned(),
        here,
        "the cursor stays on its key"
    );
    let position = s.keys.position().unwrap() as usize;
    assert_eq!(all[position - 1], *s.keys.current().unwrap());

    // `a`: every key of the filter, from the store.
    let fx = update(&mut s, ch('a'));
    assert!(s.keys.selected.is_empty());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::LoadAllKeyRefs { generation, .. } if *generation == g2))
    );
    update(
        &mut s,
        Msg::AllKeyRefs {
            generation: g2,
            result: Ok(all.clone()),
        },
    );
    assert_eq!(s.keys.selected.len(), 1000);

    // g: back to the top.
    let fx = update(&mut s, ch('g'));
    let [(g3, KeyPageFrom::Top)] = page_loads(&fx)[..] else {
        panic!("{fx:?}")
    };
    update(
        &mut s,
        Msg::KeyPage {
            generation: g3,
            from: KeyPageFrom::Top,
            limit: PAGE,
            result: Ok(KeyPage {
                refs: all[..PAGE].to_vec(),
                kept: all.iter().map(|r| r.id).collect(),
            }),
        },
    );
    assert_eq!((s.keys.cursor, s.keys.position()), (0, Some(1)));
    assert_eq!(
        s.keys.selected.len(),
        1000,
        "the filter still lists them all"
    );
}

/// A count that comes after a page was put before the window still places
/// the cursor right: the key it counted before says where the window starts.
#[test]
fn a_count_that_comes_after_a_page_above_still_places_the_cursor() {
    use crate::tui::keys::PAGE;
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    update(&mut s, Msg::Started(Ok(operator(Role::Admin))));
    let all = refs_of(&keys(2000));
    let g = s.keys.generation;
    update(&mut s, page_of(g, KeyPageFrom::Top, all[..PAGE].to_vec()));
    // A reload from a key deep in the list (another process changed the store).
    s.keys.at_start = false;
    s.keys.refs = all[1000..1000 + PAGE].to_vec();
    s.keys.cursor = 0;
    s.keys.offset = 0;
    let fx = update(&mut s, Msg::StoreChanged);
    let Some((g2, from)) = page_loads(&fx).into_iter().next() else {
        panic!("{fx:?}")
    };
    assert_eq!(from, KeyPageFrom::From(all[1000].clone()));
    let fx = update(&mut s, page_of(g2, from, all[1000..1000 + PAGE].to_vec()));
    // The count of the keys before key 1000 is on its way, and so is the
    // page above: the page comes first.
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CountKeys { at: Some(k), .. } if *k == all[1000]))
    );
    let above = page_loads(&fx)
        .into_iter()
        .find(|(_, f)| matches!(f, KeyPageFrom::Before(_)))
        .expect("the page above, the cursor being near the window's start");
    update(
        &mut s,
        page_of(g2, above.1, all[1000 - PAGE..1000].to_vec()),
    );
    update(
        &mut s,
        Msg::KeyCount {
            generation: g2,
            result: Ok(KeyCount {
                total: 2000,
                before: Some(1000),
            }),
        },
    );
    assert_eq!(s.keys.before, Some(1000 - PAGE as u64));
    let at = s.keys.position().unwrap() as usize;
    assert_eq!(all[at - 1], *s.keys.current().unwrap());
}

/// Keys deleted elsewhere from the end of the list while the screen shows
/// it: the rows left fill the screen, with no blank rows under the last.
#[test]
fn keys_gone_from_the_end_leave_no_blank_rows_at_the_bottom() {
    let mut s = admin_with(100);
    update(&mut s, ch('G'));
    let h = layout::visible_rows(Tab::Keys, 80, 24, false);
    assert_eq!((s.keys.cursor, s.keys.offset), (99, 100 - h));
    let generation = s.keys.generation;
    let page = whole_list(&s, generation, Ok(refs_of(&keys(97))));
    update(&mut s, page);
    assert_eq!((s.keys.cursor, s.keys.offset), (96, 97 - h));
}

#[test]
fn moving_through_the_keys_requests_only_rows_not_yet_loaded_or_asked_for() {
    let mut s = State::new(UiSettings::default(), "/tmp/k.db".into(), None);
    update(&mut s, Msg::Started(Ok(operator(Role::Admin))));
    let g = s.keys.generation;
    let all = keys(100);
    let page = whole_list(&s, g, Ok(refs_of(&all)));
    let fx = update(&mut s, page);
    // 80×24 shows 17 rows; a page above and below the viewport is read ahead.
    let h = layout::visible_rows(Tab::Keys, 80, 24, false) as i64;
    assert_eq!(h, 17);
    assert_eq!(row_loads(&fx), vec![(1..=2 * h).collect::<Vec<_>>()]);

    // j and k inside what is already asked for read nothing.
    let fx = update(&mut s, ch('j'));
    assert_eq!(s.keys.cursor, 1);
    assert!(row_loads(&fx).is_empty());
    let fx = update(&mut s, ch('k'));
    assert_eq!(s.keys.cursor, 0);
    assert!(row_loads(&fx).is_empty());

    // A page down moves the viewport by one row past the asked-for window.
    update(&mut s, ch('j'));
    let fx = update(&mut s, press(KeyCode::PageDown));
    assert_eq!(s.keys.cursor, 18);
    assert_eq!(s.keys.offset, 2);
    assert_eq!(row_loads(&fx), vec![vec![35, 36]]);

    // Rows that arrived are not asked for again.
    update(
        &mut s,
        Msg::KeyRows {
            generation: g,
            now: NOW,
            result: Ok(all[..36].to_vec()),
        },
    );
    let fx = update(&mut s, ch('G'));
    assert_eq!(s.keys.cursor, 99);
    assert_eq!(s.keys.offset, 100 - 17);
    assert_eq!(row_loads(&fx), vec![(67..=100).collect::<Vec<_>>()]);

    let fx = update(&mut s, ch('g'));
    assert_eq!(s.keys.cursor, 0);
    assert_eq!(s.keys.offset, 0);
    assert!(row_loads(&fx).is_empty());

    // The cursor stops at both ends.
    update(&mut s, ch('k'));
    assert_eq!(s.keys.cursor, 0);
    update(&mut s, ch('G'));
    update(&mut s, ch('j'));
    assert_eq!(s.keys.cursor, 99);
}

#[test]
fn space_selects_the_key_and_moves_down_and_space_again_unselects() {
    let mut s = admin_with(5);
    update(&mut s, ch(' '));
    assert_eq!(s.keys.cursor, 1);
    assert_eq!(
        s.keys.selected.get(&1),
        Some(&KeyRef {
            id: 1,
            public_id: public_id(1),
            name: "key-001".to_owned(),
        })
    );
    update(&mut s, ch(' '));
    assert_eq!(
        s.keys.selected.keys().copied().collect::<Vec<_>>(),
        vec![1, 2]
    );
    update(&mut s, ch('k'));
    update(&mut s, ch(' '));
    assert_eq!(
        s.keys.selected.keys().copied().collect::<Vec<_>>(),
        vec![1],
        "space on a selected key unselects it"
    );
}

#[test]
fn a_selects_every_filtered_key_and_capital_a_selects_none() {
    let mut s = admin_with(7);
    let fx = update(&mut s, ch('a'));
    assert_eq!(s.keys.selected.len(), 7);
    assert!(status_text(&s).contains("7 keys selected"));
    assert!(quiet(&fx));
    update(&mut s, ch('A'));
    assert!(s.keys.selected.is_empty());
}

#[test]
fn enter_opens_the_key_and_its_detail_shows_when_it_arrives() {
    let mut s = admin_with(3);
    update(&mut s, ch('j'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::OpenKey(id)] if *id == public_id(2)),
        "{fx:?}"
    );
    assert!(s.keys.detail.is_none());
    let mut opened = key(2, "key-002");
    opened.use_count = 7;
    update(&mut s, Msg::KeyOpened(Ok(opened)));
    assert_eq!(s.keys.detail.as_ref().map(|k| k.id), Some(2));
    assert_eq!(s.keys.rows[&2].use_count, 7, "the row shows what was read");
    // Moving away closes it.
    update(&mut s, ch('j'));
    assert!(s.keys.detail.is_none());
}

#[test]
fn a_detail_for_a_key_no_longer_under_the_cursor_is_not_shown() {
    let mut s = admin_with(3);
    update(&mut s, press(KeyCode::Enter));
    update(&mut s, ch('j'));
    update(&mut s, Msg::KeyOpened(Ok(key(1, "key-001"))));
    assert!(s.keys.detail.is_none());
}

#[test]
fn esc_closes_the_detail_first_then_clears_the_filter() {
    let mut s = admin_with(3);
    update(&mut s, ch('/'));
    type_text(&mut s, "key");
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(layer(&s), KEYS_LAYER);
    assert_eq!(s.keys.filter.applied, "key");
    update(&mut s, Msg::KeyOpened(Ok(key(1, "key-001"))));
    assert!(s.keys.detail.is_some());

    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(s.keys.detail.is_none());
    assert_eq!(s.keys.filter.input.value(), "key");
    assert!(fx.is_empty());

    let fx = update(&mut s, press(KeyCode::Esc));
    assert_eq!(s.keys.filter.input.value(), "");
    assert_eq!(s.keys.filter.applied, "");
    assert_eq!(
        key_ref_loads(&fx),
        vec![(s.keys.generation, KeyQuery::default())]
    );
}

// ---------------------------------------------------------------------------------------------
// Filter line
// ---------------------------------------------------------------------------------------------

#[test]
fn typing_a_valid_filter_reloads_the_keys_with_a_new_generation() {
    let mut s = admin_with(3);
    update(&mut s, ch('/'));
    assert_eq!(layer(&s), query_line::LAYER);
    let before = s.keys.generation;
    type_text(&mut s, "status:activ");
    let fx = update(&mut s, ch('e'));
    let loads = key_ref_loads(&fx);
    assert_eq!(loads.len(), 1, "{fx:?}");
    let (generation, query) = &loads[0];
    assert!(*generation > before);
    assert_eq!(*generation, s.keys.generation);
    assert_eq!(*query, KeyQuery::parse("status:active").unwrap());
    assert_eq!(s.keys.filter.applied, "status:active");
    assert!(s.keys.filter.error.is_none());
    assert!(s.keys.loading);
}

#[test]
fn a_pasted_key_is_searched_by_its_public_id_and_its_secret_leaves_the_line() {
    let mut s = admin_with(3);
    let leaked = issued(9, "leaked");
    let token = leaked.token.expose().to_owned();
    let id = leaked.key.public_id.clone();
    update(&mut s, ch('/'));
    type_text(&mut s, "status:active ");
    let mut loads = Vec::new();
    for c in token.chars() {
        loads.extend(key_ref_loads(&update(&mut s, ch(c))));
    }
    let shown = s.keys.filter.input.value().to_owned();
    assert_eq!(shown, format!("status:active id:{id}"));
    assert_eq!(s.keys.filter.applied, shown);
    assert!(s.keys.filter.error.is_none());
    let (_, query) = loads.last().expect("the key's search was loaded");
    assert_eq!(
        *query,
        KeyQuery::parse(&format!("status:active id:{id}")).unwrap()
    );
    assert!(
        status_text(&s).contains("keeps only its public id"),
        "{}",
        status_text(&s)
    );
    let secret = &token[12..44];
    assert!(!format!("{:?}", s.keys.filter).contains(secret));
}

#[test]
fn letters_typed_into_the_filter_line_are_text_not_commands() {
    let mut s = admin_with(3);
    update(&mut s, ch('/'));
    type_text(&mut s, "qnxD");
    assert!(!s.quit);
    assert!(s.modal.is_none());
    assert_eq!(s.keys.filter.input.value(), "qnxD");
}

#[test]
fn an_invalid_filter_says_at_which_column_and_loads_nothing() {
    let mut s = admin_with(3);
    update(&mut s, ch('/'));
    type_text(&mut s, "status:sleepin");
    let fx = update(&mut s, ch('g'));
    assert!(fx.is_empty(), "{fx:?}");
    let error = s.keys.filter.error.as_deref().unwrap_or_default();
    assert!(error.contains("column"), "{error}");
    assert!(s.keys.refs.is_empty(), "no keys shown under it");
    // Enter leaves the line but applies nothing.
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty());
    assert!(!s.keys.filter.editing);
}

#[test]
fn esc_on_the_filter_line_clears_it_and_shows_every_key_again() {
    let mut s = admin_with(3);
    update(&mut s, ch('/'));
    type_text(&mut s, "status:sleeping");
    assert!(s.keys.filter.error.is_some());
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(!s.keys.filter.editing);
    assert_eq!(s.keys.filter.input.value(), "");
    assert!(s.keys.filter.error.is_none());
    assert_eq!(
        key_ref_loads(&fx),
        vec![(s.keys.generation, KeyQuery::default())]
    );
}

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

#[test]
fn a_viewer_cannot_create_edit_renew_deactivate_delete_or_change_teams() {
    let mut s = main_with(Role::Viewer, keys(3));
    for c in ['n', 'e', 'r', 'x', 'D', 't'] {
        s.status = None;
        let fx = update(&mut s, ch(c));
        assert!(s.modal.is_none(), "{c}: {:?}", s.modal);
        assert!(quiet(&fx), "{c}: {fx:?}");
        assert!(error_status(&s), "{c}");
        assert!(status_text(&s).contains("viewer"), "{c}: {:?}", s.status);
    }
    // Looking is allowed.
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(matches!(fx.as_slice(), [Effect::OpenKey(_)]));
}

#[test]
fn a_viewer_cannot_change_teams_from_the_teams_tab_either() {
    let mut s = main_with(Role::Viewer, keys(3));
    update(&mut s, ch('3'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(s.modal.is_none());
    assert!(quiet(&fx));
    assert!(error_status(&s));
}

// ---------------------------------------------------------------------------------------------
// Deactivate and delete
// ---------------------------------------------------------------------------------------------

#[test]
fn deactivating_asks_the_service_for_a_plan_of_exactly_the_key_under_the_cursor() {
    let mut s = admin_with(3);
    update(&mut s, ch('j'));
    let fx = update(&mut s, ch('x'));
    assert!(
        matches!(fx.as_slice(), [Effect::PlanBulk { action: BulkAction::Deactivate, ids }] if *ids == vec![2]),
        "{fx:?}"
    );
    assert!(s.modal.is_none(), "the window waits for the plan");
    let plan = plan_from_rows(&s, &fx);
    update(&mut s, plan);
    assert_eq!(layer(&s), confirm::IRREVERSIBLE_LAYER);
    let c = confirm(&s);
    assert_eq!(c.title, "Deactivate 1 key?");
    let text = c.lines.join("\n");
    assert!(text.contains("This key will be deactivated."), "{text}");
    assert!(text.contains("key-002"), "{text}");
    assert!(text.contains(&public_id(2)), "{text}");
    for w in DEACTIVATION_WARNINGS {
        assert!(text.contains(w), "missing {w:?} in {text}");
    }
}

#[test]
fn no_on_the_deactivation_leaves_the_key_and_sends_nothing() {
    let mut s = admin_with(3);
    press_planned(&mut s, 'x');
    let fx = update(&mut s, ch('n'));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
    press_planned(&mut s, 'x');
    let fx = update(&mut s, press(KeyCode::Esc));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
}

#[test]
fn yes_deactivates_exactly_the_key_named() {
    let mut s = admin_with(3);
    update(&mut s, ch('j'));
    press_planned(&mut s, 'x');
    let fx = update(&mut s, ch('y'));
    assert_eq!(
        applied(&fx),
        Some((BulkAction::Deactivate, vec![public_id(2)]))
    );
    assert!(s.modal.is_none());
}

#[test]
fn enter_does_nothing_in_the_deactivate_window_and_its_hint_says_so() {
    let mut s = admin_with(3);
    press_planned(&mut s, 'x');
    for _ in 0..3 {
        let fx = update(&mut s, press(KeyCode::Enter));
        assert!(fx.is_empty(), "{fx:?}");
    }
    assert!(matches!(confirm(&s).pending, Pending::Bulk(..)));
    let layer = layer(&s);
    assert!(
        layer.note.contains("Enter does nothing"),
        "{:?}",
        layer.note
    );
    // The same for delete.
    update(&mut s, ch('n'));
    press_planned(&mut s, 'D');
    assert!(update(&mut s, press(KeyCode::Enter)).is_empty());
    assert!(matches!(confirm(&s).pending, Pending::Bulk(..)));
}

#[test]
fn deactivating_a_selection_targets_every_selected_key_not_the_cursor() {
    let mut s = admin_with(6);
    update(&mut s, ch(' '));
    update(&mut s, ch('j'));
    update(&mut s, ch(' '));
    update(&mut s, ch(' '));
    assert_eq!(s.keys.cursor, 4);
    press_planned(&mut s, 'x');
    let c = confirm(&s);
    assert_eq!(c.title, "Deactivate 3 keys?");
    assert!(!c.lines.join("\n").contains("key-005"));
    let fx = update(&mut s, ch('y'));
    assert_eq!(
        applied(&fx),
        Some((
            BulkAction::Deactivate,
            vec![public_id(1), public_id(3), public_id(4)]
        ))
    );
}

#[test]
fn every_key_is_named_in_the_scrolling_list_up_to_its_bound() {
    use crate::tui::windows::confirm::NAMED_IN_CONFIRM;
    let n = NAMED_IN_CONFIRM + 3;
    let mut s = admin_with(n as i64);
    update(&mut s, ch('a'));
    press_planned(&mut s, 'x');
    let c = confirm(&s);
    assert_eq!(c.title, format!("Deactivate {n} keys?"));
    let text = c.lines.join("\n");
    for i in [1, 6, NAMED_IN_CONFIRM] {
        assert!(text.contains(&format!("key-{i:03}")), "key-{i:03}");
    }
    assert!(!text.contains(&format!("key-{:03}", NAMED_IN_CONFIRM + 1)));
    assert!(text.contains("… and 3 more"));
}

/// Twelve keys: 3 deactivated, 2 deleted, 1 expired, 6 active.
fn mixed_keys() -> Vec<Key> {
    let mut list = keys(12);
    for i in [1, 4, 7] {
        list[i].status = KeyStatus::Deactivated;
    }
    for i in [2, 9] {
        list[i].status = KeyStatus::Deleted;
    }
    list[5].status = KeyStatus::Expired;
    list
}

#[test]
fn the_plan_names_the_keys_it_skips_and_why_and_yes_applies_only_the_rest() {
    let mut s = main_with(Role::Admin, mixed_keys());
    update(&mut s, ch('a'));
    press_planned(&mut s, 'x');
    let c = confirm(&s);
    assert_eq!(c.title, "Deactivate 6 keys?");
    let text = c.lines.join("\n");
    assert!(
        text.contains("12 selected: 6 will be deactivated, 3 are already deactivated (final), 2 are already deleted (final), 1 is expired, so no longer working."),
        "{text}"
    );
    assert!(
        text.contains("Skipped, already deactivated (final):"),
        "{text}"
    );
    assert!(
        text.contains("key-002") && text.contains("key-008"),
        "{text}"
    );
    assert!(
        text.contains("Skipped, expired, so no longer working:"),
        "{text}"
    );
    // Six keys: no number to type.
    assert_eq!(layer(&s), confirm::IRREVERSIBLE_LAYER);
    let fx = update(&mut s, ch('y'));
    let (_, ids) = applied(&fx).unwrap();
    let active: Vec<String> = [1, 4, 7, 9, 11, 12].map(public_id).to_vec();
    assert_eq!(ids, active);
}

#[test]
fn a_plan_with_nothing_to_apply_says_why_and_opens_nothing() {
    let mut closed = keys(1);
    closed[0].status = KeyStatus::Deleted;
    let mut s = main_with(Role::Admin, closed);
    press_planned(&mut s, 'x');
    assert!(s.modal.is_none());
    assert!(error_status(&s), "{}", status_text(&s));
    assert!(
        status_text(&s).contains("already deleted"),
        "{}",
        status_text(&s)
    );
}

#[test]
fn more_than_ten_keys_ask_for_their_number_and_a_wrong_number_refuses() {
    let mut s = admin_with(12);
    update(&mut s, ch('a'));
    press_planned(&mut s, 'x');
    assert_eq!(layer(&s), confirm::TYPED_LAYER);
    // y with nothing typed, Enter, letters: refused or ignored.
    assert!(update(&mut s, ch('y')).is_empty());
    assert!(
        confirm(&s)
            .count_to_type()
            .unwrap()
            .2
            .is_some_and(|r| r.contains("Type 12"))
    );
    assert!(update(&mut s, press(KeyCode::Enter)).is_empty());
    type_text(&mut s, "1a3");
    assert_eq!(confirm(&s).count_to_type().unwrap().1.value(), "13");
    assert!(update(&mut s, ch('y')).is_empty(), "13 is not 12");
    assert!(matches!(s.modal, Some(Modal::Confirm(_))));
    update(&mut s, press(KeyCode::Backspace));
    type_text(&mut s, "2");
    let fx = update(&mut s, ch('y'));
    let (action, ids) = applied(&fx).unwrap();
    assert_eq!(action, BulkAction::Deactivate);
    assert_eq!(ids.len(), 12);
    assert!(s.modal.is_none());
}

#[test]
fn ten_keys_or_fewer_need_no_number() {
    let mut s = admin_with(10);
    update(&mut s, ch('a'));
    press_planned(&mut s, 'D');
    assert_eq!(layer(&s), confirm::IRREVERSIBLE_LAYER);
    assert!(confirm(&s).count_to_type().is_none());
}

#[test]
fn a_finished_deactivation_says_so_clears_the_selection_and_reloads() {
    let mut s = admin_with(4);
    update(&mut s, ch(' '));
    update(&mut s, ch(' '));
    press_planned(&mut s, 'x');
    update(&mut s, ch('y'));
    let fx = update(
        &mut s,
        applied_msg(
            BulkAction::Deactivate,
            vec![key(1, "key-001"), key(2, "key-002")],
        ),
    );
    assert!(status_text(&s).contains("Deactivated 2 keys"));
    assert!(!error_status(&s));
    assert!(s.keys.selected.is_empty());
    assert!(s.modal.is_none(), "no replacement offer for two keys");
    assert_eq!(key_ref_loads(&fx).len(), 1);
    // Team counts are read again only where they show.
    assert!(!fx.iter().any(|e| matches!(e, Effect::LoadTeams)));
    update(&mut s, ch('3'));
    let fx = update(
        &mut s,
        applied_msg(BulkAction::Deactivate, vec![key(1, "key-001")]),
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadTeams)));
}

#[test]
fn keys_that_changed_meanwhile_are_skipped_and_named_in_the_status() {
    let mut s = admin_with(4);
    update(&mut s, ch('a'));
    press_planned(&mut s, 'x');
    update(&mut s, ch('y'));
    let mut gone = key(3, "key-003");
    gone.status = KeyStatus::Deactivated;
    update(
        &mut s,
        Msg::BulkApplied {
            action: BulkAction::Deactivate,
            result: Ok(BulkOutcome {
                done: vec![key(1, "key-001"), key(2, "key-002"), key(4, "key-004")],
                skipped: vec![(gone.clone(), SkipReason::AlreadyDeactivated)],
            }),
        },
    );
    let text = status_text(&s);
    assert!(text.contains("Deactivated 3 keys."), "{text}");
    assert!(
        text.contains("Skipped 1 key that changed meanwhile"),
        "{text}"
    );
    assert!(text.contains(&gone.masked()), "{text}");
}

#[test]
fn a_failed_deactivation_says_why_and_keeps_the_selection() {
    let mut s = admin_with(4);
    update(&mut s, ch(' '));
    press_planned(&mut s, 'x');
    update(&mut s, ch('y'));
    let fx = update(
        &mut s,
        Msg::BulkApplied {
            action: BulkAction::Deactivate,
            result: Err(Error::store("the store is locked")),
        },
    );
    assert!(error_status(&s));
    assert_eq!(s.keys.selected.len(), 1);
    assert!(quiet(&fx));
}

#[test]
fn deleting_asks_first_and_yes_deletes() {
    let mut s = admin_with(3);
    let fx = press_planned(&mut s, 'D');
    assert!(quiet(&fx));
    let c = confirm(&s);
    assert_eq!(c.title, "Delete 1 key?");
    let text = c.lines.join("\n");
    assert!(text.contains("key-001"));
    assert!(text.contains("history stays"), "{text}");
    assert!(
        text.contains(DEACTIVATION_WARNINGS[0]),
        "an active key is deactivated first: {text}"
    );
    let fx = update(&mut s, ch('y'));
    assert_eq!(applied(&fx), Some((BulkAction::Delete, vec![public_id(1)])));
    let fx = update(
        &mut s,
        applied_msg(BulkAction::Delete, vec![key(1, "key-001")]),
    );
    assert!(status_text(&s).contains("Deleted key-001"));
    assert!(s.modal.is_none(), "a deleted key gets no replacement offer");
    assert_eq!(key_ref_loads(&fx).len(), 1);
}

#[test]
fn deleting_a_deactivated_key_does_not_repeat_the_deactivation_warnings() {
    let mut k = key(1, "old");
    k.status = KeyStatus::Deactivated;
    let mut s = main_with(Role::Admin, vec![k]);
    press_planned(&mut s, 'D');
    let text = confirm(&s).lines.join("\n");
    assert!(!text.contains(DEACTIVATION_WARNINGS[0]), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Selection: exact, never hidden
// ---------------------------------------------------------------------------------------------

#[test]
fn keys_that_leave_the_filter_leave_the_selection_and_x_never_targets_them() {
    let mut s = admin_with(5);
    update(&mut s, ch('a'));
    assert_eq!(s.keys.selected.len(), 5);
    // A reload (after a change, or another filter) without keys 2 and 4.
    let generation = s.keys.generation;
    let shown: Vec<Key> = keys(5)
        .into_iter()
        .filter(|k| k.id != 2 && k.id != 4)
        .collect();
    let page = whole_list(&s, generation, Ok(refs_of(&shown)));
    update(&mut s, page);
    assert_eq!(
        s.keys.selected.keys().copied().collect::<Vec<_>>(),
        vec![1, 3, 5]
    );
    assert!(
        status_text(&s).contains("Unselected 2 keys no longer in the filter; 3 selected."),
        "{}",
        status_text(&s)
    );
    let fx = update(&mut s, ch('x'));
    assert!(
        matches!(fx.as_slice(), [Effect::PlanBulk { ids, .. }, ..] if *ids == vec![1, 3, 5]),
        "{fx:?}"
    );
}

#[test]
fn keys_typed_ahead_of_a_filters_keys_never_act_on_the_last_filters() {
    // The walk-through's near miss: a filter typed, then `Enter a x` at once,
    // while the keys on screen were still the last filter's (every key).
    let mut s = admin_with(5);
    update(&mut s, ch('/'));
    type_text(&mut s, "zzznotthere");
    assert!(s.keys.loading);
    update(&mut s, press(KeyCode::Enter));
    update(&mut s, ch('a'));
    assert!(s.keys.selected.is_empty());
    assert!(
        status_text(&s).contains("still loading"),
        "{}",
        status_text(&s)
    );
    for c in ['x', 'D', 't'] {
        let fx = update(&mut s, ch(c));
        assert!(
            !fx.iter()
                .any(|e| matches!(e, Effect::PlanBulk { .. } | Effect::LoadTeamMembership(_))),
            "{c}: {fx:?}"
        );
        assert!(s.modal.is_none(), "{c}");
    }
    // Once the filter's keys show, `a` takes exactly them.
    let generation = s.keys.generation;
    let page = whole_list(&s, generation, Ok(refs_of(&keys(2))));
    update(&mut s, page);
    update(&mut s, ch('a'));
    assert_eq!(
        s.keys.selected.keys().copied().collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[test]
fn select_all_over_ten_thousand_keys_with_one_page_loaded_plans_every_one() {
    let all = keys(10_000);
    let mut s = admin_with(0);
    let generation = s.keys.generation;
    let page = whole_list(&s, generation, Ok(refs_of(&all)));
    update(&mut s, page);
    update(
        &mut s,
        Msg::KeyRows {
            generation,
            now: NOW,
            result: Ok(all[..40].to_vec()),
        },
    );
    assert!(s.keys.rows.len() <= 40);
    update(&mut s, ch('a'));
    let fx = update(&mut s, ch('x'));
    let ids = fx
        .iter()
        .find_map(|e| match e {
            Effect::PlanBulk { ids, .. } => Some(ids.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(ids, (1..=10_000).collect::<Vec<i64>>());
}

// ---------------------------------------------------------------------------------------------
// Replacement
// ---------------------------------------------------------------------------------------------

#[test]
fn one_key_deactivated_offers_its_replacement_and_yes_opens_the_form_prefilled() {
    let mut k = key(1, "billing sync");
    k.teams = vec!["ops".to_owned(), "payments".to_owned()];
    k.channel = "web".to_owned();
    let mut s = main_with(Role::Manager, vec![k.clone()]);
    press_planned(&mut s, 'x');
    update(&mut s, ch('y'));
    let mut done = k.clone();
    done.status = KeyStatus::Deactivated;
    update(&mut s, applied_msg(BulkAction::Deactivate, vec![done]));
    let c = confirm(&s);
    assert_eq!(c.title, "Replace billing sync?");
    assert!(matches!(c.pending, Pending::Replace(_)));
    assert!(c.lines.join("\n").contains("Generate a new API key"));
    // Not irreversible: y and Enter both accept.
    assert_eq!(layer(&s), confirm::LAYER);
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadFormChoices)));
    let f = form(&s);
    assert!(matches!(f.kind, FormKind::Create));
    assert_eq!(f.value(Field::Name), "billing sync");
    assert_eq!(f.value(Field::Instance), "prod");
    assert_eq!(f.value(Field::Developer), "ana");
    assert_eq!(f.value(Field::Channel), "web");
    assert_eq!(f.value(Field::Teams), "ops, payments");
    assert_eq!(f.value(Field::Expires), "90d");
}

#[test]
fn no_to_the_replacement_closes_it() {
    let mut s = admin_with(1);
    update(
        &mut s,
        applied_msg(BulkAction::Deactivate, vec![key(1, "key-001")]),
    );
    assert!(matches!(confirm(&s).pending, Pending::Replace(_)));
    let fx = update(&mut s, ch('n'));
    assert!(fx.is_empty());
    assert!(s.modal.is_none());
}

// ---------------------------------------------------------------------------------------------
// Teams
// ---------------------------------------------------------------------------------------------

#[test]
fn t_opens_the_team_picker_for_the_selection() {
    let mut s = admin_with(4);
    update(&mut s, ch(' '));
    update(&mut s, ch(' '));
    let fx = update(&mut s, ch('t'));
    assert!(
        matches!(fx.as_slice(), [Effect::LoadTeamMembership(ids), Effect::LoadTeams] if ids.len() == 2),
        "{fx:?}"
    );
    let p = picker(&s);
    assert_eq!(p.ids, vec![public_id(1), public_id(2)]);
    assert_eq!(p.teams, vec!["payments", "ops"]);
    assert!(p.marks.is_empty());
    assert_eq!(layer(&s), team_picker::LAYER);
}

#[test]
fn t_without_a_selection_changes_the_key_under_the_cursor() {
    let mut s = admin_with(4);
    update(&mut s, ch('j'));
    update(&mut s, ch('j'));
    update(&mut s, ch('t'));
    assert_eq!(picker(&s).ids, vec![public_id(3)]);
}

#[test]
fn enter_on_the_teams_tab_opens_the_picker_too() {
    let mut s = admin_with(4);
    update(&mut s, ch('3'));
    update(&mut s, ch('a'));
    update(&mut s, press(KeyCode::Enter));
    assert_eq!(picker(&s).ids.len(), 4);
}

#[test]
fn plus_and_minus_mark_teams_and_the_same_mark_again_unmarks() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('+'));
    assert_eq!(picker(&s).marks.get("payments"), Some(&Mark::Add));
    update(&mut s, press(KeyCode::Down));
    update(&mut s, ch('-'));
    assert_eq!(picker(&s).marks.get("ops"), Some(&Mark::Remove));
    update(&mut s, ch('+'));
    assert_eq!(
        picker(&s).marks.get("ops"),
        Some(&Mark::Add),
        "the other mark replaces it"
    );
    update(&mut s, ch('+'));
    assert_eq!(picker(&s).marks.get("ops"), None);
    update(&mut s, press(KeyCode::Down));
    assert_eq!(picker(&s).cursor, 1, "the cursor stops at the last team");
}

#[test]
fn typing_a_new_team_adds_it_marked_to_add() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('/'));
    assert_eq!(layer(&s), query_line::LAYER);
    type_text(&mut s, "platform");
    assert_eq!(picker(&s).new_team.value(), "platform");
    update(&mut s, press(KeyCode::Enter));
    let p = picker(&s);
    assert!(!p.typing);
    assert_eq!(p.teams, vec!["payments", "ops", "platform"]);
    assert_eq!(p.marks.get("platform"), Some(&Mark::Add));
    assert_eq!(p.cursor, 2);
    assert_eq!(layer(&s), team_picker::LAYER);
}

#[test]
fn an_empty_new_team_name_is_refused() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('/'));
    update(&mut s, press(KeyCode::Enter));
    let p = picker(&s);
    assert!(p.error.is_some());
    assert!(p.typing);
    assert_eq!(p.teams.len(), 2);
}

#[test]
fn enter_asks_to_confirm_saying_how_many_keys_change_and_yes_changes_them() {
    let mut s = admin_with(3);
    update(&mut s, ch('a'));
    update(&mut s, ch('t'));
    // The service says all three keys are in payments.
    let ids = picker(&s).ids.clone();
    let mut membership = keyward_core::service::TeamMembership::default();
    membership
        .teams
        .insert("payments".into(), ids.iter().cloned().collect());
    update(
        &mut s,
        Msg::TeamMembership {
            ids,
            result: Ok(membership),
        },
    );
    update(&mut s, ch('-')); // payments
    update(&mut s, ch('/'));
    type_text(&mut s, "platform");
    update(&mut s, press(KeyCode::Enter));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty());
    let c = confirm(&s);
    assert_eq!(c.title, "Change the teams of 3 keys?");
    let text = c.lines.join("\n");
    assert!(text.contains("Add platform to 3 keys."), "{text}");
    assert!(text.contains("Remove payments from 3 keys."), "{text}");
    let fx = update(&mut s, ch('y'));
    let [Effect::ChangeTeams { ids, changes }] = fx.as_slice() else {
        panic!("expected ChangeTeams, got {fx:?}");
    };
    assert_eq!(*ids, vec![public_id(1), public_id(2), public_id(3)]);
    assert_eq!(changes.add, vec!["platform"]);
    assert_eq!(changes.remove, vec!["payments"]);
    assert!(s.modal.is_none());
    let fx = update(&mut s, Msg::TeamsChanged(Ok(keys(3))));
    assert!(status_text(&s).contains("Changed the teams of 3 keys"));
    assert_eq!(
        s.keys.selected.len(),
        3,
        "the selection stays for more changes"
    );
    assert_eq!(key_ref_loads(&fx).len(), 1, "the list shows the new teams");
}

#[test]
fn no_on_the_team_change_returns_to_the_picker_with_its_marks() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('+'));
    update(&mut s, press(KeyCode::Down));
    update(&mut s, ch('-'));
    update(&mut s, press(KeyCode::Enter));
    let fx = update(&mut s, ch('n'));
    assert!(fx.is_empty());
    let p = picker(&s);
    assert_eq!(p.marks.get("payments"), Some(&Mark::Add));
    assert_eq!(p.marks.get("ops"), Some(&Mark::Remove));
    assert_eq!(p.cursor, 1);
}

#[test]
fn enter_with_no_team_marked_says_what_to_do() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    let fx = update(&mut s, press(KeyCode::Enter));
    assert!(fx.is_empty());
    assert!(
        picker(&s)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("mark"))
    );
    update(&mut s, press(KeyCode::Esc));
    assert!(s.modal.is_none());
}

#[test]
fn teams_that_arrive_after_the_picker_opened_are_offered() {
    let mut s = admin_with(2);
    update(&mut s, ch('t'));
    update(&mut s, ch('/'));
    type_text(&mut s, "platform");
    update(&mut s, press(KeyCode::Enter));
    // The LoadTeams the picker asked for comes back with a team made meanwhile.
    update(
        &mut s,
        Msg::Teams(Ok(vec![
            team(1, "payments"),
            team(2, "ops"),
            team(3, "security"),
        ])),
    );
    let p = picker(&s);
    assert!(p.teams.contains(&"security".to_owned()), "{:?}", p.teams);
    assert!(p.teams.contains(&"platform".to_owned()), "typed teams stay");
    assert_eq!(p.marks.get("platform"), Some(&Mark::Add));
    assert_eq!(s.teams.teams.len(), 3);
}

#[test]
fn an_invalid_key_filter_clears_the_list_and_drops_a_late_answer() {
    let mut s = admin_with(5);
    update(&mut s, ch('/'));
    type_text(&mut s, "status:active");
    assert!(s.keys.filter.error.is_none());
    let before = s.keys.generation;
    type_text(&mut s, "x");
    assert!(s.keys.filter.error.is_some());
    assert!(
        s.keys.refs.is_empty(),
        "no stale keys under an invalid filter"
    );
    assert!(s.keys.rows.is_empty());
    let page = whole_list(&s, before, Ok(refs_of(&keys(5))));
    update(&mut s, page);
    assert!(
        s.keys.refs.is_empty(),
        "an answer for an older filter is dropped"
    );
    // Back to a valid filter: read again.
    let fx = clear_line(&mut s);
    assert!(s.keys.filter.error.is_none());
    assert_eq!(key_ref_loads(&fx).len(), 1, "{fx:?}");
}

#[test]
fn i_filters_to_the_keys_of_the_same_integration_for_a_leak() {
    let mut list = keys(3);
    list[1].developer = "Fatima Haddad".into();
    list[1].channel = "web hook".into();
    let mut s = main_with(Role::Admin, list);
    update(&mut s, ch('j'));
    let fx = update(&mut s, ch('i'));
    let want = "instance:prod developer:\"Fatima Haddad\" channel:\"web hook\"";
    let shown = s.keys.filter.input.value().to_owned();
    let (_, query) = key_ref_loads(&fx).last().cloned().expect("a load");
    assert_eq!(query, KeyQuery::parse(&shown).unwrap());
    assert_eq!(shown, want);
    assert!(
        status_text(&s).contains("a selects them all"),
        "{}",
        status_text(&s)
    );
}

#[test]
fn on_an_empty_filter_select_all_and_key_actions_say_there_is_no_key() {
    let mut s = admin_with(0);
    update(&mut s, ch('a'));
    assert!(
        error_status(&s) && status_text(&s).contains("No keys here"),
        "{}",
        status_text(&s)
    );
    for c in ['x', 'e', 'r', 'D', 't'] {
        s.status = None;
        let fx = update(&mut s, ch(c));
        assert!(
            fx.iter().all(|e| matches!(e, Effect::SetTimer { .. })),
            "{c}: {fx:?}"
        );
        assert!(s.modal.is_none(), "{c}");
        assert!(
            status_text(&s).contains("No key here"),
            "{c}: {}",
            status_text(&s)
        );
    }
}

#[test]
fn t_on_the_cursor_key_names_it_in_the_pickers_title() {
    let mut s = admin_with(3);
    update(&mut s, ch('j'));
    update(&mut s, ch('t'));
    let Some(Modal::TeamPicker(p)) = &s.modal else {
        panic!("{:?}", s.modal);
    };
    assert_eq!(p.one.as_deref(), Some("key-002"));
    let screen = crate::tui::snapshot_testing::render(&s, 80, 24);
    assert!(screen.contains("Teams of key-002"), "{screen}");
}
