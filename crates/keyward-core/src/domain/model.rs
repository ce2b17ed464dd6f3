//! The nouns of SPEC §1: clouds, key statuses, roles and integrations.

use std::fmt;

/// The platform family an instance belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cloud {
    Salesforce,
    Servicenow,
    M365,
    Qualtrics,
    Other,
}

impl Cloud {
    pub const ALL: [Cloud; 5] = [
        Cloud::Salesforce,
        Cloud::Servicenow,
        Cloud::M365,
        Cloud::Qualtrics,
        Cloud::Other,
    ];

    /// Reads a cloud name, ignoring case.
    pub fn parse(s: &str) -> Option<Cloud> {
        Cloud::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Salesforce => "salesforce",
            Cloud::Servicenow => "servicenow",
            Cloud::M365 => "m365",
            Cloud::Qualtrics => "qualtrics",
            Cloud::Other => "other",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key's status as an admin sees it. `Expired` is derived from the expiry
/// date of a key whose stored status is still active; the other three are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyStatus {
    Active,
    Expired,
    Deactivated,
    Deleted,
}

impl KeyStatus {
    pub const ALL: [KeyStatus; 4] = [
        KeyStatus::Active,
        KeyStatus::Expired,
        KeyStatus::Deactivated,
        KeyStatus::Deleted,
    ];

    /// Reads a status, ignoring case; `revoked` is another word for deactivated.
    pub fn parse(s: &str) -> Option<KeyStatus> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("revoked") {
            return Some(KeyStatus::Deactivated);
        }
        KeyStatus::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Deactivated => "deactivated",
            KeyStatus::Deleted => "deleted",
        }
    }

    /// The status of a key from what the store holds and the time now.
    pub fn derive(stored: &str, expires_at: Option<i64>, now: i64) -> KeyStatus {
        match stored {
            "deactivated" => KeyStatus::Deactivated,
            "deleted" => KeyStatus::Deleted,
            _ if expires_at.is_some_and(|e| e <= now) => KeyStatus::Expired,
            _ => KeyStatus::Active,
        }
    }

    /// Deactivated and deleted keys never come back.
    pub fn is_final(self) -> bool {
        matches!(self, KeyStatus::Deactivated | KeyStatus::Deleted)
    }
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an operator may do. Ordered: each role can do what the ones below it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Read-only, history included.
    Viewer,
    /// Keys and teams.
    Manager,
    /// Everything, including operators and instances.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Viewer];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Viewer => "viewer",
        }
    }

    /// Admins and managers are told of every key that is created, renewed or
    /// deactivated (SPEC §5).
    pub fn is_notified(self) -> bool {
        self >= Role::Manager
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The triple that the active-key limit applies to (SPEC §1). Held as store ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Integration {
    pub instance_id: i64,
    pub developer_id: i64,
    pub channel_id: i64,
}

/// The default number of keys of one integration that may be active at once.
pub const DEFAULT_MAX_ACTIVE: u32 = 2;

/// A person who runs keyward, known by their login on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    pub login: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
}

/// A platform instance keys connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub id: i64,
    pub name: String,
    pub cloud: Cloud,
    pub url: Option<String>,
    pub max_active: u32,
    pub created_at: i64,
    /// Keys of this instance that are active now.
    pub active_keys: u64,
    /// Keys of this instance that are not deleted.
    pub keys: u64,
    /// When the instance was retired: it then takes no new keys and is not
    /// offered for them.
    pub retired_at: Option<i64>,
}

impl Instance {
    pub fn is_retired(&self) -> bool {
        self.retired_at.is_some()
    }
}

/// A person or service user keys are issued to, known per instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Developer {
    pub id: i64,
    pub instance: String,
    pub name: String,
    pub active_keys: u64,
    pub keys: u64,
}

/// A team and how many keys (not deleted) belong to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub keys: u64,
    pub created_at: i64,
}

/// A key as an admin sees it: never its secret or hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub instance_id: i64,
    pub instance: String,
    pub cloud: Cloud,
    pub developer_id: i64,
    pub developer: String,
    pub channel_id: i64,
    pub channel: String,
    pub teams: Vec<String>,
    pub status: KeyStatus,
    /// The last characters of the key, from its checksum, for the masked form.
    pub tail: String,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
    pub changed_at: i64,
    pub deactivated_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub use_count: u64,
    /// Until when the secret before the last renewal still works.
    pub grace_until: Option<i64>,
}

impl Key {
    /// `kw_3fQa9LzX_…7Gd2`: the public id and the last characters of the checksum.
    pub fn masked(&self) -> String {
        crate::domain::key_format::mask(&self.public_id, &self.tail)
    }

    pub fn integration(&self) -> Integration {
        Integration {
            instance_id: self.instance_id,
            developer_id: self.developer_id,
            channel_id: self.channel_id,
        }
    }
}

/// A key's row id and public id: what a list needs to find it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRef {
    pub id: i64,
    pub public_id: String,
    /// For naming the key in a confirmation before its row is loaded.
    pub name: String,
}

/// Where a page of a key listing starts. Listings are in one order (name
/// without case, then age), so a page is found from a key's place in it
/// (the index's own order) rather than by counting rows from the top: every
/// page costs the same, however deep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPageFrom {
    /// The listing's first keys.
    Top,
    /// Its last keys.
    Bottom,
    /// The keys just after this one.
    After(KeyRef),
    /// The keys just before this one.
    Before(KeyRef),
    /// This key, or where it stood, and the keys after it.
    From(KeyRef),
}

/// A page of a key listing, in listing order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPage {
    pub refs: Vec<KeyRef>,
    /// Of the row ids asked about with the page (a selection), those the
    /// listing still holds.
    pub kept: Vec<i64>,
}

/// How many keys a listing holds, and how many come before a key of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyCount {
    pub total: u64,
    pub before: Option<u64>,
}

/// A filter an operator named and kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedFilter {
    pub name: String,
    pub query: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_is_another_word_for_deactivated() {
        assert_eq!(KeyStatus::parse("Revoked"), Some(KeyStatus::Deactivated));
        assert_eq!(
            KeyStatus::parse("deactivated"),
            Some(KeyStatus::Deactivated)
        );
        assert_eq!(KeyStatus::parse("gone"), None);
    }

    #[test]
    fn an_active_key_past_its_date_is_expired() {
        assert_eq!(
            KeyStatus::derive("active", Some(100), 100),
            KeyStatus::Expired
        );
        assert_eq!(
            KeyStatus::derive("active", Some(101), 100),
            KeyStatus::Active
        );
        assert_eq!(KeyStatus::derive("active", None, 100), KeyStatus::Active);
        assert_eq!(
            KeyStatus::derive("deactivated", Some(1), 100),
            KeyStatus::Deactivated
        );
    }

    #[test]
    fn roles_are_ordered_by_what_they_may_do() {
        assert!(Role::Admin > Role::Manager && Role::Manager > Role::Viewer);
        assert!(Role::Manager.is_notified() && !Role::Viewer.is_notified());
        assert_eq!(Role::parse("MANAGER"), Some(Role::Manager));
    }

    #[test]
    fn clouds_parse_by_name() {
        for c in Cloud::ALL {
            assert_eq!(Cloud::parse(c.as_str()), Some(c));
        }
        assert_eq!(Cloud::parse("aws"), None);
    }
}
