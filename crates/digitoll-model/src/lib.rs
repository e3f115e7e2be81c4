//! digitoll-model
