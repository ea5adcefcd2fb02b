//! What the accelerator cases share: their targets, the vendor tools' view now, and the
//! prologue every case starts with (the target's address, live and root where the case needs
//! them, the device in the inventory or in the tools' view).

use inventory::accel::{self as inv_accel, Accelerator, LiveTools, Probed, Vendor};

use crate::util;
use crate::{Context, Inventory, Target, Verdict};

pub(crate) fn target(a: &Accelerator) -> Target {
    Target::item(
        a.address.clone(),
        Some(
            match a.details.as_ref().and_then(|d| d.product_name.as_ref()) {
                Some(n) => format!("{n} ({})", a.label),
                None => a.label.clone(),
            },
        ),
    )
}

pub(crate) fn compute(inv: &Inventory) -> impl Iterator<Item = &Accelerator> {
    inv.accelerators
        .iter()
        .filter(|a| a.vendor.is_some_and(Vendor::is_compute))
}

pub(crate) const NO_DEVICE: &str =
    "no GPU, DCU or NPU of a compute vendor (NVIDIA, AMD, Hygon, Huawei) on PCI";

/// The vendor tools' view now: run live, or the tree's recorded outputs.
pub(crate) fn view(ctx: &Context<'_>) -> Probed {
    if ctx.is_live() {
        inv_accel::probe(&ctx.inventory.pci, &LiveTools::default())
    } else {
        inv_accel::probe(&ctx.inventory.pci, &inv_accel::RecordedTools(&ctx.sysroot))
    }
}

/// Where a case finds its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// In the vendor tools' view now ([`view`]): the device as its tool describes it.
    ToolsNow,
    /// In the inventory the run was planned on.
    Inventory,
    /// In the inventory, after checking that the run is live and root (a load): the case's
    /// name says what needs them.
    LiveRoot(&'static str),
}

/// The device a case is about.
#[derive(Debug)]
pub(crate) struct Subject {
    /// Its PCI address (the instance's target).
    pub addr: String,
    /// The device, from where [`Source`] said.
    pub device: Accelerator,
    /// The tools' view it was found in ([`Source::ToolsNow`] only).
    pub view: Option<Probed>,
}

/// Every accelerator case's prologue: the target's address, live and root where the source
/// asks, and the device; the verdict to return when one of them is missing.
pub(crate) fn subject(ctx: &Context<'_>, from: Source) -> Result<Subject, Verdict> {
    let addr = util::target_id(ctx)?;
    if let Source::LiveRoot(what) = from {
        util::require_live(ctx, what)?;
        util::require_root(ctx, what)?;
    }
    match from {
        Source::ToolsNow => {
            let p = view(ctx);
            let device = p
                .accelerators
                .iter()
                .find(|a| a.address == addr)
                .cloned()
                .ok_or_else(|| {
                    Verdict::error(format!("{addr} is not an accelerator on PCI any more"))
                })?;
            Ok(Subject {
                addr,
                device,
                view: Some(p),
            })
        }
        Source::Inventory | Source::LiveRoot(_) => {
            let device = ctx
                .inventory
                .accelerators
                .iter()
                .find(|a| a.address == addr)
                .cloned()
                .ok_or_else(|| {
                    Verdict::error(format!("{addr} is not an accelerator in the inventory"))
                })?;
            Ok(Subject {
                addr,
                device,
                view: None,
            })
        }
    }
}
