//! The HTTP API through the real router (`oneshot`), on a temporary SQLite store with a manual clock.

#[path = "api/support.rs"]
mod support;

#[path = "api/flow.rs"]
mod flow;
