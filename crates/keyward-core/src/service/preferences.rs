//! What an operator keeps for themselves: saved filters (a name and a query of
//! the smart-filter language) and screen preferences. Each operator sees only
//! their own; a viewer may keep them too, since they change no key.

use super::Service;
use crate::domain::Name;
use crate::domain::model::Role;
use crate::domain::model::SavedFilter;
use crate::domain::query::KeyQuery;
use crate::error::{Error, Result};

/// The preference holding the History tab's visible columns.
pub const HISTORY_COLUMNS: &str = "history.columns";

impl Service {
    pub fn saved_filters(&mut self) -> Result<Vec<SavedFilter>> {
        self.read(|db, op, _| db.saved_filters(&op.login))
    }

    /// Saves (or replaces) a named filter; the query must parse.
    pub fn save_filter(&mut self, name: &str, query: &str) -> Result<SavedFilter> {
        let name = Name::parse("filter name", name)?;
        KeyQuery::parse(query).map_err(Error::from)?;
        let filter = SavedFilter {
            name: name.as_str().to_owned(),
            query: query.trim().to_owned(),
        };
        self.write(Role::Viewer, |db, actor, now| {
            db.save_filter(&actor.origin.login, &filter, now)
        })?;
        Ok(filter)
    }

    pub fn rename_filter(&mut self, from: &str, to: &str) -> Result<()> {
        let to = Name::parse("filter name", to)?;
        self.write(Role::Viewer, |db, actor, _| {
            db.rename_filter(&actor.origin.login, from, to.as_str())
        })
    }

    pub fn delete_filter(&mut self, name: &str) -> Result<()> {
        self.write(Role::Viewer, |db, actor, _| {
            db.delete_filter(&actor.origin.login, name)
        })
    }

    pub fn preference(&mut self, name: &str) -> Result<Option<String>> {
        self.read(|db, op, _| db.preference(&op.login, name))
    }

    pub fn set_preference(&mut self, name: &str, value: &str) -> Result<()> {
        self.write(Role::Viewer, |db, actor, _| {
            db.set_preference(&actor.origin.login, name, value)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::model::Role;
    use crate::error::Error;
    use crate::service::SystemClock;
    use crate::testing::TempStore;
    use std::sync::Arc;

    fn store() -> TempStore<SystemClock> {
        TempStore::with_clock(Arc::new(SystemClock))
    }

    #[test]
    fn saved_filters_belong_to_their_operator() {
        let store = store();
        let mut ana = store.admin();
        ana.save_filter("payments", "team:payments status:active")
            .unwrap();
        let mut ben = store.service_as("ben", Role::Viewer);
        assert!(ben.saved_filters().unwrap().is_empty());
        ben.save_filter("payments", "team:payments").unwrap();
        assert_eq!(
            ana.saved_filters().unwrap()[0].query,
            "team:payments status:active"
        );
        assert_eq!(ben.saved_filters().unwrap()[0].query, "team:payments");
    }

    #[test]
    fn a_filter_that_does_not_parse_is_not_saved() {
        let store = store();
        let mut ana = store.admin();
        let err = ana.save_filter("bad", "status:sleeping").unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err:?}");
        assert!(ana.saved_filters().unwrap().is_empty());
    }

    #[test]
    fn rename_and_delete_name_what_is_missing_or_taken() {
        let store = store();
        let mut ana = store.admin();
        ana.save_filter("a", "status:active").unwrap();
        ana.save_filter("b", "status:expired").unwrap();
        assert!(matches!(
            ana.rename_filter("a", "b"),
            Err(Error::Conflict(_))
        ));
        ana.rename_filter("a", "c").unwrap();
        assert!(matches!(ana.delete_filter("a"), Err(Error::NotFound(_))));
        ana.delete_filter("c").unwrap();
        let names: Vec<String> = ana
            .saved_filters()
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["b"]);
    }

    #[test]
    fn preferences_are_kept_per_operator() {
        let store = store();
        let mut ana = store.admin();
        assert_eq!(ana.preference(super::HISTORY_COLUMNS).unwrap(), None);
        ana.set_preference(super::HISTORY_COLUMNS, "at,action")
            .unwrap();
        ana.set_preference(super::HISTORY_COLUMNS, "at,key")
            .unwrap();
        assert_eq!(
            ana.preference(super::HISTORY_COLUMNS).unwrap().as_deref(),
            Some("at,key")
        );
    }
}
