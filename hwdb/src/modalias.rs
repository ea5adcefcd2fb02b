//! Matching device modaliases against lib/modules/<kernel>/modules.alias, as modprobe does.
