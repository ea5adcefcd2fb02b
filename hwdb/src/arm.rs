//! ARM implementer and part names from MIDR values, as current lscpu names them.

/// The implementer's name for MIDR implementer code `imp`.
pub fn implementer_name(imp: u32) -> Option<&'static str> {
    let _ = imp;
    None
}

/// The part's model name for implementer `imp` and part number `part`.
pub fn part_name(imp: u32, part: u32) -> Option<&'static str> {
    let _ = (imp, part);
    None
}
