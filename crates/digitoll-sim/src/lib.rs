//! digitoll-sim
