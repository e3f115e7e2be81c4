//! maskinporten
