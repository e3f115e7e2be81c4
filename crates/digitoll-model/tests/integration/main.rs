//! The model's integration tests, one binary (one link, one process) with a
//! module per area. Run one area with `cargo test -p digitoll-model --test
//! integration rules::`.

mod documents;
mod entry;
mod examples;
mod modes;
mod newtypes;
mod responses;
mod rules;
mod sources;
mod spec;
