//! # hcl — the hardware compatibility list
//!
//! One feature, one crate: the store of entries ([`store`]: one reviewable JSON file per
//! certified system and component, merged under a lock; its entries' [`key`]s and [`entry`]
//! files), submission of verified reports ([`submit`]), query ([`query::Query`]), the
//! withdrawal of certifications ([`revoke`], signed [`revocation`] documents) and the static
//! website ([`site`]).

pub mod entry;
pub mod error;
pub mod key;
pub mod layout;
pub mod query;
pub mod revocation;
pub mod revoke;
pub mod site;
pub mod store;
pub mod submit;

pub use entry::*;
pub use error::*;
pub use key::*;
pub use layout::*;
pub use query::*;
pub use store::*;
