//! Warden's policy engine: may this principal do this action on this resource, now, in this context?
//!
//! The public interface is:
//! - [`PolicySet::load`] (and [`PolicySet::from_yaml`]): policy files in every accepted format — Warden's
//!   `rules:`, the zta-agent file (seed 004), the 371OS policy (seed 000) and role tables (seeds 001
//!   and 002) — compiled into one rule model ([`Rule`]), an index and a [`PolicyHash`]. A bad set is
//!   refused whole with every [`LoadError`] (file, line, rule).
//! - [`PolicySet::evaluate`] and [`PolicySet::explain`]: a [`Request`] and the caller's [`Grant`]s in, a
//!   [`Decision`] out (effect, deciding rule, every matching rule, reasons, obligations, the hash, and
//!   with `explain` the [`TraceStep`]s).
//! - [`Grant`]: just-in-time grants as values, with one-hop delegation.
//! - [`Pattern`], [`Path`], [`Condition`], [`Test`], [`TimeWindow`], [`RoleTable`]: the rule model.
//! - [`cases`]: policy test cases as data ([`cases::CaseFile`]: requests with the decision expected) and
//!   their check against a set ([`cases::run`]), shared by the engine's corpus and `warden policy test`.
//!
//! The semantics are fixed: no rule matches → deny; the highest priority decides and deny wins ties; a
//! deny rule whose condition lacks an attribute denies and names it; an inactive principal is denied
//! before any rule; a passport's scopes bound every allow. docs/policy.md is the user's reference.
//!
//! This crate does no I/O: it reads no file (callers pass the text), no clock (the request carries the
//! time) and no OS time-zone data (the tz database is compiled in). It stores no grants, records no
//! audit events and knows nothing about HTTP; the server does those with the values returned here.

mod canonical;
pub mod cases;
mod condition;
mod decision;
mod error;
mod evaluate;
mod format;
mod grant;
mod index;
mod path;
mod pattern;
mod request;
mod roles;
mod rule;
mod set;
mod time_window;

pub use canonical::PolicyHash;
pub use condition::{Condition, Test};
pub use decision::{Basis, Decision, Outcome, TraceStep};
pub use error::{LoadError, PolicyError};
pub use grant::{Grant, GrantError};
pub use path::Path;
pub use pattern::{Pattern, glob_matches};
pub use request::{PrincipalStatus, Request, Subject};
pub use roles::{Role, RoleTable};
pub use rule::{Effect, Format, Origin, Rule};
pub use set::{PolicySet, PolicySource};
pub use time_window::{TimeOfDay, TimeWindow};
