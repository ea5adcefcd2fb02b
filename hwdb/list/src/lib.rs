//! # hcl — the hardware compatibility list
//!
//! One feature, one crate: the store of entries ([`store`]: one reviewable JSON file per
//! certified system and component, merged under a lock), submission of verified reports
//! ([`submit`]), query ([`store::Query`]) and the static website ([`site`]).

pub mod site;
pub mod store;
pub mod submit;

pub use store::*;
