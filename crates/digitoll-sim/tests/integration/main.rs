//! The simulator's integration tests, one binary (one link, one process, the
//! RSA keys of `support` generated once) with a module per area. Run one
//! area with `cargo test -p digitoll-sim --test integration toll_road::`.

mod support;

mod api_docs;
mod maskinporten;
mod toll_documents;
mod toll_entry;
mod toll_modes;
mod toll_profile;
mod toll_road;
