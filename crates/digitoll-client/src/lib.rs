//! digitoll-client
