//! What the case modules share: a case made of plain functions, selector helpers, and small
//! message helpers (sizes are `hwsys::units::iec`, patterns `hwsys::glob::wildcard`).

use std::time::Duration;

use crate::{
    Case, CaseInfo, Component, Context, Inventory, Requirements, RunOptions, Selection, Target,
    Verdict,
};

/// A case made of its description and three functions.
pub(crate) struct FnCase {
    pub info: CaseInfo,
    pub select: fn(&Inventory) -> Selection,
    pub select_with: Option<fn(&Inventory, &RunOptions) -> Selection>,
    pub run: fn(&mut Context<'_>) -> Verdict,
}

impl Case for FnCase {
    fn info(&self) -> &CaseInfo {
        &self.info
    }
    fn select(&self, inv: &Inventory) -> Selection {
        (self.select)(inv)
    }
    fn select_with(&self, inv: &Inventory, options: &RunOptions) -> Selection {
        match self.select_with {
            Some(f) => f(inv, options),
            None => (self.select)(inv),
        }
    }
    fn run(&self, ctx: &mut Context<'_>) -> Verdict {
        (self.run)(ctx)
    }
}

/// How a case is described in its module.
pub(crate) struct Spec {
    pub name: &'static str,
    pub purpose: &'static str,
    pub component: Component,
    pub blocker: bool,
    /// Time limit of one instance, in seconds.
    pub timeout: u64,
    /// Expected duration of one instance, in milliseconds.
    pub estimate_ms: u64,
    pub requirements: Requirements,
    pub select: fn(&Inventory) -> Selection,
    pub run: fn(&mut Context<'_>) -> Verdict,
}

impl Spec {
    pub fn build(self) -> Box<dyn Case> {
        self.build_with(None)
    }

    pub fn build_with(
        self,
        select_with: Option<fn(&Inventory, &RunOptions) -> Selection>,
    ) -> Box<dyn Case> {
        Box::new(FnCase {
            info: CaseInfo {
                name: self.name.to_string(),
                purpose: self.purpose.to_string(),
                component: self.component,
                requirements: self.requirements,
                timeout: Duration::from_secs(self.timeout),
                estimate: Duration::from_millis(self.estimate_ms),
                blocker: self.blocker,
            },
            select: self.select,
            select_with,
            run: self.run,
        })
    }
}

/// Requirements of a case that only reads files.
pub(crate) fn reads_files() -> Requirements {
    Requirements::default()
}

/// Requirements of a case that opens devices or issues ioctls on the running system.
pub(crate) fn live(root: bool, tools: &[&str]) -> Requirements {
    Requirements {
        root,
        live: true,
        tools: tools.iter().map(|t| t.to_string()).collect(),
        ..Requirements::default()
    }
}

/// The selector of a machine-wide case.
pub(crate) fn machine(_: &Inventory) -> Selection {
    Selection::Targets(vec![Target::machine()])
}

/// Targets, or not applicable with `why` when there are none.
pub(crate) fn targets_or(ts: Vec<Target>, why: impl Into<String>) -> Selection {
    if ts.is_empty() {
        Selection::NotApplicable(why.into())
    } else {
        Selection::Targets(ts)
    }
}

/// The hypervisor (or container) this machine runs under, when it is virtual.
pub(crate) fn virtual_machine(inv: &Inventory) -> Option<String> {
    if let Some(h) = &inv.cpu.hypervisor {
        return Some(h.clone());
    }
    match inv.cpu.virtualization_type.as_deref() {
        Some("full") | Some("para") => Some("a hypervisor".to_string()),
        Some("container") => Some("a container".to_string()),
        _ => None,
    }
}

/// The instance's target id, or a verdict saying it has none (a machine-wide run of a
/// per-item case).
pub(crate) fn target_id(ctx: &Context<'_>) -> Result<String, Verdict> {
    ctx.target_id()
        .map(str::to_string)
        .ok_or_else(|| Verdict::error("this case checks one item; the instance names none"))
}

/// Skip unless live (with what the case would do there).
pub(crate) fn require_live(ctx: &Context<'_>, what: &str) -> Result<(), Verdict> {
    if ctx.is_live() {
        Ok(())
    } else {
        Err(Verdict::skip(format!(
            "{what}: runs on the live system only, not on a recorded sysroot ({})",
            ctx.sysroot.root().display()
        )))
    }
}

/// Skip unless root.
pub(crate) fn require_root(ctx: &Context<'_>, what: &str) -> Result<(), Verdict> {
    if ctx.is_root {
        Ok(())
    } else {
        Err(Verdict::skip(format!("{what} needs root")))
    }
}

/// A list for a message: "a, b and c"; the first `max` only, then "and N more".
pub(crate) fn list(items: &[String], max: usize) -> String {
    if items.len() > max {
        format!("{} and {} more", items[..max].join(", "), items.len() - max)
    } else {
        items.join(", ")
    }
}

/// An OS error for a message: "permission denied" rather than "Permission denied (os error 13)".
pub(crate) fn os_error(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        let v: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        assert_eq!(list(&v, 3), "0, 1, 2 and 2 more");
        assert_eq!(list(&v[..2], 3), "0, 1");
    }
}
