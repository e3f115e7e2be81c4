//! Rebuilds the crate when a migration changes, so `sqlx::migrate!` embeds
//! the current SQL files (proc macros do not watch directories on stable).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
