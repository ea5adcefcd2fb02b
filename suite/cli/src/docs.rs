//! Documentation made from the clap definitions and the case catalog, so that it cannot drift
//! from the code: the man pages (clap_mangen), the shell completions (clap_complete), and the
//! README's generated blocks (the options of every command, the run-time tools of every case).
//!
//! `hwcert __docs man DIR` writes the man pages (the RPM's build does), `hwcert completions
//! SHELL` prints a completion script, `hwcert __docs readme FILE` prints FILE with its generated
//! blocks made again (`./dev.sh docs` writes it back; a test fails when README.md differs).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Arg, ArgAction, Command};

/// The man pages of `cmd` and of every visible subcommand, nested ones included:
/// `(file name, roff)`, e.g. `("hwcert-hwdb-add.1", …)`, the top command first.
pub fn man_pages(cmd: &Command) -> Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = cmd.clone().disable_help_subcommand(true);
    cmd.build();
    let source = format!(
        "{} {}",
        cmd.get_name(),
        cmd.get_version().unwrap_or_default()
    );
    let mut pages = Vec::new();
    collect_pages(&cmd, &source, &mut pages)?;
    Ok(pages)
}

fn collect_pages(cmd: &Command, source: &str, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let man = clap_mangen::Man::new(cmd.clone())
        .source(source)
        .manual("hwcert manual");
    let mut roff = Vec::new();
    man.render(&mut roff)
        .with_context(|| format!("cannot render the man page of {}", man.get_filename()))?;
    pages.push((man.get_filename(), roff));
    for sub in visible_subcommands(cmd) {
        collect_pages(sub, source, pages)?;
    }
    Ok(())
}

/// Write the man pages of `cmd` into `dir` (made if missing); returns the files written.
pub fn write_man_pages(cmd: &Command, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (name, roff) in man_pages(cmd)? {
        let path = dir.join(name);
        hwsys::fs::write_atomic(&path, &roff)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The completion script of `cmd` for `shell`.
pub fn completions(cmd: &Command, shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = cmd.clone();
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    out
}

fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// The README block `options`: every visible command's usage and options, in Markdown.
pub fn readme_options(cmd: &Command) -> String {
    let mut cmd = cmd.clone().disable_help_subcommand(true);
    cmd.build();
    let mut out = String::new();
    for sub in visible_subcommands(&cmd) {
        options_of(sub, cmd.get_name(), &mut out);
    }
    out
}

fn options_of(cmd: &Command, parent: &str, out: &mut String) {
    let path = format!("{parent} {}", cmd.get_name());
    let subs: Vec<&Command> = visible_subcommands(cmd).collect();
    if subs.is_empty() {
        let usage = cmd
            .clone()
            .bin_name(&path)
            .render_usage()
            .to_string()
            .trim_start_matches("Usage:")
            .trim()
            .to_string();
        let _ = writeln!(out, "#### `{path}`\n");
        if let Some(about) = cmd.get_about() {
            let _ = writeln!(out, "{}\n", one_line(&about.to_string()));
        }
        let _ = writeln!(out, "```text\n{usage}\n```\n");
        let args: Vec<&Arg> = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter(|a| !matches!(a.get_action(), ArgAction::Help | ArgAction::Version))
            .collect();
        for a in args {
            let _ = writeln!(out, "- `{}`: {}", arg_spelling(a), arg_help(a));
        }
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            out.push('\n');
        }
    }
    for sub in subs {
        options_of(sub, &path, out);
    }
}

/// `-o, --output <OUT>`, `<RUN_DIR>`, `[FILTER]`.
fn arg_spelling(a: &Arg) -> String {
    let values: Vec<String> = a
        .get_value_names()
        .map(|v| v.iter().map(|n| n.to_string()).collect())
        .unwrap_or_else(|| vec![a.get_id().to_string().to_uppercase()]);
    let takes_value = matches!(a.get_action(), ArgAction::Set | ArgAction::Append);
    let value = values
        .iter()
        .map(|v| format!("<{v}>"))
        .collect::<Vec<_>>()
        .join(" ");
    let many = if matches!(a.get_action(), ArgAction::Append)
        || a.get_num_args().is_some_and(|n| n.max_values() > 1)
    {
        "…"
    } else {
        ""
    };
    if a.is_positional() {
        let bare = values.join(" ");
        return if a.is_required_set() {
            format!("<{bare}>{many}")
        } else {
            format!("[{bare}]{many}")
        };
    }
    let mut names = Vec::new();
    if let Some(s) = a.get_short() {
        names.push(format!("-{s}"));
    }
    if let Some(l) = a.get_long() {
        names.push(format!("--{l}"));
    }
    let mut s = names.join(", ");
    if takes_value {
        s.push(' ');
        s.push_str(&value);
        s.push_str(many);
    }
    s
}

fn arg_help(a: &Arg) -> String {
    let mut s = a
        .get_long_help()
        .or(a.get_help())
        .map(|h| one_line(&h.to_string()))
        .unwrap_or_default();
    let possible: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|p| !p.is_hide_set())
        .map(|p| p.get_name().to_string())
        .collect();
    if !possible.is_empty() && !matches!(a.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
        let _ = write!(s, " [possible values: {}]", possible.join(", "));
    }
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty()
        && !matches!(a.get_action(), ArgAction::SetTrue | ArgAction::SetFalse)
        && !s.contains("[default:")
    {
        let _ = write!(s, " [default: {}]", defaults.join(", "));
    }
    s.trim().to_string()
}

/// Help text on one Markdown line: paragraphs joined, `|` and backticks left as written.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The README block `requirements`: what each case needs at run time, from the catalog's
/// declared requirements (`cases::Requirements`), and the tools with the cases that need them.
pub fn readme_requirements() -> String {
    let mut out = String::new();
    let mut by_tool: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    out.push_str("| case | root | live system only | programs on PATH |\n|---|---|---|---|\n");
    for case in cases::catalog() {
        let info = case.info();
        let r = &info.requirements;
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            info.name,
            if r.root { "yes" } else { "no" },
            if r.live { "yes" } else { "no" },
            if r.tools.is_empty() {
                "—".to_string()
            } else {
                r.tools
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        for t in &r.tools {
            by_tool
                .entry(t.clone())
                .or_default()
                .push(info.name.clone());
        }
    }
    out.push('\n');
    if by_tool.is_empty() {
        out.push_str("No case runs another program.\n");
    } else {
        out.push_str("Programs the cases run (all optional: a case whose program is missing is skipped with that reason):\n\n");
        for (tool, users) in &by_tool {
            let _ = writeln!(
                out,
                "- `{tool}`: {}",
                users
                    .iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    out
}

/// The markers around a generated block named `name` in the README.
fn markers(name: &str) -> (String, String) {
    (
        format!("<!-- BEGIN generated {name}: `./dev.sh docs` writes this block, do not edit -->"),
        format!("<!-- END generated {name} -->"),
    )
}

/// `readme` with its block `name` replaced by `body`. An error if the block's markers are
/// missing, doubled or out of order.
pub fn splice(readme: &str, name: &str, body: &str) -> Result<String> {
    let (begin, end) = markers(name);
    let (Some(b), Some(e)) = (readme.find(&begin), readme.find(&end)) else {
        bail!("the README has no generated block {name} ({begin} … {end})");
    };
    if readme.matches(&begin).count() != 1 || readme.matches(&end).count() != 1 || e < b {
        bail!("the README's generated block {name} is not one BEGIN followed by one END");
    }
    let head = &readme[..b + begin.len()];
    let tail = &readme[e..];
    Ok(format!("{head}\n\n{}\n{tail}", body.trim_end()))
}

/// `readme` with every generated block made again from `cmd` and the catalog.
pub fn refresh_readme(readme: &str, cmd: &Command) -> Result<String> {
    let s = splice(readme, "options", &readme_options(cmd))?;
    splice(&s, "requirements", &readme_requirements())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Command {
        Command::new("tool")
            .version("1.2")
            .about("A tool")
            .subcommand(
                Command::new("go")
                    .about("Go somewhere.")
                    .long_about("Go somewhere.\n\nLonger text.")
                    .arg(Arg::new("to").value_name("DIR").required(true))
                    .arg(
                        Arg::new("speed")
                            .long("speed")
                            .short('s')
                            .value_name("N")
                            .default_value("3")
                            .help("How fast"),
                    )
                    .arg(
                        Arg::new("quiet")
                            .long("quiet")
                            .action(ArgAction::SetTrue)
                            .help("No output"),
                    ),
            )
            .subcommand(Command::new("secret").hide(true))
            .subcommand(
                Command::new("db")
                    .about("The db")
                    .subcommand(Command::new("add").about("Add one")),
            )
    }

    #[test]
    fn man_pages_cover_visible_subcommands_nested_and_not_hidden() {
        let pages = man_pages(&sample()).expect("render");
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["tool.1", "tool-go.1", "tool-db.1", "tool-db-add.1"]);
        let go = String::from_utf8(pages[1].1.clone()).expect("utf-8");
        assert!(go.contains("\\-\\-speed"), "{go}");
        assert!(go.contains("tool 1.2"), "{go}");
    }

    #[test]
    fn options_block_lists_usage_options_defaults() {
        let md = readme_options(&sample());
        assert!(md.contains("#### `tool go`\n\nGo somewhere.\n"), "{md}");
        assert!(
            md.contains("- `-s, --speed <N>`: How fast [default: 3]"),
            "{md}"
        );
        assert!(md.contains("- `--quiet`: No output\n"), "{md}");
        assert!(md.contains("- `<DIR>`"), "{md}");
        assert!(md.contains("```text\ntool go [OPTIONS] <DIR>\n```"), "{md}");
        assert!(md.contains("#### `tool db add`"), "{md}");
        assert!(!md.contains("secret"), "{md}");
        assert!(!md.contains("#### `tool db`\n"), "{md}");
    }

    #[test]
    fn splice_replaces_only_the_block() {
        let (b, e) = markers("options");
        let readme = format!("# T\n\n{b}\nold\n{e}\n\nafter\n");
        let s = splice(&readme, "options", "new\n").expect("splice");
        assert_eq!(s, format!("# T\n\n{b}\n\nnew\n{e}\n\nafter\n"));
        // Idempotent.
        assert_eq!(splice(&s, "options", "new\n").expect("again"), s);
    }

    #[test]
    fn splice_refuses_missing_doubled_or_reversed_markers() {
        let (b, e) = markers("options");
        for bad in [
            String::new(),
            format!("{b}\nx\n"),
            format!("x\n{e}\n"),
            format!("{e}\nx\n{b}\n"),
            format!("{b}\n{b}\n{e}\n"),
        ] {
            assert!(splice(&bad, "options", "y").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn requirements_block_lists_every_case_and_its_tools() {
        let md = readme_requirements();
        for case in cases::catalog() {
            let info = case.info();
            assert!(md.contains(&format!("| `{}` |", info.name)), "{md}");
            for t in &info.requirements.tools {
                assert!(md.contains(&format!("- `{t}`: ")), "{md}");
            }
        }
    }

    #[test]
    fn completions_name_the_subcommands() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let s = String::from_utf8(completions(&sample(), shell)).expect("utf-8");
            assert!(s.contains("speed"), "{shell}: {s}");
            assert!(s.contains("db"), "{shell}: {s}");
        }
    }
}
