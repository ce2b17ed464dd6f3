//! Windows over the tabs that more than one feature opens: the confirmation,
//! renew, the new secret's one showing and the team picker.

pub mod confirm;
pub mod new_secret;
pub mod renew;
#[cfg(test)]
mod snapshot_tests;
pub mod team_picker;
#[cfg(test)]
mod tests;
