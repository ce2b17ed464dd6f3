//! Bulk actions that are exact: from key ids, the service plans which keys an
//! action applies to and which it must skip (and why), and then applies it to
//! the planned keys in one transaction, skipping (and naming) any that changed
//! state in between instead of failing the whole batch.

use super::Service;
use super::keys::{BULK_CACHE_KIB, BULK_KEYS, deactivate, load, parse_ids};
use super::notice::{self, Event};
use crate::domain::history::Action;
use crate::domain::model::{Key, KeyStatus, Role};
use crate::error::Result;

/// A bulk action that cannot be undone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkAction {
    Deactivate,
    Delete,
}

impl BulkAction {
    /// Why `status` keeps a key out of this action, or `None` if it applies.
    pub fn skips(self, status: KeyStatus) -> Option<SkipReason> {
        match (self, status) {
            (_, KeyStatus::Deleted) => Some(SkipReason::AlreadyDeleted),
            (BulkAction::Deactivate, KeyStatus::Deactivated) => {
                Some(SkipReason::AlreadyDeactivated)
            }
            // An expired key works no more; deactivating it would only take
            // away its renewal. Delete takes expired keys as they are.
            (BulkAction::Deactivate, KeyStatus::Expired) => Some(SkipReason::Expired),
            _ => None,
        }
    }

    /// The verb of a confirmation's summary: "91 will be deactivated".
    pub fn participle(self) -> &'static str {
        match self {
            BulkAction::Deactivate => "deactivated",
            BulkAction::Delete => "deleted",
        }
    }
}

/// Why a key is left out of a bulk action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    /// Already deactivated: final.
    AlreadyDeactivated,
    /// Already deleted: final.
    AlreadyDeleted,
    /// Expired: it no longer works.
    Expired,
    /// No key has this id (any more).
    Missing,
}

impl SkipReason {
    /// How a confirmation says it: "61 are already final".
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::AlreadyDeactivated => "already deactivated (final)",
            SkipReason::AlreadyDeleted => "already deleted (final)",
            SkipReason::Expired => "expired, so no longer working",
            SkipReason::Missing => "no longer in the store",
        }
    }
}

/// A key as a plan names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedKey {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub status: KeyStatus,
}

impl PlannedKey {
    fn of(key: &Key) -> PlannedKey {
        PlannedKey {
            id: key.id,
            public_id: key.public_id.clone(),
            name: key.name.clone(),
            status: key.status,
        }
    }
}

/// What a bulk action would do to the keys asked for, as the store has them now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkPlan {
    pub action: BulkAction,
    /// How many keys were asked for.
    pub asked: usize,
    /// The keys it applies to, in the order asked.
    pub apply: Vec<PlannedKey>,
    /// The keys it leaves out, with why, in the order asked.
    pub skip: Vec<(PlannedKey, SkipReason)>,
}

impl BulkPlan {
    /// The public ids of the keys it applies to.
    pub fn public_ids(&self) -> Vec<String> {
        self.apply.iter().map(|k| k.public_id.clone()).collect()
    }

    /// Every key asked for (applied or skipped), to plan the same again.
    pub fn asked_ids(&self) -> Vec<i64> {
        self.apply
            .iter()
            .chain(self.skip.iter().map(|(k, _)| k))
            .map(|k| k.id)
            .collect()
    }
}

/// What a bulk action did: the keys it changed and those that had changed in
/// the meantime and were left as they were.
#[derive(Clone, Debug, Default)]
pub struct BulkOutcome {
    pub done: Vec<Key>,
    pub skipped: Vec<(Key, SkipReason)>,
}

impl Service {
    /// Which of the keys with these row ids `action` applies to and which it
    /// skips, with why. Reads only; ids of no key are skipped as missing.
    pub fn plan_bulk(&mut self, action: BulkAction, ids: &[i64]) -> Result<BulkPlan> {
        self.read(|db, _, now| {
            let found = db.keys_by_ids(ids, now)?;
            let mut plan = BulkPlan {
                action,
                asked: ids.len(),
                apply: Vec::with_capacity(found.len()),
                skip: Vec::new(),
            };
            let mut at = found.iter().peekable();
            for id in ids {
                // `keys_by_ids` keeps the order asked and leaves out unknown ids.
                let Some(key) = at.next_if(|k| k.id == *id) else {
                    plan.skip.push((
                        PlannedKey {
                            id: *id,
                            public_id: String::new(),
                            name: String::new(),
                            status: KeyStatus::Deleted,
                        },
                        SkipReason::Missing,
                    ));
                    continue;
                };
                match action.skips(key.status) {
                    None => plan.apply.push(PlannedKey::of(key)),
                    Some(reason) => plan.skip.push((PlannedKey::of(key), reason)),
                }
            }
            Ok(plan)
        })
    }

    /// Applies `action` to the keys of a plan (by public id) in one
    /// transaction; a key whose status changed since the plan so that the
    /// action no longer applies is skipped and reported, not an error.
    pub fn apply_bulk(&mut self, action: BulkAction, ids: &[String]) -> Result<BulkOutcome> {
        // The role first, as every change checks it: a viewer is refused
        // whatever ids (even none) are asked for.
        self.precheck(Role::Manager)?;
        let ids = parse_ids(ids)?;
        // As for bulk teams: a larger page cache for this one transaction.
        let bulk = ids.len() >= BULK_KEYS;
        if bulk {
            self.store.set_cache_size_kib(BULK_CACHE_KIB)?;
        }
        let outcome = self.write(Role::Manager, |db, actor, now| {
            let mut out = BulkOutcome::default();
            for public_id in &ids {
                let key = match db.key(public_id.as_str(), now)? {
                    Some(key) => key,
                    None => continue,
                };
                if let Some(reason) = action.skips(key.status) {
                    out.skipped.push((key, reason));
                    continue;
                }
                let done = match action {
                    BulkAction::Deactivate => deactivate(db, actor, &key, now)?,
                    BulkAction::Delete => {
                        let key = if key.status == KeyStatus::Deactivated {
                            key
                        } else {
                            deactivate(db, actor, &key, now)?
                        };
                        db.set_key_status(key.id, KeyStatus::Deleted, now)?;
                        let key = load(db, public_id.as_str(), now)?;
                        db.append_history(actor.key_record(now, Action::Deleted, &key))?;
                        key
                    }
                };
                out.done.push(done);
            }
            if !out.done.is_empty() {
                let event = match action {
                    BulkAction::Deactivate => Event::Deactivated,
                    BulkAction::Delete => Event::Deleted,
                };
                notice::enqueue(db, actor, event, &out.done, now)?;
            }
            Ok(out)
        });
        if bulk {
            // Back to SQLite's default; a failure here only leaves memory in use.
            let _ = self
                .store
                .set_cache_size_kib(crate::store::DEFAULT_CACHE_KIB);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::query::KeyQuery;
    use crate::service::demo::DemoSpec;
    use crate::testing::TempStore;
    use std::collections::{BTreeMap, BTreeSet};

    /// A demo store of `n` keys in every status, and every key's row id.
    fn demo_store(n: u64) -> (TempStore, Vec<i64>) {
        let store = TempStore::new();
        let mut ana = store.admin();
        ana.sample_data_for_tests(DemoSpec {
            keys: n,
            history: Some(0),
        })
        .unwrap();
        let ids = ana
            .list_key_refs(&KeyQuery::default(), true)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        (store, ids)
    }

    fn statuses(s: &mut Service) -> BTreeMap<String, KeyStatus> {
        s.list_keys(&KeyQuery::default(), true, None)
            .unwrap()
            .into_iter()
            .map(|k| (k.public_id, k.status))
            .collect()
    }

    fn count(of: &BTreeMap<String, KeyStatus>, status: KeyStatus) -> usize {
        of.values().filter(|s| **s == status).count()
    }

    #[test]
    fn a_deactivation_of_ten_thousand_mixed_keys_takes_exactly_the_active_ones() {
        let (store, ids) = demo_store(10_000);
        assert_eq!(ids.len(), 10_000);
        let mut ana = store.admin();
        let before = statuses(&mut ana);
        for status in [
            KeyStatus::Active,
            KeyStatus::Expired,
            KeyStatus::Deactivated,
            KeyStatus::Deleted,
        ] {
            assert!(count(&before, status) > 0, "the demo has {status} keys");
        }

        let plan = ana.plan_bulk(BulkAction::Deactivate, &ids).unwrap();
        assert_eq!(plan.asked, 10_000);
        assert_eq!(plan.apply.len() + plan.skip.len(), 10_000);
        let planned: BTreeSet<&str> = plan.apply.iter().map(|k| k.public_id.as_str()).collect();
        let active: BTreeSet<&str> = before
            .iter()
            .filter(|(_, s)| **s == KeyStatus::Active)
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(planned, active, "the plan is exactly the active keys");
        for (key, reason) in &plan.skip {
            let expected = match before[&key.public_id] {
                KeyStatus::Expired => SkipReason::Expired,
                KeyStatus::Deactivated => SkipReason::AlreadyDeactivated,
                KeyStatus::Deleted => SkipReason::AlreadyDeleted,
                KeyStatus::Active => panic!("an active key skipped: {}", key.public_id),
            };
            assert_eq!(*reason, expected, "{}", key.public_id);
        }

        let outcome = ana
            .apply_bulk(BulkAction::Deactivate, &plan.public_ids())
            .unwrap();
        assert_eq!(outcome.done.len(), active.len());
        assert!(outcome.skipped.is_empty());
        let after = statuses(&mut ana);
        assert_eq!(count(&after, KeyStatus::Active), 0);
        assert_eq!(
            count(&after, KeyStatus::Deactivated),
            count(&before, KeyStatus::Deactivated) + active.len()
        );
        assert_eq!(
            count(&after, KeyStatus::Expired),
            count(&before, KeyStatus::Expired),
            "expired keys are left as they were"
        );
        assert_eq!(
            count(&after, KeyStatus::Deleted),
            count(&before, KeyStatus::Deleted)
        );
    }

    #[test]
    fn a_key_closed_between_plan_and_yes_is_skipped_and_named_not_a_failure() {
        let (store, ids) = demo_store(60);
        let mut ana = store.admin();
        let plan = ana.plan_bulk(BulkAction::Deactivate, &ids).unwrap();
        assert!(plan.apply.len() >= 2, "{plan:?}");
        let gone = plan.apply[0].public_id.clone();
        // Another admin, in another process, deactivates one of them first.
        store
            .admin()
            .deactivate_keys(std::slice::from_ref(&gone))
            .unwrap();

        let outcome = ana
            .apply_bulk(BulkAction::Deactivate, &plan.public_ids())
            .unwrap();
        assert_eq!(outcome.done.len(), plan.apply.len() - 1);
        assert_eq!(outcome.skipped.len(), 1);
        assert_eq!(outcome.skipped[0].0.public_id, gone);
        assert_eq!(outcome.skipped[0].1, SkipReason::AlreadyDeactivated);
    }

    #[test]
    fn a_delete_plan_takes_every_key_not_yet_deleted() {
        let (store, ids) = demo_store(80);
        let mut ana = store.admin();
        let before = statuses(&mut ana);
        let plan = ana.plan_bulk(BulkAction::Delete, &ids).unwrap();
        assert_eq!(plan.skip.len(), count(&before, KeyStatus::Deleted));
        assert!(
            plan.skip
                .iter()
                .all(|(_, r)| *r == SkipReason::AlreadyDeleted)
        );
        let outcome = ana
            .apply_bulk(BulkAction::Delete, &plan.public_ids())
            .unwrap();
        assert_eq!(outcome.done.len(), plan.apply.len());
        assert!(
            statuses(&mut ana)
                .values()
                .all(|s| *s == KeyStatus::Deleted)
        );
    }

    #[test]
    fn an_unknown_id_is_skipped_as_missing() {
        let (store, mut ids) = demo_store(5);
        ids.insert(1, 999_999);
        let plan = store
            .admin()
            .plan_bulk(BulkAction::Deactivate, &ids)
            .unwrap();
        assert_eq!(plan.asked, 6);
        assert!(
            plan.skip
                .iter()
                .any(|(k, r)| k.id == 999_999 && *r == SkipReason::Missing)
        );
    }

    #[test]
    fn a_viewer_may_not_apply_a_bulk_action() {
        let (store, ids) = demo_store(5);
        let mut ana = store.admin();
        let plan = ana.plan_bulk(BulkAction::Deactivate, &ids).unwrap();
        let mut vic = store.service_as("zz.viewer", crate::domain::model::Role::Viewer);
        let refused = vic.apply_bulk(BulkAction::Deactivate, &plan.public_ids());
        assert!(
            matches!(refused, Err(crate::error::Error::Permission(_))),
            "{refused:?}"
        );
    }
}
