//! The compact, aligned summary a person reads at a glance.
